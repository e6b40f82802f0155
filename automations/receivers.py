"""A version going Live archives the version it replaces (SPEC §3)."""

from typing import Any

from django_fsm.signals import post_transition

from .models import AutomationVersion
from .services import automation_version_archive_previous


def on_version_transition(
    sender: type, instance: AutomationVersion, name: str, **kwargs: Any
) -> None:
    if name == "deploy":
        automation_version_archive_previous(version=instance, ctx=kwargs["method_kwargs"]["ctx"])


def connect() -> None:
    post_transition.connect(
        on_version_transition,
        sender=AutomationVersion,
        dispatch_uid="automations.archive_previous",
    )
