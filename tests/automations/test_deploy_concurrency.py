"""SPEC §4.4 and §4.7 against a real PostgreSQL: concurrent deploys, atomicity, recovery."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from api.errors import HTTP_STATUS
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
from tests.clock import stale_deploys
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 20


def deploy_concurrently(version_ids: list[int], actor, wrk) -> list[int | str]:
    """Start THREADS deploys at once (a barrier releases them together) while WRK holds the
    winner's activation until every other thread has its answer; return each thread's
    outcome: the HTTP status of its error, or "ok". No timing is guessed."""
    gate = wrk.hold(op="activate")
    barrier = threading.Barrier(THREADS)
    outcomes: list[int | str] = []
    lock = threading.Lock()
    losers_done = threading.Semaphore(0)

    def run(version_id: int) -> None:
        try:
            barrier.wait()
            try:
                automation_version_deploy(version_id=version_id, actor=actor, source="api")
                outcome: int | str = "ok"
            except ServiceError as exc:
                outcome = HTTP_STATUS[exc.code]
            with lock:
                outcomes.append(outcome)
            if outcome != "ok":
                losers_done.release()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(version_ids[i % len(version_ids)],))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    gate.wait_arrived()
    for _ in range(THREADS - 1):
        assert losers_done.acquire(timeout=30), "a losing deploy never answered"
    gate.release()
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


def test_twenty_concurrent_deploys_of_one_version_activate_once(wrk, settings):
    settings.WRK_READ_TIMEOUT = 20  # the held activation must not time out
    ops = make_user(ops=True)
    project = make_project()
    version = make_version(project)

    outcomes = deploy_concurrently([version.pk], ops, wrk)

    # The lock refused every other one while the winner was talking to WRK.
    assert Counter(outcomes) == {"ok": 1, 409: THREADS - 1}
    assert len(wrk.calls_for("activate")) == 1
    assert_consistent(project)


def test_twenty_concurrent_deploys_of_two_versions_of_one_project_activate_once(wrk, settings):
    settings.WRK_READ_TIMEOUT = 20
    ops = make_user(ops=True)
    project = make_project()
    v1 = make_version(project, "v1")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    v2, v3 = make_version(project, "v2"), make_version(project, "v3")
    wrk.reset()

    outcomes = deploy_concurrently([v2.pk, v3.pk], ops, wrk)

    assert Counter(outcomes) == {"ok": 1, 409: THREADS - 1}
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
    with stale_deploys():
        report = deployments_reconcile()

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
    # The process died with the count it knew: reconcile records none rather than a guess.
    assert row.metadata["attempts"] is None
    deployment = Deployment.objects.get(automation_version=v2)
    assert (deployment.status, deployment.attempts) == (DeploymentStatus.SUCCEEDED, None)
    assert deployment.previous_version == v1
