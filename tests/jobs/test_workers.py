"""Issue 7 (A3): no task row stays RUNNING after its worker died.

Each worker beats in `worker_heartbeats`; the sweep fails the RUNNING tasks of the silent ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs.models import WorkerHeartbeat
from jobs.selectors import workers_alive
from jobs.services import task_results_fail_orphaned, worker_heartbeat_beat
from jobs.worker import Maintenance
from notifications.tasks import deliver_notifications
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
LONG_AGO = timedelta(seconds=settings.WORKER_DEAD_AFTER_SECONDS + 5)


def running_task(worker_id: str, *, started: timedelta = LONG_AGO) -> DBTaskResult:
    result = DBTaskResult.objects.get(pk=deliver_notifications.enqueue(delivery_ids=[]).id)
    result.claim(worker_id)
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=timezone.now() - started)
    return result


def beat(worker_id: str, *, ago: timedelta = timedelta(0)) -> None:
    worker_heartbeat_beat(worker_id=worker_id)
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=timezone.now() - ago)


def status(task: DBTaskResult) -> str:
    return DBTaskResult.objects.get(pk=task.pk).status


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out until {what}"
        time.sleep(0.02)


def test_the_task_of_a_dead_worker_is_failed_once():
    beat("dead", ago=LONG_AGO)
    silent = running_task("dead")
    never_beat = running_task("no-heartbeat")

    assert sorted(task_results_fail_orphaned()) == sorted([str(silent.pk), str(never_beat.pk)])
    assert task_results_fail_orphaned() == []

    failed = DBTaskResult.objects.get(pk=silent.pk)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.exception_class_path == "jobs.services.WorkerDied"
    assert "worker 'dead' died while running this task" in failed.traceback
    assert "last heartbeat at" in failed.traceback
    assert failed.finished_at is not None


def test_the_tasks_of_live_workers_and_of_new_workers_are_left_running():
    beat("alive")
    long_running = running_task("alive")
    # Claimed a moment ago by a worker whose first heartbeat this sweep might not see yet.
    just_claimed = running_task("starting", started=timedelta(0))

    assert task_results_fail_orphaned() == []
    assert status(long_running) == status(just_claimed) == TaskResultStatus.RUNNING


def test_workers_alive_are_those_that_beat_lately():
    beat("alive")
    beat("silent", ago=timedelta(seconds=61))
    beat("gone", ago=timedelta(days=2))

    assert [w.worker_id for w in workers_alive(within_seconds=60)] == ["alive"]
    task_results_fail_orphaned()
    # A heartbeat says when its worker died for a day, then it goes.
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {"alive", "silent"}


def test_the_maintenance_thread_beats_and_sweeps_until_stopped(settings):
    settings.WORKER_HEARTBEAT_SECONDS = settings.WORKER_SWEEP_SECONDS = 0.05
    orphan = running_task("dead")
    maintenance = Maintenance(worker_id="me")
    maintenance.start()
    try:
        wait_until(lambda: workers_alive(within_seconds=1).filter(worker_id="me").exists(), "beat")
        wait_until(lambda: status(orphan) == TaskResultStatus.FAILED, "the orphan is failed")
    finally:
        maintenance.stop()
    assert not maintenance.is_alive()


def test_a_worker_that_stops_cleanly_removes_its_heartbeat_and_sweeps_when_it_starts():
    orphan = running_task("dead")
    run_worker()
    assert status(orphan) == TaskResultStatus.FAILED
    assert not WorkerHeartbeat.objects.exists()
