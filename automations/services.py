"""Writes of the automations app other than the deploy itself (see deploy.py)."""

from __future__ import annotations

import dataclasses

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

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
from .signals import version_approved

STAGING_PERMISSIONS = (PERM_MARK_READY, PERM_RESTAGE)


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


def _denied() -> ServiceError:
    return ServiceError(
        ErrorCode.PERMISSION_DENIED, "You do not have permission to stage versions."
    )


def automation_version_stage(
    *, version_id: int, actor: User | None, source: str
) -> AutomationVersion:
    """Bring a version to Ready to Launch, choosing under the row lock how:

    - Draft → Ready to Launch (mark ready: the build finished; needs a workflow binding);
    - Error → Ready to Launch (retry after fixing the cause);
    - Archived → Ready to Launch (roll back: re-stage an old version, then deploy it).
    """
    # Before the lookup, so that an unknown id and a known one answer alike.
    if actor is not None and not any(actor.has_perm(p) for p in STAGING_PERMISSIONS):
        raise _denied()
    with transaction.atomic(durable=True):
        version = version_lock(version_id=version_id)
        ctx = TransitionContext(actor=actor, origin=source)
        if version.status == VersionStatus.DRAFT:
            if actor is not None and not actor.has_perm(PERM_MARK_READY):
                raise _denied()
            if version.binding_or_none() is None:
                raise ServiceError(
                    ErrorCode.NO_WORKFLOW_BINDING,
                    f"Version {version.version} has no workflow binding: the build must "
                    "complete first.",
                )
            version.mark_ready(ctx=ctx)
        elif version.status in (VersionStatus.ERROR, VersionStatus.ARCHIVED):
            if actor is not None and not actor.has_perm(PERM_RESTAGE):
                raise _denied()
            version.restage(ctx=ctx)
            # A new attempt: should WRK run its workflow while it is in Error again, that
            # is a new episode to report.
            WorkflowBinding.objects.filter(automation_version_id=version.pk).update(
                active_in_error_reported_at=None
            )
        else:
            raise ServiceError(
                ErrorCode.INVALID_TRANSITION,
                f"Version {version.version} is '{version.status}': only a Draft (with its "
                "build finished), an Error or an Archived version can be staged to 'Ready "
                "to Launch'.",
            )
        version.save(update_fields=["status", "updated_at"])
    return version


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
        version_approved.send(sender=AutomationVersion, version=version, actor=actor, source=source)
    return version


def workflow_binding_create(
    *, version: AutomationVersion, workflow_id: str, status: str = BindingStatus.PENDING
) -> WorkflowBinding:
    """Record the WRK workflow that a finished build produced for `version`."""
    return WorkflowBinding.objects.create(
        automation_version=version, workflow_id=workflow_id, status=status
    )
