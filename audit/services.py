"""Writes of the audit trail. They run inside the transaction of the change they record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User

from .models import ActionType, AuditLog

if TYPE_CHECKING:
    from automations.models import AutomationVersion, TransitionContext, WorkflowBinding
    from monitoring.models import Incident


def audit_log_create(
    *,
    actor: User | None,
    action_type: ActionType,
    resource_type: str,
    resource_id: int | str,
    project_id: int | None,
    metadata: dict[str, Any],
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        action_type=action_type,
        resource_type=resource_type,
        resource_id=str(resource_id),
        project_id=project_id,
        metadata=metadata,
    )


def audit_record_version_transition(
    *,
    version: AutomationVersion,
    action_type: ActionType,
    source: str,
    target: str,
    ctx: TransitionContext,
) -> AuditLog:
    binding = version.binding_or_none()
    metadata: dict[str, Any] = {
        "version": version.version,
        "from_status": source,
        "to_status": target,
        "workflow_id": binding.workflow_id if binding is not None else None,
        "source": ctx.origin,
    }
    if ctx.deployment is not None:
        metadata["deployment_id"] = ctx.deployment.pk
        metadata["attempts"] = ctx.attempts
    if ctx.error:
        metadata["error"] = ctx.error
    if ctx.previous is not None:
        metadata["archived_version_id"] = ctx.previous.pk
    if action_type == ActionType.RESTAGE:
        metadata["rollback"] = source == "Archived"
    metadata.update(ctx.extra)
    return audit_log_create(
        actor=ctx.actor,
        action_type=action_type,
        resource_type="automation_version",
        resource_id=version.pk,
        project_id=version.project_id,
        metadata=metadata,
    )


def audit_record_binding_event(
    *, binding: WorkflowBinding, action_type: ActionType, details: dict[str, Any]
) -> AuditLog:
    """A workflow's deactivation (or its failure), or WRK found running it unasked."""
    version = binding.automation_version
    metadata: dict[str, Any] = {
        "workflow_id": binding.workflow_id,
        "version_id": version.pk,
        "version": version.version,
        "source": details.get("origin"),
    }
    for key in ("attempts", "error", "already_inactive"):
        if key in details:
            metadata[key] = details[key]
    return audit_log_create(
        actor=details.get("actor"),
        action_type=action_type,
        resource_type="workflow_binding",
        resource_id=binding.pk,
        project_id=version.project_id,
        metadata=metadata,
    )


def audit_record_version_event(
    *,
    version: AutomationVersion,
    action_type: ActionType,
    actor: User | None,
    source: str,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """What happened to a version besides a transition: approve, revoke, register."""
    binding = version.binding_or_none()
    metadata: dict[str, Any] = {
        "version": version.version,
        "workflow_id": binding.workflow_id if binding is not None else None,
        "source": source,
        **(details or {}),
    }
    return audit_log_create(
        actor=actor,
        action_type=action_type,
        resource_type="automation_version",
        resource_id=version.pk,
        project_id=version.project_id,
        metadata=metadata,
    )


def audit_record_incident(*, incident: Incident, action_type: ActionType) -> AuditLog:
    """A monitoring incident opened (failing streak or drift) or resolved, by the system."""
    binding = incident.binding
    version = binding.automation_version
    metadata: dict[str, Any] = {
        "incident_id": incident.pk,
        "kind": incident.kind,
        "workflow_id": binding.workflow_id,
        "version_id": version.pk,
        "version": version.version,
        "detail": incident.detail,
    }
    if incident.failure_count:
        metadata["failure_count"] = incident.failure_count
    if incident.last_error:
        metadata["last_error"] = incident.last_error
    if incident.resolved_at is not None:
        metadata["resolution"] = incident.resolution
    return audit_log_create(
        actor=None,
        action_type=action_type,
        resource_type="incident",
        resource_id=incident.pk,
        project_id=version.project_id,
        metadata=metadata,
    )
