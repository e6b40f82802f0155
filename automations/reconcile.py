"""Bring the database back in line with WRK after a crash, a failed deactivation or a hand
activation. Every step asks WRK first: the database never claims what WRK did not confirm.

- A deployment still in progress past DEPLOY_STALE_AFTER_SECONDS was interrupted (the
  settings refuse a value below the time its WRK calls can take, so its process cannot still
  be waiting on WRK). WRK is asked: an active workflow finishes the deploy, deactivating
  the replaced workflow as the deploy would have (or, should another version of the project
  have gone Live meanwhile, is itself deactivated and the deploy failed); an inactive one
  fails it.
  Each outcome is recorded through the same conditional claim as the deploy's own process,
  so when both race, one records and the other does nothing.
- An Archived version whose workflow WRK was never confirmed to stop gets its deactivation
  retried.
- A version in Error whose workflow WRK runs (activated by hand, as the source document
  allows when the API fails) is reported to ops once, and never deactivated behind their back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from deployflow.words import attempts
from wrk_client import WrkError

from .checks import deploy_stale_problem
from .deactivate import workflow_binding_deactivate
from .deploy import (
    DeploymentNotInProgressError,
    deployment_complete,
    deployment_record_failure,
)
from .log_context import deploy_logging
from .models import Deployment, DeploymentSource, DeploymentStatus, WorkflowBinding
from .selectors import (
    bindings_of_errored_versions_unreported,
    bindings_pending_deactivation,
    live_version,
)
from .signals import workflow_active_in_error
from .wrk_config import wrk_client

logger = logging.getLogger(__name__)
RECONCILE = DeploymentSource.RECONCILE


@dataclass
class ReconcileReport:
    finished: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    deactivation_failed: list[str] = field(default_factory=list)
    active_in_error: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    # Workflows WRK reported inactive during this run: no need to ask again.
    seen_inactive: set[str] = field(default_factory=set)

    @property
    def needs_wrk(self) -> bool:
        return bool(self.unreachable or self.deactivation_failed)


def deployments_reconcile() -> ReconcileReport:
    if problem := deploy_stale_problem():
        raise ImproperlyConfigured(problem)
    report = ReconcileReport()
    cutoff = timezone.now() - timedelta(seconds=settings.DEPLOY_STALE_AFTER_SECONDS)
    stale = Deployment.objects.select_related(
        "automation_version__project__client",
        "automation_version__workflow_binding",
        "previous_version__workflow_binding",
        "project",
        "actor",
    ).filter(status=DeploymentStatus.IN_PROGRESS, started_at__lt=cutoff)
    for deployment in stale:
        try:
            with deploy_logging(deployment.pk):
                _reconcile_deployment(deployment, report)
        except DeploymentNotInProgressError:
            report.lines.append(
                f"deployment {deployment.pk}: recorded by its own process meanwhile."
            )

    for binding in bindings_pending_deactivation():
        result = workflow_binding_deactivate(binding=binding, actor=None, origin=RECONCILE)
        if result.ok:
            report.deactivated.append(binding.workflow_id)
            report.lines.append(f"workflow {binding.workflow_id}: deactivated.")
        else:
            report.deactivation_failed.append(binding.workflow_id)
            report.lines.append(f"workflow {binding.workflow_id}: {result.error}")

    for binding in bindings_of_errored_versions_unreported():
        if binding.workflow_id not in report.seen_inactive:
            _check_errored_version(binding, report)
    return report


def _reconcile_deployment(deployment: Deployment, report: ReconcileReport) -> None:
    version = deployment.automation_version
    label = f"deployment {deployment.pk} ({deployment.project.name} {version.version})"
    try:
        state = wrk_client().get_workflow(deployment.workflow_id)
    except WrkError as exc:
        report.unreachable.append(deployment.pk)
        report.lines.append(f"{label}: WRK unreachable ({exc.message}); left for the next run.")
        return
    if not state.active:
        report.seen_inactive.add(deployment.workflow_id)
        deployment_record_failure(
            deployment=deployment,
            attempts=None,
            error=f"Deploy interrupted; WRK reports {deployment.workflow_id} inactive.",
        )
        report.failed.append(deployment.pk)
        report.lines.append(f"{label}: WRK reports {deployment.workflow_id} inactive; Error.")
        return
    live = live_version(project_id=deployment.project_id)
    if live is not None and live.pk not in (version.pk, deployment.previous_version_id):
        _undo_activation(deployment, live.version, report, label)
        return
    if live is None:
        # Nothing is Live any more (the claim's Live version is gone): nothing to archive.
        deployment.previous_version = None
    _, previous, deactivation = deployment_complete(
        deployment=deployment, attempts=None, extra={"recovered_by": RECONCILE}
    )
    report.finished.append(deployment.pk)
    report.lines.append(f"{label}: WRK reports {deployment.workflow_id} active; now Live.")
    if previous is not None and deactivation is not None:
        replaced = previous.workflow_binding.workflow_id
        if deactivation.ok:
            report.deactivated.append(replaced)
        else:
            report.deactivation_failed.append(replaced)


def _undo_activation(
    deployment: Deployment, live_label: str, report: ReconcileReport, label: str
) -> None:
    """WRK activated the workflow, but another version went Live meanwhile: that one stands."""
    try:
        state = wrk_client().deactivate(deployment.workflow_id)
        undone = f"deactivated it after {attempts(state.attempts)}"
    except WrkError as exc:
        undone = f"could not deactivate it ({exc.message}); it is reported to ops"
    deployment_record_failure(
        deployment=deployment,
        attempts=None,
        error=(
            f"Deploy interrupted; meanwhile {live_label} went Live, so WRK's activation of "
            f"{deployment.workflow_id} was not kept: reconcile {undone}."
        ),
    )
    report.failed.append(deployment.pk)
    report.lines.append(f"{label}: {live_label} went Live meanwhile; {undone}.")


def _check_errored_version(binding: WorkflowBinding, report: ReconcileReport) -> None:
    try:
        state = wrk_client().get_workflow(binding.workflow_id)
    except WrkError as exc:
        report.lines.append(f"workflow {binding.workflow_id}: WRK unreachable ({exc.message}).")
        return
    if not state.active:
        return
    with transaction.atomic(durable=True):
        # Conditional: two reconcile runs at once still report it once.
        won = WorkflowBinding.objects.filter(
            pk=binding.pk, active_in_error_reported_at__isnull=True
        ).update(active_in_error_reported_at=timezone.now())
        if won:
            workflow_active_in_error.send(sender=WorkflowBinding, binding=binding, origin=RECONCILE)
    if won:
        version = binding.automation_version
        report.active_in_error.append(binding.workflow_id)
        report.lines.append(
            f"workflow {binding.workflow_id}: WRK runs it although {version.version} is in "
            "Error; ops were told (it was not deactivated)."
        )
