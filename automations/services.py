"""Writes of the automations app other than the deploy itself (see deploy.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from .errors import ErrorCode, ServiceError
from .models import (
    PERM_ADD,
    PERM_APPROVE,
    PERM_MARK_READY,
    PERM_RESTAGE,
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    Project,
    TransitionContext,
    VersionStatus,
    WorkflowBinding,
)
from .selectors import version_lock
from .signals import version_approval_revoked, version_approved, version_registered

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


def _require_approver(actor: User) -> None:
    if not actor.has_perm(PERM_APPROVE):
        raise ServiceError(
            ErrorCode.PERMISSION_DENIED, "You do not have permission to approve deploys."
        )


def self_approval_refused(*, version: AutomationVersion, actor: User) -> bool:
    """DEPLOY_PREVENT_SELF_APPROVAL: the version's author may not approve it, as a protected
    environment's reviewers may not approve their own deployment."""
    return bool(settings.DEPLOY_PREVENT_SELF_APPROVAL) and version.created_by_id == actor.pk


def approval_refusal(*, version: AutomationVersion, actor: User) -> ServiceError | None:
    """Why `actor` may not approve `version` now, if they may not (permission aside): the
    service's rule under its lock, and the confirmation page's."""
    if version.status != VersionStatus.READY:
        return ServiceError(
            ErrorCode.INVALID_TRANSITION,
            f"Only a version in 'Ready to Launch' can be approved; {version.version} is "
            f"'{version.status}'.",
        )
    if self_approval_refused(version=version, actor=actor):
        return ServiceError(
            ErrorCode.SELF_APPROVAL,
            f"You registered {version.version}: another ops user must approve it.",
        )
    return None


def automation_version_approve(*, version_id: int, actor: User, source: str) -> AutomationVersion:
    """The second pair of eyes of SPEC §4.3: approve a Ready to Launch version. Approving an
    approved version changes nothing: the first approval stands (and with it the rule that
    its approver may not deploy)."""
    _require_approver(actor)
    with transaction.atomic(durable=True):
        version = version_lock(version_id=version_id)
        if refusal := approval_refusal(version=version, actor=actor):
            raise refusal
        if version.approved_by_id is not None:
            return version
        version.approved_by = actor
        version.approved_at = timezone.now()
        version.save(update_fields=["approved_by", "approved_at", "updated_at"])
        version_approved.send(sender=AutomationVersion, version=version, actor=actor, source=source)
    return version


def automation_version_revoke_approval(
    *, version_id: int, actor: User, source: str
) -> AutomationVersion:
    """Withdraw a version's approval, so that it needs a new one before it deploys.

    Any user who may approve may revoke (the approver, or another approver who disagrees):
    revoking only ever stops a deploy. A version without an approval is left as it is.
    """
    _require_approver(actor)
    with transaction.atomic(durable=True):
        version = version_lock(version_id=version_id)
        if version.approved_by_id is None:
            return version
        if Deployment.objects.filter(
            automation_version_id=version.pk, status=DeploymentStatus.IN_PROGRESS
        ).exists():
            # Its claim checked the approval already; revoking now would not stop it.
            raise ServiceError(
                ErrorCode.DEPLOY_IN_PROGRESS,
                f"{version.version} is being deployed with this approval; wait for the "
                "deploy to finish, then revoke.",
            )
        approver = version.approved_by
        version.approved_by = None
        version.approved_at = None
        version.save(update_fields=["approved_by", "approved_at", "updated_at"])
        version_approval_revoked.send(
            sender=AutomationVersion,
            version=version,
            actor=actor,
            source=source,
            approved_by=approver.get_username() if approver is not None else None,
        )
    return version


@dataclass(frozen=True, slots=True)
class Registration:
    version: AutomationVersion
    # False: the same registration again (or the build's workflow for a version that ops
    # added before the build finished).
    created: bool


def automation_version_register(
    *, project_id: int, label: str, workflow_id: str | None, actor: User | None, source: str
) -> Registration:
    """A finished build registers its version with its workflow (Draft, binding `pending`);
    ops may add one before the build finishes, without a workflow.

    Idempotent: the same project, label and workflow again returns the version as it is.
    The same label with another workflow is refused (`version_exists`), as is a workflow
    that already serves another version (`workflow_in_use`).
    """
    if actor is not None and not actor.has_perm(PERM_ADD):
        raise ServiceError(
            ErrorCode.PERMISSION_DENIED, "You do not have permission to register versions."
        )
    try:
        with transaction.atomic(durable=True):
            # Locking the project serialises its registrations: of two identical requests
            # at once, the second finds the first one's version.
            project = Project.objects.select_for_update().filter(pk=project_id).first()
            if project is None:
                raise ServiceError(
                    ErrorCode.UNKNOWN_PROJECT, f"Project {project_id} does not exist."
                )
            version = (
                AutomationVersion.objects.select_related("project__client", "workflow_binding")
                .filter(project=project, version=label)
                .first()
            )
            created = version is None
            if version is None:
                version = AutomationVersion.objects.create(
                    project=project, version=label, created_by=actor
                )
            elif not _same_registration(version, workflow_id):
                raise ServiceError(
                    ErrorCode.VERSION_EXISTS,
                    f"{project.name} already has a version {label!r} with another workflow "
                    f"({_workflow_of(version)}); register the new build under a new label.",
                )
            elif version.binding_or_none() is not None or workflow_id is None:
                return Registration(version=version, created=False)
            if workflow_id is not None:
                version.workflow_binding = workflow_binding_create(
                    version=version, workflow_id=workflow_id
                )
            version_registered.send(
                sender=AutomationVersion, version=version, actor=actor, source=source
            )
    except IntegrityError as exc:
        if "workflow_id" not in str(exc):
            raise
        raise ServiceError(
            ErrorCode.WORKFLOW_IN_USE,
            f"Workflow {workflow_id} already serves another version: one WRK workflow "
            "serves one version.",
        ) from None
    return Registration(version=version, created=created)


def _workflow_of(version: AutomationVersion) -> str:
    binding = version.binding_or_none()
    return binding.workflow_id if binding is not None else "none yet"


def _same_registration(version: AutomationVersion, workflow_id: str | None) -> bool:
    """The registration repeats what the version has, or gives a Draft its first workflow."""
    binding = version.binding_or_none()
    if binding is None:
        return version.status == VersionStatus.DRAFT
    return workflow_id is None or binding.workflow_id == workflow_id


def workflow_binding_create(
    *, version: AutomationVersion, workflow_id: str, status: str = BindingStatus.PENDING
) -> WorkflowBinding:
    """Record the WRK workflow that a finished build produced for `version`."""
    return WorkflowBinding.objects.create(
        automation_version=version, workflow_id=workflow_id, status=status
    )
