"""Bring the database back in line with WRK after a crash or a failed deactivation.

- A deployment still in progress past DEPLOY_STALE_AFTER_SECONDS was interrupted: WRK is
  asked whether the workflow is active; if so the deploy is finished, if not the version
  goes to Error. If WRK cannot be reached the deployment is left for the next run.
- A workflow whose version was archived but whose deactivation never got confirmed is
  deactivated again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from wrk_client import WrkError

from .deactivate import workflow_binding_deactivate
from .deploy import (
    DeploymentNotInProgressError,
    deployment_close,
    deployment_record_failure,
    deployment_record_success,
)
from .models import Deployment, DeploymentSource, DeploymentStatus, VersionStatus
from .selectors import bindings_pending_deactivation
from .wrk_config import wrk_client

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    finished: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    deactivation_failed: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _reconcile_deployment(deployment: Deployment, report: ReconcileReport) -> None:
    version = deployment.automation_version
    label = f"deployment {deployment.pk} ({deployment.project.name} {version.version})"
    if version.status == VersionStatus.LIVE:
        # Crashed after recording, during the deactivation: the loop below retries that.
        deployment_close(deployment=deployment, previous=None)
        report.finished.append(deployment.pk)
        report.lines.append(f"{label}: already Live, closed.")
        return
    try:
        state = wrk_client().get_workflow(deployment.workflow_id)
    except WrkError as exc:
        report.unreachable.append(deployment.pk)
        report.lines.append(f"{label}: WRK unreachable ({exc.message}); left for the next run.")
        return
    try:
        if state.active:
            _, previous = deployment_record_success(
                deployment=deployment, extra={"recovered_by": DeploymentSource.RECONCILE}
            )
            deployment_close(deployment=deployment, previous=previous)
            report.finished.append(deployment.pk)
            report.lines.append(f"{label}: WRK reports {deployment.workflow_id} active; now Live.")
        else:
            deployment_record_failure(
                deployment=deployment,
                attempts=deployment.attempts,
                error=f"Deploy interrupted; WRK reports {deployment.workflow_id} inactive.",
            )
            report.failed.append(deployment.pk)
            report.lines.append(f"{label}: WRK reports {deployment.workflow_id} inactive; Error.")
    except DeploymentNotInProgressError:
        report.lines.append(f"{label}: finished by its own process meanwhile.")


def deployments_reconcile(*, stale_after: timedelta | None = None) -> ReconcileReport:
    report = ReconcileReport()
    cutoff = timezone.now() - (
        stale_after
        if stale_after is not None
        else timedelta(seconds=settings.DEPLOY_STALE_AFTER_SECONDS)
    )
    stale = Deployment.objects.select_related("automation_version", "project", "actor").filter(
        status=DeploymentStatus.IN_PROGRESS, started_at__lt=cutoff
    )
    for deployment in stale:
        _reconcile_deployment(deployment, report)

    for binding in bindings_pending_deactivation():
        result = workflow_binding_deactivate(
            binding=binding, actor=None, origin=DeploymentSource.RECONCILE
        )
        if result.ok:
            report.deactivated.append(binding.workflow_id)
            report.lines.append(f"workflow {binding.workflow_id}: deactivated.")
        else:
            report.deactivation_failed.append(binding.workflow_id)
            report.lines.append(f"workflow {binding.workflow_id}: {result.error}")
    return report
