"""The demo: SQLite by default, DEBUG on, console email."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=True)

# Dev-only: the stand-in WRK (`manage.py fake_wrk`) and the demo seed (`manage.py seed_demo`).
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # noqa: F405
