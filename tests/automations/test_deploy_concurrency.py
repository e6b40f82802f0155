"""SPEC §4.4 and §4.7 against a real PostgreSQL: concurrent deploys, atomicity, recovery."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections

from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.errors import ErrorCode, ServiceError
from automations.models import (
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    Project,
    VersionStatus,
)
from automations.reconcile import deployments_reconcile
from notifications.models import Delivery, Notification
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 20
# Long enough that every thread, even one the scheduler starts late on a busy 2-core
# machine, reaches the project lock while the winner still holds it.
WRK_LATENCY = 0.8


def deploy_concurrently(version_ids: list[int], actor) -> list[int | str]:
    """Start THREADS deploys at once (a barrier releases them together); return each
    thread's outcome: the HTTP status of its error, or "ok"."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[int | str] = []
    lock = threading.Lock()

    def run(version_id: int) -> None:
        try:
            barrier.wait()
            try:
                automation_version_deploy(version_id=version_id, actor=actor, source="api")
                outcome: int | str = "ok"
            except ServiceError as exc:
                outcome = exc.http_status
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(version_ids[i % len(version_ids)],))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == THREADS
    return outcomes


def assert_consistent(project: Project, *, deploys: int = 1) -> None:
    live = AutomationVersion.objects.filter(project=project, status=VersionStatus.LIVE)
    assert live.count() == 1
    version = live.select_related("workflow_binding").get()
    assert version.workflow_binding.status == BindingStatus.ACTIVE
    assert Project.objects.get(pk=project.pk).status == "Live"
    assert AuditLog.objects.filter(action_type="deploy", project_id=project.pk).count() == deploys
    assert not Deployment.objects.filter(project=project, status="in_progress").exists()
    assert Deployment.objects.filter(project=project, status="succeeded").count() == deploys


def test_twenty_concurrent_deploys_of_one_version_activate_once(wrk):
    wrk.latency = WRK_LATENCY
    ops = make_user(ops=True)
    project = make_project()
    version = make_version(project)

    outcomes = deploy_concurrently([version.pk], ops)

    counts = Counter(outcomes)
    assert counts["ok"] == 1
    assert set(counts) <= {"ok", 409, 400}
    # The lock, not luck, refused them: some arrived while the winner was talking to WRK.
    assert counts[409] >= 1
    assert len(wrk.calls_for("activate")) == 1
    assert_consistent(project)


def test_twenty_concurrent_deploys_of_two_versions_of_one_project_activate_once(wrk):
    ops = make_user(ops=True)
    project = make_project()
    v1 = make_version(project, "v1")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    v2, v3 = make_version(project, "v2"), make_version(project, "v3")
    wrk.reset()
    wrk.latency = WRK_LATENCY

    outcomes = deploy_concurrently([v2.pk, v3.pk], ops)

    counts = Counter(outcomes)
    assert counts["ok"] == 1
    assert set(counts) <= {"ok", 409, 400}
    # The lock, not luck, refused them: some arrived while the winner was talking to WRK.
    assert counts[409] >= 1
    assert len(wrk.calls_for("activate")) == 1
    assert len(wrk.calls_for("deactivate")) == 1
    assert_consistent(project, deploys=2)
    statuses = dict(
        AutomationVersion.objects.filter(project=project).values_list("version", "status")
    )
    assert statuses["v1"] == VersionStatus.ARCHIVED
    assert sorted([statuses["v2"], statuses["v3"]]) == ["Live", "Ready to Launch"]


@pytest.fixture
def failing_outbox():
    """A real failure inside the final transaction: PostgreSQL refuses outbox rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'injected failure'; END; $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON notification_deliveries "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_refuse ON notification_deliveries")
        cursor.execute("DROP FUNCTION IF EXISTS test_refuse()")


def test_a_failure_in_the_final_transaction_leaves_no_partial_state(wrk, failing_outbox):
    ops = make_user(ops=True)
    project = make_project()
    project.collaborators.add(make_user(), make_user())
    version = make_version(project)
    audit_before = AuditLog.objects.count()

    with pytest.raises(ServiceError) as raised:
        automation_version_deploy(version_id=version.pk, actor=ops, source="api")

    assert raised.value.code == ErrorCode.DEPLOY_INCOMPLETE
    assert "reconcile" in raised.value.message
    version = AutomationVersion.objects.select_related("workflow_binding").get(pk=version.pk)
    assert version.status == VersionStatus.READY
    assert version.workflow_binding.status == BindingStatus.PENDING
    assert Project.objects.get(pk=project.pk).status == "Draft"
    assert AuditLog.objects.count() == audit_before
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0
    # The project stays claimed: WRK did activate, and only reconcile may conclude.
    assert Deployment.objects.get().status == DeploymentStatus.IN_PROGRESS


def test_reconcile_finishes_a_deploy_interrupted_after_activation(wrk, failing_outbox):
    ops = make_user(ops=True)
    project = make_project()
    v1 = make_version(project, "v1")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notification_deliveries DISABLE TRIGGER test_refuse")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    v2 = make_version(project, "v2")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notification_deliveries ENABLE TRIGGER test_refuse")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops, source="admin")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notification_deliveries DISABLE TRIGGER test_refuse")

    # Not stale yet: a deploy may still be running, so reconcile leaves it alone.
    assert deployments_reconcile().finished == []
    report = deployments_reconcile(stale_after=timedelta(0))

    assert len(report.finished) == 1
    statuses = dict(
        AutomationVersion.objects.filter(project=project).values_list("version", "status")
    )
    assert statuses == {"v1": "Archived", "v2": "Live"}
    assert report.deactivated == [f"wf-{project.slug}-v1"]
    row = AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk))
    assert row.metadata["recovered_by"] == "reconcile"
    assert row.metadata["source"] == "admin"
    assert row.actor == ops
    assert Deployment.objects.get(automation_version=v2).status == DeploymentStatus.SUCCEEDED


def _interrupted(version: AutomationVersion, ops) -> Deployment:
    """What a process that died right after claiming the project leaves behind."""
    return Deployment.objects.create(
        project=version.project,
        automation_version=version,
        workflow_id=version.workflow_binding.workflow_id,
        actor=ops,
        source="api",
    )


def test_reconcile_marks_error_when_wrk_never_activated(wrk):
    ops = make_user(ops=True)
    version = make_version(make_project())
    deployment = _interrupted(version, ops)
    report = deployments_reconcile(stale_after=timedelta(0))
    assert report.failed == [deployment.pk]
    assert AutomationVersion.objects.get(pk=version.pk).status == VersionStatus.ERROR
    assert Deployment.objects.get(pk=deployment.pk).status == DeploymentStatus.FAILED
    assert AuditLog.objects.filter(action_type="deploy_failed").count() == 1


def test_reconcile_leaves_the_deploy_when_wrk_is_unreachable(wrk):
    ops = make_user(ops=True)
    version = make_version(make_project())
    deployment = _interrupted(version, ops)
    wrk.fail_next(100, status=503)
    report = deployments_reconcile(stale_after=timedelta(0))
    assert report.unreachable == [deployment.pk]
    assert AutomationVersion.objects.get(pk=version.pk).status == VersionStatus.READY
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
    binding = AutomationVersion.objects.select_related("workflow_binding").get(pk=v1.pk)
    assert binding.workflow_binding.status == BindingStatus.INACTIVE
    assert deployments_reconcile().lines == []
