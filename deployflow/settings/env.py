"""Typed readers for the environment variables of SPEC §6.

Every variable may instead come from a file named by NAME_FILE (Docker and Kubernetes
secrets, systemd credentials), so that a secret need not sit in the process environment,
which `ps e`, /proc and crash reports show. Both set at once is refused: which one wins
would be a guess.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_raw(name: str) -> str | None:
    """The value of `name`, or the contents of the file `name`_FILE names, or None."""
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if path is None:
        return value
    if value is not None:
        raise ImproperlyConfigured(f"Both {name} and {name}_FILE are set; set only one of them.")
    try:
        # Files written by `echo` or an editor end with a newline that is no part of the secret.
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{name}_FILE={path!r} cannot be read: {exc.strerror}."
        ) from None


def env_str(name: str, default: str = "") -> str:
    value = env_raw(name)
    return default if value is None else value


def env_bool(name: str, *, default: bool) -> bool:
    raw = env_raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no.")


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    raw = env_raw(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_float(name: str, *, default: float, minimum: float | None = None) -> float:
    raw = env_raw(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_list(name: str) -> list[str]:
    return [item.strip() for item in env_str(name).split(",") if item.strip()]


def env_required(name: str) -> str:
    value = env_str(name).strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set in production (or {name}_FILE, naming a file that holds it)."
        )
    return value
