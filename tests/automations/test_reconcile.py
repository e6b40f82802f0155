"""Issue 7 A1–A2: reconcile never decides a deploy in flight, asks WRK before anything, and
records each outcome once when it races the deploy's own process. Real threads, real
PostgreSQL, the stand-in WRK over HTTP; in-flight calls are held by a gate, not by sleeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections

from audit.models import AuditLog
from automations.checks import check_deploy_stale_after
from automations.deploy import (
    DeploymentNotInProgressError,
    automation_version_deploy,
    deployment_complete,
)
from automations.errors import ErrorCode, ServiceError
from automations.models import (
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    VersionStatus,
    WorkflowBinding,
)
from automations.reconcile import deployments_reconcile
from notifications.models import Delivery, Notification
from tests.clock import later, stale_deploys
from tests.factories import make_project, make_user, make_version
from wrk_client.bounds import deploy_stale_floor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[2]


def status(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def binding_status(version: AutomationVersion) -> str:
    return WorkflowBinding.objects.get(automation_version=version).status


class DeployThread(threading.Thread):
    """A deploy running in its own thread (its own connection), as a second request would."""

    def __init__(self, version: AutomationVersion, actor) -> None:
        super().__init__()
        self.version_id, self.actor = version.pk, actor
        self.error: ServiceError | None = None

    def run(self) -> None:
        try:
            automation_version_deploy(version_id=self.version_id, actor=self.actor, source="api")
        except ServiceError as exc:
            self.error = exc
        finally:
            connections.close_all()

    def finish(self) -> ServiceError | None:
        self.join(timeout=30)
        assert not self.is_alive()
        return self.error


def interrupted_claim(version: AutomationVersion, actor, **fields) -> Deployment:
    """What a deploy whose process died right after its claim leaves behind."""
    return Deployment.objects.create(
        project=version.project,
        automation_version=version,
        workflow_id=version.workflow_binding.workflow_id,
        actor=actor,
        source="api",
        **fields,
    )


@pytest.fixture
def slow_wrk_ok(settings) -> int:
    """A held WRK call must not run into the client's read timeout; the stale threshold
    follows the longer timeout down to its floor (the closest reconcile may come)."""
    settings.WRK_READ_TIMEOUT = 30
    settings.DEPLOY_STALE_AFTER_SECONDS = deploy_stale_floor(
        attempts=settings.WRK_ACTIVATE_ATTEMPTS,
        connect_timeout=settings.WRK_CONNECT_TIMEOUT,
        read_timeout=settings.WRK_READ_TIMEOUT,
        max_wait=settings.WRK_RETRY_MAX_SECONDS,
    )
    return settings.DEPLOY_STALE_AFTER_SECONDS


# --- the bound ---------------------------------------------------------------------------


def test_settings_refuse_a_stale_threshold_below_what_wrk_calls_can_take():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "deployflow.settings.dev"}
    env["DEPLOY_STALE_AFTER_SECONDS"] = "1"
    done = subprocess.run(
        [sys.executable, "manage.py", "reconcile"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "DEPLOY_STALE_AFTER_SECONDS=1 is below 149 s" in done.stderr
    assert "could then decide a deploy whose activation is still in flight" in done.stderr


def test_the_system_check_refuses_it_when_a_settings_module_changes_the_timeouts(settings):
    assert check_deploy_stale_after() == []
    settings.WRK_READ_TIMEOUT = 60
    [error] = check_deploy_stale_after()
    assert error.id == "automations.E001"
    with pytest.raises(SystemCheckError, match="DEPLOY_STALE_AFTER_SECONDS"):
        call_command("reconcile", skip_checks=False)
    # Called directly, without the checks, reconcile refuses as well.
    with pytest.raises(ImproperlyConfigured, match="still in flight"):
        deployments_reconcile()


# --- A1: a deploy in flight ----------------------------------------------------------------


def test_reconcile_leaves_a_deploy_whose_activation_is_in_flight(wrk, slow_wrk_ok):
    """The fault-injection repro: WRK slow, reconcile runs meanwhile."""
    ops = make_user(ops=True)
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    gate = wrk.hold(op="activate")
    deploy = DeployThread(v2, ops)
    deploy.start()
    gate.wait_arrived()

    # As late as a deploy can legitimately run, it is not stale yet.
    with later(slow_wrk_ok - 1):
        report = deployments_reconcile()
    assert report.lines == []
    assert wrk.calls_for("get") == []

    gate.release()
    assert deploy.finish() is None
    assert (status(v2), status(v1)) == (VersionStatus.LIVE, VersionStatus.ARCHIVED)
    assert (binding_status(v2), binding_status(v1)) == (BindingStatus.ACTIVE, "inactive")
    assert wrk.is_active(v2.workflow_binding.workflow_id) is True
    assert wrk.is_active(v1.workflow_binding.workflow_id) is False
    assert deployments_reconcile().lines == []


def test_a_deploy_that_outlived_the_bound_is_told_plainly_that_reconcile_failed_it(
    wrk, slow_wrk_ok, settings
):
    """Past the bound (a process paused for minutes), reconcile asks WRK, which has not
    activated yet: Error. The activation then lands; the request is told what happened, and
    ops hear once that WRK runs a workflow whose version is in Error."""
    settings.OPS_EMAILS = ["oncall@agency.example"]
    ops = make_user(ops=True)
    version = make_version(make_project())
    workflow = version.workflow_binding.workflow_id
    gate = wrk.hold(op="activate")
    deploy = DeployThread(version, ops)
    deploy.start()
    gate.wait_arrived()

    with stale_deploys():
        report = deployments_reconcile()
    assert len(report.failed) == 1
    assert status(version) == VersionStatus.ERROR
    gate.release()
    error = deploy.finish()

    assert error is not None
    assert error.code == ErrorCode.DEPLOY_RECONCILED
    assert "`manage.py reconcile` settled it" in error.message
    assert "the version is now 'Error'" in error.message
    assert status(version) == VersionStatus.ERROR
    assert binding_status(version) == BindingStatus.PENDING  # WRK never confirmed to us
    assert wrk.is_active(workflow) is True

    first = deployments_reconcile()
    assert first.active_in_error == [workflow]
    second = deployments_reconcile()
    assert second.active_in_error == []
    assert AuditLog.objects.filter(action_type="active_in_error").count() == 1
    emails = Delivery.objects.filter(template="active_in_error", channel="email")
    assert set(emails.values_list("recipient", flat=True)) == {"oncall@agency.example", ops.email}
    assert Notification.objects.filter(kind="active_in_error", recipient=ops).count() == 1
    # Never deactivated behind ops' back.
    assert wrk.calls_for("deactivate") == []
    assert wrk.is_active(workflow) is True


def test_a_deploy_reconcile_finished_first_is_told_so_and_recorded_once(wrk, slow_wrk_ok):
    ops = make_user(ops=True)
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    # WRK activates, but its answer is held back: the request has not recorded anything.
    gate = wrk.hold(op="activate", before=False)
    deploy = DeployThread(v2, ops)
    deploy.start()
    gate.wait_arrived()

    with stale_deploys():
        report = deployments_reconcile()
    assert len(report.finished) == 1
    assert (status(v2), status(v1)) == (VersionStatus.LIVE, VersionStatus.ARCHIVED)
    gate.release()
    error = deploy.finish()

    assert error is not None
    assert error.code == ErrorCode.DEPLOY_RECONCILED
    assert "the version is now 'Live'" in error.message
    assert AuditLog.objects.filter(action_type="deploy", resource_id=str(v2.pk)).count() == 1
    row = AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk))
    assert row.metadata["recovered_by"] == "reconcile"
    assert row.metadata["attempts"] is None  # unknown to reconcile: empty, never 0
    deployment = Deployment.objects.get(automation_version=v2)
    assert (deployment.status, deployment.attempts) == (DeploymentStatus.SUCCEEDED, None)
    assert deployment.previous_version_id == v1.pk
    assert wrk.is_active(v1.workflow_binding.workflow_id) is False


def test_reconcile_deactivates_an_activation_when_another_version_went_live_meanwhile(wrk):
    ops = make_user(ops=True)
    project = make_project()
    v1, v2, v3 = (make_version(project, label) for label in ("v1", "v2", "v3"))
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    # A deploy of v3 claimed the project while v1 was Live, activated v3 on WRK and died;
    # v2 is Live now (the lock is bypassed here to make the case).
    interrupted = interrupted_claim(v3, ops, previous_version=v1)
    Deployment.objects.filter(pk=interrupted.pk).update(status=DeploymentStatus.FAILED)
    automation_version_deploy(version_id=v2.pk, actor=ops, source="api")
    Deployment.objects.filter(pk=interrupted.pk).update(status=DeploymentStatus.IN_PROGRESS)
    wrk.add_workflow(v3.workflow_binding.workflow_id, active=True)

    with stale_deploys():
        report = deployments_reconcile()

    assert report.failed == [interrupted.pk]
    assert (status(v2), status(v3)) == (VersionStatus.LIVE, VersionStatus.ERROR)
    assert wrk.is_active(v3.workflow_binding.workflow_id) is False
    failed = AuditLog.objects.get(action_type="deploy_failed", resource_id=str(v3.pk))
    assert "v2 went Live" in failed.metadata["error"]


def test_reconcile_marks_error_only_after_wrk_says_inactive(wrk):
    ops = make_user(ops=True)
    version = make_version(make_project())
    deployment = interrupted_claim(version, ops)
    with stale_deploys():
        report = deployments_reconcile()
    assert report.failed == [deployment.pk]
    assert len(wrk.calls_for("get")) == 1
    assert status(version) == VersionStatus.ERROR
    row = Deployment.objects.get(pk=deployment.pk)
    assert (row.status, row.attempts) == (DeploymentStatus.FAILED, None)
    assert AuditLog.objects.filter(action_type="deploy_failed").count() == 1


def test_reconcile_leaves_the_deploy_when_wrk_is_unreachable(wrk):
    ops = make_user(ops=True)
    version = make_version(make_project())
    deployment = interrupted_claim(version, ops)
    wrk.fail_next(100, status=503)
    with stale_deploys():
        report = deployments_reconcile()
    assert report.unreachable == [deployment.pk]
    assert status(version) == VersionStatus.READY
    assert Deployment.objects.get(pk=deployment.pk).status == DeploymentStatus.IN_PROGRESS


def test_reconcile_retries_a_failed_deactivation(wrk):
    ops = make_user(ops=True)
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    wrk.fail_next(100, status=500, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops, source="api")
    wrk.reset()

    report = deployments_reconcile()

    assert report.deactivated == [f"wf-{project.slug}-v1"]
    assert len(wrk.calls_for("deactivate")) == 1
    assert binding_status(v1) == BindingStatus.INACTIVE
    assert deployments_reconcile().lines == []


# --- A2: the success path races like the failure path ------------------------------------


def test_recording_races_between_the_process_and_reconcile_record_once(wrk):
    ops = make_user(ops=True)
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    # What the deploy's claim leaves: the versions as it locked and read them.
    deployment = interrupted_claim(
        AutomationVersion.objects.get(pk=v2.pk),
        ops,
        previous_version=AutomationVersion.objects.get(pk=v1.pk),
    )
    wrk.add_workflow(v2.workflow_binding.workflow_id, active=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def process() -> None:
        try:
            barrier.wait()
            deployment_complete(deployment=deployment, attempts=1)
            outcomes.append("recorded")
        except DeploymentNotInProgressError:
            outcomes.append("lost")
        finally:
            connections.close_all()

    def reconcile() -> None:
        try:
            barrier.wait()
            with stale_deploys():
                report = deployments_reconcile()
            outcomes.append("reconcile finished" if report.finished else "reconcile no-op")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=process), threading.Thread(target=reconcile)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Either may win; the loser does nothing and raises nothing out of reconcile.
    assert sorted(outcomes) in (
        ["reconcile no-op", "recorded"],
        ["lost", "reconcile finished"],
    )
    assert AuditLog.objects.filter(action_type="deploy", resource_id=str(v2.pk)).count() == 1
    assert AutomationVersion.objects.filter(project=project, status="Live").get() == v2
