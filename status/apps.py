from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "status"
    verbose_name = "Status pages"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
