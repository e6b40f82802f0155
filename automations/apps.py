from django.apps import AppConfig
from django.core import checks


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Automations"

    def ready(self) -> None:
        from . import receivers
        from .checks import check_deploy_stale_after

        receivers.connect()
        checks.register(check_deploy_stale_after)
