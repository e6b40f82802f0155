from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Dev-only: the stand-in WRK Platform and the demo seed. Only the dev and test settings
    install this app; production code never imports it (an import-linter contract)."""

    name = "devtools"
    verbose_name = "Development tools"
