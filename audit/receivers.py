"""Everything the core reports is audited, in the transaction of the change."""

from functools import partial
from typing import Any

from django.dispatch import Signal

from automations import signals
from automations.models import AutomationVersion, TransitionContext, WorkflowBinding
from monitoring import signals as monitoring_signals
from monitoring.models import Incident, IncidentKind

from .models import ActionType
from .services import (
    audit_record_binding_event,
    audit_record_incident,
    audit_record_version_event,
    audit_record_version_transition,
)

TRANSITIONS: list[tuple[Signal, ActionType]] = [
    (signals.version_marked_ready, ActionType.MARK_READY),
    (signals.version_deployed, ActionType.DEPLOY),
    (signals.version_deploy_failed, ActionType.DEPLOY_FAILED),
    (signals.version_archived, ActionType.ARCHIVE),
    (signals.version_restaged, ActionType.RESTAGE),
]
BINDING_EVENTS: list[tuple[Signal, ActionType]] = [
    (signals.workflow_deactivated, ActionType.DEACTIVATE),
    (signals.workflow_deactivation_failed, ActionType.DEACTIVATE_FAILED),
    (signals.workflow_active_in_error, ActionType.ACTIVE_IN_ERROR),
]


def on_version_transition(
    sender: type,
    version: AutomationVersion,
    source: str,
    target: str,
    ctx: TransitionContext,
    action_type: ActionType,
    **kwargs: Any,
) -> None:
    audit_record_version_transition(
        version=version, action_type=action_type, source=source, target=target, ctx=ctx
    )


def on_binding_event(
    sender: type, binding: WorkflowBinding, action_type: ActionType, **kwargs: Any
) -> None:
    audit_record_binding_event(binding=binding, action_type=action_type, details=kwargs)


VERSION_EVENTS: list[tuple[Signal, ActionType]] = [
    (signals.version_approved, ActionType.APPROVE),
    (signals.version_approval_revoked, ActionType.REVOKE_APPROVAL),
    (signals.version_registered, ActionType.REGISTER),
]


def on_version_event(
    sender: type,
    version: AutomationVersion,
    actor: Any,
    source: str,
    action_type: ActionType,
    **kwargs: Any,
) -> None:
    details = {key: kwargs[key] for key in ("approved_by",) if key in kwargs}
    audit_record_version_event(
        version=version, action_type=action_type, actor=actor, source=source, details=details
    )


def on_incident_opened(sender: type, incident: Incident, **kwargs: Any) -> None:
    action = (
        ActionType.DRIFT_DETECTED
        if incident.kind == IncidentKind.DRIFT
        else ActionType.INCIDENT_OPENED
    )
    audit_record_incident(incident=incident, action_type=action)


def on_incident_resolved(sender: type, incident: Incident, **kwargs: Any) -> None:
    audit_record_incident(incident=incident, action_type=ActionType.INCIDENT_RESOLVED)


def connect() -> None:
    for signal, action_type in TRANSITIONS:
        signal.connect(
            partial(on_version_transition, action_type=action_type),
            sender=AutomationVersion,
            weak=False,
            dispatch_uid=f"audit.{action_type}",
        )
    for signal, action_type in BINDING_EVENTS:
        signal.connect(
            partial(on_binding_event, action_type=action_type),
            sender=WorkflowBinding,
            weak=False,
            dispatch_uid=f"audit.{action_type}",
        )
    for signal, action_type in VERSION_EVENTS:
        signal.connect(
            partial(on_version_event, action_type=action_type),
            sender=AutomationVersion,
            weak=False,
            dispatch_uid=f"audit.{action_type}",
        )
    monitoring_signals.incident_opened.connect(
        on_incident_opened, sender=Incident, dispatch_uid="audit.incident_opened"
    )
    monitoring_signals.incident_resolved.connect(
        on_incident_resolved, sender=Incident, dispatch_uid="audit.incident_resolved"
    )
