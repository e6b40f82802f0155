"""Issue 7 (A3): a worker killed with SIGKILL in the middle of a batch of twelve emails.

Real `manage.py db_worker` processes on the test database, a real SMTP server that holds the
fourth message without answering, and thresholds of a second instead of a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from automations.deploy import automation_version_deploy
from jobs.models import WorkerHeartbeat
from jobs.selectors import workers_alive
from notifications.channels.email import message_id
from notifications.models import Delivery
from tests.factories import make_project, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0
FAST = {
    "WORKER_HEARTBEAT_SECONDS": "0.2",
    "WORKER_SWEEP_SECONDS": "0.2",
    "WORKER_DEAD_AFTER_SECONDS": "1",
    "NOTIFICATION_SENDING_STALE_SECONDS": "1",
}


def start_worker(worker_id: str, smtp_port: int, log: Path) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "WRK_", "WORKER_", "NOTIFICATION_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="deployflow.settings.test",
        TEST_DATABASE_URL=url,
        TEST_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        **FAST,
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-startup-delay",
                "--interval",
                "0.05",
                "--worker-id",
                worker_id,
            ],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until(condition: Callable[[], bool], what: str, log: Path) -> None:
    """Another process changes the database: poll it, for at most TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out until {what}. The workers said:\n{log.read_text()}")
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    wrk, smtp, settings, tmp_path
):
    settings.OPS_EMAILS = [f"ops{n:02}@agency.example" for n in range(1, 12)]
    version = make_version(make_project(contact_email="cto@client.example"))
    automation_version_deploy(version_id=version.pk, actor=None, source="api")
    recipients = set(Delivery.objects.values_list("recipient", flat=True))
    [task] = DBTaskResult.objects.all()
    assert len(recipients) == len(task.args_kwargs["kwargs"]["delivery_ids"]) == 12
    log = tmp_path / "workers.log"
    smtp.stall_on = 4

    first = start_worker("first", smtp.port, log)
    try:
        # Three acknowledged, the fourth taken in but never answered.
        smtp.wait_for(4, timeout=TIMEOUT)
    finally:
        first.kill()
        first.wait(timeout=TIMEOUT)
    smtp.release.set()

    delivered = [m.rcpt_tos[0] for m in smtp.messages[:3]]
    in_flight = smtp.messages[3].rcpt_tos[0]
    status = dict(Delivery.objects.values_list("recipient", "status"))
    assert [status[r] for r in delivered] == ["sent"] * 3
    assert status[in_flight] == "sending"
    assert Counter(status.values()) == {"sent": 3, "sending": 1, "pending": 8}
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING

    second = start_worker("second", smtp.port, log)
    try:
        wait_until(
            lambda: not Delivery.objects.exclude(status="sent").exists(), "all are sent", log
        )
        wait_until(
            lambda: DBTaskResult.objects.get(pk=task.pk).status != TaskResultStatus.RUNNING,
            "the dead worker's task is not RUNNING",
            log,
        )
        alive = workers_alive(within_seconds=1).values_list("worker_id", flat=True)
        assert list(alive) == ["second"]
    finally:
        second.terminate()
        second.wait(timeout=TIMEOUT)
    assert second.returncode == 0, log.read_text()

    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "jobs.services.WorkerDied"
    assert "worker 'first' died" in task.traceback
    arrivals = Counter(m.rcpt_tos[0] for m in smtp.messages)
    assert set(arrivals) == recipients
    assert {r: n for r, n in arrivals.items() if n > 1} == {in_flight: 2}
    assert {m.message["Message-ID"] for m in smtp.to(in_flight)} == {
        message_id(Delivery.objects.get(recipient=in_flight))
    }
    # The worker that stopped cleanly took its heartbeat away; the killed one's only ages.
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["first"]
