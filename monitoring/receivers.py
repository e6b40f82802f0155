"""Monitoring follows the core's lifecycle: it starts when a version goes Live and stops
when WRK confirms the deactivation of an archived version's workflow."""

from typing import Any

from automations import signals
from automations.models import (
    AutomationVersion,
    BindingStatus,
    TransitionContext,
    WorkflowBinding,
)

from .services import monitor_start, monitor_stop


def on_version_deployed(
    sender: type, version: AutomationVersion, ctx: TransitionContext, **kwargs: Any
) -> None:
    monitor_start(binding_id=version.workflow_binding.pk)


def on_workflow_deactivated(sender: type, binding: WorkflowBinding, **kwargs: Any) -> None:
    # The deactivation leaves a version rolled back to Live meanwhile `active`: still watched.
    if binding.status == BindingStatus.INACTIVE:
        monitor_stop(
            binding_id=binding.pk,
            reason="Monitoring stopped: the version was archived and WRK deactivated its workflow.",
        )


def connect() -> None:
    signals.version_deployed.connect(
        on_version_deployed, sender=AutomationVersion, dispatch_uid="monitoring.start"
    )
    signals.workflow_deactivated.connect(
        on_workflow_deactivated, sender=WorkflowBinding, dispatch_uid="monitoring.stop"
    )
