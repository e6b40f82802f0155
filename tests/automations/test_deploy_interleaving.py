"""A deploy claimed while the previous deploy of the project is still being recorded.

Found by bench/load.py: the claim read the project's Live version (and the record archived
it) row by row, so a claim that ran while another deploy's record transaction was open saw
the old Live version already archived and the new one not yet Live, and went on with no
version to replace. Its own record then met the partial unique constraint on Live (500
`deploy_incomplete` with WRK running two workflows) or deadlocked with the first. The claim
and both records now lock the project row first, so they queue in one order.

The interleaving is forced, not hoped for: a second connection holds a SHARE lock on
`audit_logs`, so the first deploy's record transaction stops at its first audit row with
its version rows written; the second deploy starts then, and the lock is released once the
second is seen waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion, BindingStatus, Deployment, VersionStatus
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def backends_waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


class Deploying(threading.Thread):
    def __init__(self, version_id: int, actor) -> None:
        super().__init__(daemon=True)
        self.version_id, self.actor = version_id, actor
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            automation_version_deploy(version_id=self.version_id, actor=self.actor, source="api")
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()


def test_a_deploy_claimed_while_the_previous_one_records_replaces_its_version(wrk):
    ops = make_user(ops=True)
    project = make_project()
    v1 = make_version(project, "v1")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    v2, v3 = make_version(project, "v2"), make_version(project, "v3")

    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    try:
        blocker.cursor().execute("LOCK TABLE audit_logs IN SHARE MODE")
        first = Deploying(v2.pk, ops)
        first.start()
        wait_for(lambda: backends_waiting_on_locks() == 1, "v2's record waits on audit_logs")
        # The first deploy's record has begun: v2's deployment is no longer in progress
        # in its transaction, so the second claim is not refused as a concurrent deploy.
        second = Deploying(v3.pk, ops)
        second.start()
        wait_for(lambda: backends_waiting_on_locks() == 2, "v3's claim waits too")
        blocker.commit()
    finally:
        blocker.close()
    first.join(timeout=30)
    second.join(timeout=30)

    assert first.error is None, first.error
    assert second.error is None, (
        second.error.message if isinstance(second.error, ServiceError) else second.error
    )
    statuses = dict(
        AutomationVersion.objects.filter(project=project).values_list("version", "status")
    )
    assert statuses == {"v1": "Archived", "v2": "Archived", "v3": "Live"}
    assert Deployment.objects.get(automation_version=v3).previous_version == v2
    assert [call.workflow_id for call in wrk.calls_for("deactivate")] == [
        f"wf-{project.slug}-v1",
        f"wf-{project.slug}-v2",
    ]
    live = AutomationVersion.objects.select_related("workflow_binding").get(
        project=project, status=VersionStatus.LIVE
    )
    assert live.workflow_binding.status == BindingStatus.ACTIVE
