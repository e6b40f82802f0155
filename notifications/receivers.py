"""What the core reports is queued for notification in the transaction that records it."""

from typing import Any

from automations import signals
from automations.models import AutomationVersion, TransitionContext, WorkflowBinding
from monitoring import signals as monitoring_signals
from monitoring.models import Incident

from .incidents import notifications_incident_opened, notifications_incident_resolved
from .services import (
    notifications_active_in_error,
    notifications_approval_requested,
    notifications_deactivation_failed,
    notifications_deactivation_resolved,
    notifications_deploy_failed,
    notifications_deploy_succeeded,
)


def on_version_deployed(
    sender: type, version: AutomationVersion, ctx: TransitionContext, **kwargs: Any
) -> None:
    notifications_deploy_succeeded(version=version, ctx=ctx)


def on_version_deploy_failed(
    sender: type, version: AutomationVersion, ctx: TransitionContext, **kwargs: Any
) -> None:
    notifications_deploy_failed(version=version, ctx=ctx)


def on_version_ready(
    sender: type, version: AutomationVersion, ctx: TransitionContext, **kwargs: Any
) -> None:
    notifications_approval_requested(version=version, ctx=ctx)


def on_deactivation_incident_opened(
    sender: type, binding: WorkflowBinding, actor: Any, error: str, **kwargs: Any
) -> None:
    notifications_deactivation_failed(binding=binding, actor=actor, error=error)


def on_deactivation_incident_resolved(
    sender: type, binding: WorkflowBinding, actor: Any, how: str, **kwargs: Any
) -> None:
    notifications_deactivation_resolved(binding=binding, actor=actor, how=how)


def on_workflow_active_in_error(sender: type, binding: WorkflowBinding, **kwargs: Any) -> None:
    notifications_active_in_error(binding=binding)


def on_incident_opened(sender: type, incident: Incident, **kwargs: Any) -> None:
    notifications_incident_opened(incident=incident)


def on_incident_resolved(sender: type, incident: Incident, **kwargs: Any) -> None:
    notifications_incident_resolved(incident=incident)


def connect() -> None:
    signals.version_deployed.connect(
        on_version_deployed, sender=AutomationVersion, dispatch_uid="notifications.deployed"
    )
    signals.version_deploy_failed.connect(
        on_version_deploy_failed,
        sender=AutomationVersion,
        dispatch_uid="notifications.deploy_failed",
    )
    # Marked ready (Draft) or staged again (retry, rollback): Ready to Launch either way.
    for signal in (signals.version_marked_ready, signals.version_restaged):
        signal.connect(
            on_version_ready,
            sender=AutomationVersion,
            dispatch_uid="notifications.approval_requested",
        )
    signals.workflow_deactivation_incident_opened.connect(
        on_deactivation_incident_opened,
        sender=WorkflowBinding,
        dispatch_uid="notifications.deactivation_failed",
    )
    signals.workflow_deactivation_incident_resolved.connect(
        on_deactivation_incident_resolved,
        sender=WorkflowBinding,
        dispatch_uid="notifications.deactivation_resolved",
    )
    signals.workflow_active_in_error.connect(
        on_workflow_active_in_error,
        sender=WorkflowBinding,
        dispatch_uid="notifications.active_in_error",
    )
    monitoring_signals.incident_opened.connect(
        on_incident_opened, sender=Incident, dispatch_uid="notifications.incident_opened"
    )
    monitoring_signals.incident_resolved.connect(
        on_incident_resolved, sender=Incident, dispatch_uid="notifications.incident_resolved"
    )
