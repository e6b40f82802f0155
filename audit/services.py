"""Writes of the audit trail. Callers run them inside the transaction of the change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User

from .models import ActionType, AuditLog

if TYPE_CHECKING:
    from automations.models import AutomationVersion, TransitionContext

# django-fsm transition name → audit action of SPEC §2.
TRANSITION_ACTIONS = {
    "deploy": ActionType.DEPLOY,
    "fail": ActionType.DEPLOY_FAILED,
    "archive": ActionType.ARCHIVE,
    "restage": ActionType.RESTAGE,
    "mark_ready": ActionType.MARK_READY,
}


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
    *, version: AutomationVersion, name: str, source: str, target: str, ctx: TransitionContext
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
    if name == "deploy" and ctx.previous is not None:
        metadata["archived_version_id"] = ctx.previous.pk
    if name == "restage":
        metadata["rollback"] = source == "Archived"
    metadata.update(ctx.extra)
    return audit_log_create(
        actor=ctx.actor,
        action_type=TRANSITION_ACTIONS[name],
        resource_type="automation_version",
        resource_id=version.pk,
        project_id=version.project_id,
        metadata=metadata,
    )
