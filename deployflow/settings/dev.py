"""The demo: SQLite by default, DEBUG on, console email."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=True)
