"""Writes of the automations app other than the deploy itself (see deploy.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from audit.models import ActionType
from audit.services import audit_log_create

from .errors import ErrorCode, ServiceError
from .models import (
    PERM_APPROVE,
    PERM_MARK_READY,
    PERM_RESTAGE,
    AutomationVersion,
    BindingStatus,
    TransitionContext,
    VersionStatus,
    WorkflowBinding,
)
from .selectors import version_lock


def automation_version_archive_previous(
    *, version: AutomationVersion, ctx: TransitionContext
) -> AutomationVersion | None:
    """Archive the Live version that `version` replaces; called as `version` goes Live."""
    previous = ctx.previous
    if previous is None:
        return None
    previous.archive(
        ctx=dataclasses.replace(
            ctx, previous=None, extra={**ctx.extra, "replaced_by_version_id": version.pk}
        )
    )
    previous.save(update_fields=["status", "updated_at"])
    return previous


def _run_transition(
    *,
    version_id: int,
    actor: User | None,
    source: str,
    permission: str,
    pick: Callable[[AutomationVersion], Callable[..., None]],
    refusal: Callable[[AutomationVersion], ServiceError],
) -> AutomationVersion:
    if actor is not None and not actor.has_perm(permission):
        raise ServiceError(ErrorCode.PERMISSION_DENIED, "You do not have permission to do this.")
    with transaction.atomic(durable=True):
        version = version_lock(version_id=version_id)
        method = pick(version)
        if not can_proceed(method):
            raise refusal(version)
        if actor is not None and not has_transition_perm(method, actor):
            raise ServiceError(
                ErrorCode.PERMISSION_DENIED, "You do not have permission to do this."
            )
        method(ctx=TransitionContext(actor=actor, origin=source))
        version.save(update_fields=["status", "updated_at"])
    return version


def automation_version_mark_ready(
    *, version_id: int, actor: User | None, source: str
) -> AutomationVersion:
    """The build finished: Draft → Ready to Launch (needs a workflow binding)."""

    def refusal(version: AutomationVersion) -> ServiceError:
        if version.status != VersionStatus.DRAFT:
            return ServiceError(
                ErrorCode.INVALID_TRANSITION,
                f"Only a Draft version can be marked Ready to Launch; {version.version} is "
                f"'{version.status}'.",
            )
        return ServiceError(
            ErrorCode.NO_WORKFLOW_BINDING,
            f"Version {version.version} has no workflow binding: the build must complete first.",
        )

    return _run_transition(
        version_id=version_id,
        actor=actor,
        source=source,
        permission=PERM_MARK_READY,
        pick=lambda v: v.mark_ready,
        refusal=refusal,
    )


def automation_version_restage(
    *, version_id: int, actor: User | None, source: str
) -> AutomationVersion:
    """Error → Ready to Launch (retry) or Archived → Ready to Launch (roll back)."""

    def refusal(version: AutomationVersion) -> ServiceError:
        return ServiceError(
            ErrorCode.INVALID_TRANSITION,
            f"Only a version in Error or Archived can be re-staged; {version.version} is "
            f"'{version.status}'.",
        )

    return _run_transition(
        version_id=version_id,
        actor=actor,
        source=source,
        permission=PERM_RESTAGE,
        pick=lambda v: v.restage,
        refusal=refusal,
    )


def automation_version_approve(*, version_id: int, actor: User, source: str) -> AutomationVersion:
    """The second pair of eyes of SPEC §4.3: approve a Ready to Launch version."""
    if not actor.has_perm(PERM_APPROVE):
        raise ServiceError(
            ErrorCode.PERMISSION_DENIED, "You do not have permission to approve deploys."
        )
    with transaction.atomic(durable=True):
        version = version_lock(version_id=version_id)
        if version.status != VersionStatus.READY:
            raise ServiceError(
                ErrorCode.INVALID_TRANSITION,
                f"Only a version in 'Ready to Launch' can be approved; {version.version} is "
                f"'{version.status}'.",
            )
        if version.approved_by_id == actor.pk:
            return version
        version.approved_by = actor
        version.approved_at = timezone.now()
        version.save(update_fields=["approved_by", "approved_at", "updated_at"])
        audit_log_create(
            actor=actor,
            action_type=ActionType.APPROVE,
            resource_type="automation_version",
            resource_id=version.pk,
            project_id=version.project_id,
            metadata={"version": version.version, "source": source},
        )
    return version


def workflow_binding_create(
    *, version: AutomationVersion, workflow_id: str, status: str = BindingStatus.PENDING
) -> WorkflowBinding:
    """Record the WRK workflow that a finished build produced for `version`."""
    return WorkflowBinding.objects.create(
        automation_version=version, workflow_id=workflow_id, status=status
    )
