"""django-fsm's `post_transition` becomes the core's own signal for that transition, and a
version going Live archives the version it replaces (SPEC §3).

The other apps listen to the signals of signals.py, never to `post_transition` itself, so
that none of them needs to know transitions by name.
"""

from typing import Any

from django.dispatch import Signal
from django_fsm.signals import post_transition

from . import signals
from .models import AutomationVersion, TransitionContext
from .services import automation_version_archive_previous

# Keyed by the transition methods' own names, so that renaming one fails here, at import.
TRANSITION_SIGNALS: dict[str, Signal] = {
    AutomationVersion.mark_ready.__name__: signals.version_marked_ready,
    AutomationVersion.deploy.__name__: signals.version_deployed,
    AutomationVersion.fail.__name__: signals.version_deploy_failed,
    AutomationVersion.archive.__name__: signals.version_archived,
    AutomationVersion.restage.__name__: signals.version_restaged,
}


def on_post_transition(
    sender: type, instance: AutomationVersion, name: str, source: str, target: str, **kwargs: Any
) -> None:
    ctx: TransitionContext = kwargs["method_kwargs"]["ctx"]
    TRANSITION_SIGNALS[name].send(
        sender=AutomationVersion, version=instance, source=source, target=target, ctx=ctx
    )


def on_version_deployed(
    sender: type, version: AutomationVersion, ctx: TransitionContext, **kwargs: Any
) -> None:
    automation_version_archive_previous(version=version, ctx=ctx)


def connect() -> None:
    post_transition.connect(
        on_post_transition, sender=AutomationVersion, dispatch_uid="automations.transitions"
    )
    signals.version_deployed.connect(
        on_version_deployed, sender=AutomationVersion, dispatch_uid="automations.archive"
    )
