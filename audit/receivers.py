"""Every transition of a version is audited in the transaction that saves it."""

from typing import Any

from django_fsm.signals import post_transition

from automations.models import AutomationVersion

from .services import audit_record_version_transition


def on_version_transition(
    sender: type, instance: AutomationVersion, name: str, source: str, target: str, **kwargs: Any
) -> None:
    audit_record_version_transition(
        version=instance,
        name=name,
        source=source,
        target=target,
        ctx=kwargs["method_kwargs"]["ctx"],
    )


def connect() -> None:
    post_transition.connect(
        on_version_transition, sender=AutomationVersion, dispatch_uid="audit.version_transition"
    )
