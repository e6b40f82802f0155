"""Flow 24, "Mark as Live / Deploy to Production" (SPEC §4).

The deploy runs in two short database transactions around the WRK calls, never across them:

1. *claim*: lock the project, the version and the project's Live version, check the
   `deploy_plan`, and insert the project's in-progress `Deployment`, whose partial unique
   constraint turns a concurrent deploy into 409;
2. WRK: activate the workflow (with retries); once it is active, deactivate the replaced
   version's workflow (with retries; its failure never fails the deploy);
3. *record*, all in one transaction: win the right to record (a conditional update of the
   deployment that only one process can win: this one or `reconcile`), then the version
   goes Live through its django-fsm transition, whose signals archive the previous version,
   write the audit rows and queue the notifications; project, bindings and the
   deactivation's outcome follow, and the deployment is closed. If activation failed, the
   version goes to Error instead and the Live version is left untouched.

The project stays claimed from 1 to 3, so no other deploy can interleave; the project row
is locked first in 1 and 3, so that a claim waits for the record before it commits. A process that
dies in between leaves an in-progress deployment that `reconcile` finishes by asking WRK.

`automation_version_adopt` is the same path for a workflow that ops activated by hand in
WRK (the source document allows it when the API fails): WRK is asked first whether it is
active, then the version in Error is staged back to Ready to Launch and deployed through
steps 1 and 3, without the activate call (SPEC §3: Ready to Launch → Live stays the only
way to Live).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from deployflow.words import attempts
from wrk_client import WrkError

from .deactivate import (
    DeactivationResult,
    workflow_binding_record_deactivation,
    workflow_binding_resolve_incident,
    wrk_deactivate,
)
from .errors import ErrorCode, ServiceError
from .log_context import deploy_logging
from .models import (
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentSource,
    DeploymentStatus,
    Project,
    ProjectStatus,
    TransitionContext,
    WorkflowBinding,
)
from .plan import deploy_plan, in_progress_message, require_deploy_permission
from .selectors import project_lock, version_get, version_lock, versions_lock_with_live
from .services import automation_version_stage
from .wrk_config import wrk_client

logger = logging.getLogger(__name__)

DEPLOY_LOCK_CONSTRAINT = "one_deploy_in_progress_per_project"


@dataclass(frozen=True, slots=True)
class DeployResult:
    version: AutomationVersion
    deployment: Deployment
    previous: AutomationVersion | None
    # None when no activate call was made (an adopted manual activation).
    attempts: int | None
    deactivation: Literal["none", "ok", "failed"]
    deactivation_error: str = ""


class DeploymentNotInProgressError(Exception):
    """Someone else (reconcile, or the deploy's own process) recorded this deployment first."""


def automation_version_deploy(*, version_id: int, actor: User | None, source: str) -> DeployResult:
    """Deploy a version. `actor` None is the system (a command run without --user)."""
    # Before the version is even looked up: an unknown id must not answer differently.
    require_deploy_permission(actor=actor)
    deployment = deployment_claim(version_id=version_id, actor=actor, source=source)
    with deploy_logging(deployment.pk):
        return _activate_and_record(deployment)


def _activate_and_record(deployment: Deployment) -> DeployResult:
    workflow_id = deployment.workflow_id
    version_id = deployment.automation_version_id
    try:
        state = wrk_client().activate(workflow_id)
    except WrkError as exc:
        error = (
            f"WRK did not activate workflow {workflow_id} after {attempts(exc.attempts)}: "
            f"{exc.message}"
        )
        logger.error("Deploy of version %s failed: %s", version_id, error)
        try:
            deployment_record_failure(deployment=deployment, attempts=exc.attempts, error=error)
        except DeploymentNotInProgressError:
            raise _reconciled(deployment, f"WRK failed the activation: {exc.message}") from None
        raise ServiceError(ErrorCode.ACTIVATION_FAILED, error) from exc

    return _record_success(
        deployment,
        attempts=state.attempts,
        what_wrk_said=f"WRK activated {workflow_id} after {attempts(state.attempts)}.",
    )


def automation_version_redeploy(
    *, version_id: int, actor: User | None, source: str
) -> DeployResult:
    """Retry (from Error) or roll back (from Archived) in one step: stage the version back
    to Ready to Launch, then deploy it. Checked against the plan first, so that a deploy
    the plan refuses (an approval missing, say) does not re-stage anything."""
    require_deploy_permission(actor=actor)
    plan = deploy_plan(version=version_get(version_id=version_id), actor=actor, restage=True)
    plan.raise_if_blocked()
    if plan.restage_first:
        automation_version_stage(version_id=version_id, actor=actor, source=source)
    return automation_version_deploy(version_id=version_id, actor=actor, source=source)


def automation_version_adopt(*, version_id: int, actor: User | None, source: str) -> DeployResult:
    """Make Live a version in Error whose workflow ops activated by hand in WRK.

    Refused, with nothing changed, unless WRK reports the workflow active. Then: staged
    back to Ready to Launch (audited as a restage by `source`), claimed and recorded like
    any deploy, with the deployment's and audit's source `manual` and no attempts.
    """
    require_deploy_permission(actor=actor)
    plan = deploy_plan(version=version_get(version_id=version_id), actor=actor, adopt=True)
    plan.raise_if_blocked()
    workflow_id = plan.workflow_id
    assert workflow_id is not None  # a plan without a binding is blocked
    if not wrk_reports_active(workflow_id=workflow_id):
        raise ServiceError(
            ErrorCode.NOT_ACTIVE_ON_WRK,
            f"WRK reports workflow {workflow_id} inactive: there is no activation to adopt, "
            "and nothing was changed. Activate it in WRK first, or use Retry deploy.",
        )
    automation_version_stage(version_id=version_id, actor=actor, source=source)
    deployment = deployment_claim(
        version_id=version_id, actor=actor, source=DeploymentSource.MANUAL
    )
    with deploy_logging(deployment.pk):
        return _record_success(
            deployment,
            attempts=None,
            extra={"adopted": True, "requested_via": source},
            what_wrk_said=f"WRK reported {workflow_id} active (activated by hand).",
        )


def wrk_reports_active(*, workflow_id: str) -> bool:
    """Ask WRK (outside any transaction, like every WRK call) whether the workflow runs."""
    try:
        return wrk_client().get_workflow(workflow_id).active
    except WrkError as exc:
        raise ServiceError(
            ErrorCode.WRK_UNAVAILABLE,
            f"WRK could not be asked whether workflow {workflow_id} is active "
            f"({exc.message}); nothing was changed. Try again later.",
        ) from exc


def _record_success(
    deployment: Deployment,
    *,
    attempts: int | None,
    what_wrk_said: str,
    extra: dict[str, object] | None = None,
) -> DeployResult:
    """WRK runs the workflow: record the deploy (and the replaced workflow's deactivation)."""
    try:
        version, previous, deactivation = deployment_complete(
            deployment=deployment, attempts=attempts, extra=extra
        )
    except DeploymentNotInProgressError:
        raise _reconciled(deployment, what_wrk_said) from None
    except Exception as exc:
        logger.exception(
            "Deploy of version %s: WRK runs it but recording failed",
            deployment.automation_version_id,
        )
        raise ServiceError(
            ErrorCode.DEPLOY_INCOMPLETE,
            f"{what_wrk_said} But the deploy could not be recorded ({exc}); "
            "`manage.py reconcile` will finish it.",
        ) from exc
    outcome: Literal["none", "ok", "failed"] = "none"
    if deactivation is not None:
        outcome = "ok" if deactivation.ok else "failed"
    return DeployResult(
        version=version,
        deployment=deployment,
        previous=previous,
        attempts=attempts,
        deactivation=outcome,
        deactivation_error=deactivation.error if deactivation is not None else "",
    )


def deployment_claim(*, version_id: int, actor: User | None, source: str) -> Deployment:
    """Validate under row locks and take the project's deploy lock (SPEC §4.2, §4.4)."""
    try:
        with transaction.atomic(durable=True):
            project_lock(version_id=version_id)
            version, live = versions_lock_with_live(version_id=version_id)
            plan = deploy_plan(version=version, actor=actor, previous=live, check_in_progress=False)
            plan.raise_if_blocked()
            return Deployment.objects.create(
                project_id=version.project_id,
                automation_version=version,
                workflow_id=version.workflow_binding.workflow_id,
                previous_version=plan.previous,
                actor=actor,
                source=source,
                is_rollback=plan.is_rollback,
            )
    except IntegrityError as exc:
        if DEPLOY_LOCK_CONSTRAINT not in str(exc):
            raise
    running = (
        Deployment.objects.select_related("automation_version", "actor")
        .filter(status=DeploymentStatus.IN_PROGRESS, project__versions=version_id)
        .first()
    )
    raise ServiceError(
        ErrorCode.DEPLOY_IN_PROGRESS,
        in_progress_message(running)
        if running is not None
        else "Another deploy of this project was in progress; try again.",
    )


def _reconciled(deployment: Deployment, what_wrk_said: str) -> ServiceError:
    """The request lost its deploy to reconcile: say so, and where things stand now."""
    status = (
        AutomationVersion.objects.filter(pk=deployment.automation_version_id)
        .values_list("status", flat=True)
        .first()
    )
    return ServiceError(
        ErrorCode.DEPLOY_RECONCILED,
        f"This deploy took longer than DEPLOY_STALE_AFTER_SECONDS "
        f"({settings.DEPLOY_STALE_AFTER_SECONDS} s), so `manage.py reconcile` settled it "
        f"meanwhile by asking WRK: the version is now '{status}'. {what_wrk_said} Nothing "
        "else was changed by this request.",
    )


def _claim_record(deployment: Deployment, **changes: object) -> None:
    """Win the right to record this deployment's outcome, or raise: a conditional update,
    so that the deploy's process and reconcile record it once between them."""
    if not Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.IN_PROGRESS).update(
        finished_at=timezone.now(), **changes
    ):
        raise DeploymentNotInProgressError(f"Deployment {deployment.pk} was recorded already.")


