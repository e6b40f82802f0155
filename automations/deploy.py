"""Flow 24, "Mark as Live / Deploy to Production" (SPEC §4).

The deploy runs in three short database transactions around the WRK calls, never across
them:

1. *claim*: re-validate the version under a row lock and insert the project's in-progress
   `Deployment`, whose partial unique constraint turns a concurrent deploy into 409;
2. WRK activation, with retries, outside any transaction;
3. *record*: in one transaction the version goes Live (or Error) through its django-fsm
   transition, whose receivers archive the previous version, write the audit row and queue
   the notifications; project and binding follow.

Then the previous workflow is deactivated and the deployment closed. The project stays
locked until then, so no other deploy can interleave with the deactivation. A process that
dies in between leaves an in-progress deployment that `reconcile` finishes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import has_transition_perm

from wrk_client import WrkError

from .deactivate import workflow_binding_deactivate
from .errors import ErrorCode, ServiceError
from .models import (
    PERM_DEPLOY,
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    Project,
    ProjectStatus,
    TransitionContext,
    VersionStatus,
    WorkflowBinding,
)
from .selectors import version_lock, version_lock_for_deploy, versions_lock_with_live
from .wrk_config import wrk_client

logger = logging.getLogger(__name__)

DEPLOY_LOCK_CONSTRAINT = "one_deploy_in_progress_per_project"


@dataclass(frozen=True, slots=True)
class DeployResult:
    version: AutomationVersion
    deployment: Deployment
    previous: AutomationVersion | None
    attempts: int
    deactivation: Literal["none", "ok", "failed"]
    deactivation_error: str = ""


def deploy_check(*, version: AutomationVersion) -> None:
    """SPEC §4.2: raise the 400 that applies, if any."""
    if version.status != VersionStatus.READY:
        raise ServiceError(
            ErrorCode.INVALID_TRANSITION,
            f"Only a version in 'Ready to Launch' can go Live; version {version.version} "
            f"is '{version.status}'.",
        )
    binding = version.binding_or_none()
    if binding is None:
        raise ServiceError(
            ErrorCode.NO_WORKFLOW_BINDING,
            f"Version {version.version} has no workflow binding: the build must complete first.",
        )
    if binding.status == BindingStatus.ERROR:
        raise ServiceError(
            ErrorCode.WORKFLOW_BINDING_ERROR,
            f"The workflow binding {binding.workflow_id} is in error: fix the build, then "
            "deploy again.",
        )


def deploy_check_approval(*, version: AutomationVersion, actor: User | None) -> None:
    """SPEC §4.3: with DEPLOY_REQUIRE_APPROVAL, a second ops user must have approved."""
    if not settings.DEPLOY_REQUIRE_APPROVAL:
        return
    if version.approved_by_id is None:
        raise ServiceError(
            ErrorCode.APPROVAL_REQUIRED,
            f"Version {version.version} needs the approval of a second ops user before it "
            "can go Live.",
        )
    if actor is not None and version.approved_by_id == actor.pk:
        raise ServiceError(
            ErrorCode.APPROVAL_REQUIRED,
            "You approved this version yourself: another ops user must deploy it (four eyes).",
        )


def deploy_require_permission(*, actor: User | None) -> None:
    if actor is not None and not actor.has_perm(PERM_DEPLOY):
        raise ServiceError(
            ErrorCode.PERMISSION_DENIED, "You do not have permission to deploy to production."
        )


def automation_version_deploy(*, version_id: int, actor: User | None, source: str) -> DeployResult:
    """Deploy a version. `actor` None is the system (a command run without --user)."""
    deploy_require_permission(actor=actor)
    deployment = _claim(version_id=version_id, actor=actor, source=source)
    workflow_id = deployment.workflow_id

    try:
        state = wrk_client().activate(workflow_id)
    except WrkError as exc:
        error = (
            f"WRK did not activate workflow {workflow_id} after {exc.attempts} "
            f"attempt(s): {exc.message}"
        )
        logger.error("Deploy of version %s failed: %s", version_id, error)
        deployment_record_failure(deployment=deployment, attempts=exc.attempts, error=error)
        raise ServiceError(ErrorCode.ACTIVATION_FAILED, error) from exc

    try:
        version, previous = deployment_record_success(
            deployment=deployment, attempts=state.attempts
        )
    except Exception as exc:
        logger.exception("Deploy of version %s: WRK activated but recording failed", version_id)
        raise ServiceError(
            ErrorCode.DEPLOY_INCOMPLETE,
            f"WRK activated workflow {workflow_id} but the deploy could not be "
            f"recorded ({exc}); `manage.py reconcile` will finish it.",
        ) from exc

    def close() -> None:
        deployment_close(deployment=deployment, attempts=state.attempts, previous=previous)

    outcome: Literal["none", "ok", "failed"] = "none"
    deactivation_error = ""
    if previous is not None and previous.binding_or_none() is not None:
        result = workflow_binding_deactivate(
            binding=previous.workflow_binding, actor=actor, origin=source, record_with=close
        )
        outcome = "ok" if result.ok else "failed"
        deactivation_error = result.error
    else:
        close()
    return DeployResult(
        version=version,
        deployment=deployment,
        previous=previous,
        attempts=state.attempts,
        deactivation=outcome,
        deactivation_error=deactivation_error,
    )


def _claim(*, version_id: int, actor: User | None, source: str) -> Deployment:
    """Validate under a row lock and take the project's deploy lock (SPEC §4.2, §4.4)."""
    try:
        with transaction.atomic(durable=True):
            version = version_lock_for_deploy(version_id=version_id)
            deploy_check(version=version)
            deploy_check_approval(version=version, actor=actor)
            return Deployment.objects.create(
                project_id=version.project_id,
                automation_version=version,
                workflow_id=version.workflow_binding.workflow_id,
                actor=actor,
                source=source,
                is_rollback=version.was_live,  # type: ignore[attr-defined]
            )
    except IntegrityError as exc:
        if DEPLOY_LOCK_CONSTRAINT not in str(exc) and "deployments.project_id" not in str(exc):
            raise
        raise ServiceError(ErrorCode.DEPLOY_IN_PROGRESS, _in_progress_message(version_id)) from None


