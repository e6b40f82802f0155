"""A deploy's outcome is queued for notification in the transaction that records it."""

from typing import Any

from django_fsm.signals import post_transition

from automations.models import AutomationVersion

from .services import notifications_for_version_transition


def on_version_transition(
    sender: type, instance: AutomationVersion, name: str, **kwargs: Any
) -> None:
    notifications_for_version_transition(
        version=instance, name=name, ctx=kwargs["method_kwargs"]["ctx"]
    )


def connect() -> None:
    post_transition.connect(
        on_version_transition,
        sender=AutomationVersion,
        dispatch_uid="notifications.version_transition",
    )