def deployment_complete(
    *, deployment: Deployment, attempts: int | None, extra: dict[str, object] | None = None
) -> tuple[AutomationVersion, AutomationVersion | None, DeactivationResult | None]:
    """WRK confirmed the activation: deactivate the replaced version's workflow on WRK, then
    record all of it in one transaction, which also closes the deployment.

    The version and the Live version it replaces are the ones the claim locked and checked
    (`deployment.automation_version`, `deployment.previous_version`): winning the conditional
    claim below means nobody else records this deployment, and while the deployment holds
    the project no other path can change either version's status (a Ready version cannot be
    staged; only a deploy archives a Live one). Should anything still disagree, the partial
    unique constraint on Live refuses the transaction.
    """
    version = deployment.automation_version
    previous = deployment.previous_version
    old_binding = previous.binding_or_none() if previous is not None else None
    deactivation = wrk_deactivate(binding=old_binding) if old_binding is not None else None
    now = timezone.now()
    with transaction.atomic(durable=True):
        # The project, the deployment, then the versions: the claim and the failure path
        # lock in the same order (see `project_lock`). The project goes Live first: its
        # update is the project's lock here.
        Project.objects.filter(pk=version.project_id).update(
            status=ProjectStatus.LIVE, updated_at=now
        )
        _claim_record(deployment, status=DeploymentStatus.SUCCEEDED, attempts=attempts)
        version.deploy(
            ctx=TransitionContext(
                actor=deployment.actor,
                origin=deployment.source,
                deployment=deployment,
                attempts=attempts,
                previous=previous,
                extra=extra or {},
            )
        )
        version.save(update_fields=["status", "updated_at"])
        WorkflowBinding.objects.filter(automation_version_id=version.pk).update(
            status=BindingStatus.ACTIVE,
            monitoring_started_at=now,
            active_in_error_reported_at=None,
            updated_at=now,
        )
        # A rollback to a version whose workflow WRK never confirmed stopped: it is meant
        # to run now, so its "still active" incident is over. (The flag was read by the
        # claim; nothing deactivates the binding of a version that is not Archived.)
        if version.workflow_binding.deactivation_failed_at is not None:
            workflow_binding_resolve_incident(
                binding=version.workflow_binding,
                actor=deployment.actor,
                origin=deployment.source,
                how="live_again",
            )
        if old_binding is not None and deactivation is not None:
            workflow_binding_record_deactivation(
                binding=old_binding,
                result=deactivation,
                actor=deployment.actor,
                origin=deployment.source,
            )
    deployment.status = DeploymentStatus.SUCCEEDED
    deployment.attempts = attempts
    version.project.status = ProjectStatus.LIVE
    version.workflow_binding.status = BindingStatus.ACTIVE
    version.workflow_binding.monitoring_started_at = now
    return version, previous, deactivation


def deployment_record_failure(*, deployment: Deployment, attempts: int | None, error: str) -> None:
    """Activation failed: the version goes to Error; the Live version is left untouched."""
    with transaction.atomic(durable=True):
        project_lock(version_id=deployment.automation_version_id)
        _claim_record(deployment, status=DeploymentStatus.FAILED, attempts=attempts, error=error)
        version = version_lock(version_id=deployment.automation_version_id)
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