def _in_progress_message(version_id: int) -> str:
    """Say whose deploy holds the project, and what to do if it will never finish."""
    running = (
        Deployment.objects.select_related("automation_version", "actor")
        .filter(
            status=DeploymentStatus.IN_PROGRESS,
            project__versions=version_id,
        )
        .first()
    )
    if running is None:  # it finished between the refusal and this look
        return "Another deploy of this project was in progress; try again."
    who = running.actor.get_username() if running.actor else "the system"
    age = (timezone.now() - running.started_at).total_seconds()
    message = (
        f"{running.automation_version.version} is being deployed by {who} "
        f"(started {age:.0f} s ago); wait for it to finish."
    )
    if age > settings.DEPLOY_STALE_AFTER_SECONDS:
        message += " It looks interrupted: `manage.py reconcile` will finish or fail it."
    return message


class DeploymentNotInProgressError(Exception):
    """Someone else (reconcile) finished this deployment first."""


def _owned(deployment: Deployment, **changes: object) -> None:
    if not Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.IN_PROGRESS).update(
        **changes
    ):
        raise DeploymentNotInProgressError(f"Deployment {deployment.pk} is no longer in progress.")


def deployment_record_success(
    *, deployment: Deployment, attempts: int | None = None, extra: dict[str, object] | None = None
) -> tuple[AutomationVersion, AutomationVersion | None]:
    """WRK confirmed the activation: make it so in the database, all or nothing.

    The version's row lock and its transition from Ready to Launch make this happen once,
    even if reconcile and the deploy's own process race to record the same deployment.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        version, previous = versions_lock_with_live(
            version_id=deployment.automation_version_id, project_id=deployment.project_id
        )
        actor = deployment.actor
        if actor is not None and not has_transition_perm(version.deploy, actor):
            raise ServiceError(
                ErrorCode.PERMISSION_DENIED, f"{actor} may no longer deploy this version."
            )
        version.deploy(
            ctx=TransitionContext(
                actor=actor,
                origin=deployment.source,
                deployment=deployment,
                attempts=deployment.attempts if attempts is None else attempts,
                previous=previous,
                extra=extra or {},
            )
        )
        version.save(update_fields=["status", "updated_at"])
        Project.objects.filter(pk=version.project_id).update(
            status=ProjectStatus.LIVE, updated_at=now
        )
        WorkflowBinding.objects.filter(automation_version_id=version.pk).update(
            status=BindingStatus.ACTIVE, monitoring_started_at=now, updated_at=now
        )
    version.project.status = ProjectStatus.LIVE
    version.workflow_binding.status = BindingStatus.ACTIVE
    version.workflow_binding.monitoring_started_at = now
    return version, previous


def deployment_record_failure(*, deployment: Deployment, attempts: int, error: str) -> None:
    """Activation failed: the version goes to Error; the Live version is left untouched."""
    with transaction.atomic(durable=True):
        version = version_lock(version_id=deployment.automation_version_id)
        _owned(
            deployment,
            status=DeploymentStatus.FAILED,
            attempts=attempts,
            error=error,
            finished_at=timezone.now(),
        )
        version.fail(
            ctx=TransitionContext(
                actor=deployment.actor,
                origin=deployment.source,
                deployment=deployment,
                attempts=attempts,
                error=error,
            )
        )
        version.save(update_fields=["status", "updated_at"])


def deployment_close(
    *, deployment: Deployment, attempts: int | None = None, previous: AutomationVersion | None
) -> None:
    """Release the project: the deploy and the deactivation that follows it are done."""
    changes: dict[str, object] = {
        "status": DeploymentStatus.SUCCEEDED,
        "finished_at": timezone.now(),
        "previous_version": previous,
    }
    if attempts is not None:
        changes["attempts"] = attempts
    Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.IN_PROGRESS).update(
        **changes
    )
