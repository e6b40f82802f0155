"""Heartbeats of the task workers, and the clean-up after workers that died.

django-tasks-db marks a task RUNNING when a worker claims it and only that worker ever
finishes it: if the worker is killed, the row stays RUNNING for good. Each worker therefore
beats in `worker_heartbeats`, and every worker's sweep fails the RUNNING tasks of workers that
stopped beating. The work such a task was doing is its owner's to recover (the outbox sends
again what a dead worker left half-sent: `notifications.delivery.deliveries_recover`).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat
from .selectors import workers_alive

logger = logging.getLogger(__name__)

# A dead worker's heartbeat says when it died, for whoever looks; after this it goes.
HEARTBEATS_KEPT = timedelta(days=1)


class WorkerDied(Exception):
    """Recorded on a task whose worker stopped beating while running it."""


WORKER_DIED = f"{WorkerDied.__module__}.{WorkerDied.__qualname__}"


def worker_heartbeat_beat(*, worker_id: str) -> None:
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=now):
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            beat_at=now,
        )


def worker_heartbeat_end(*, worker_id: str) -> None:
    """A worker stopping cleanly says so, rather than looking dead a minute later."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def task_results_fail_orphaned() -> list[str]:
    """Fail the RUNNING tasks whose worker has not beaten for WORKER_DEAD_AFTER_SECONDS;
    returns their ids."""
    dead_after = timedelta(seconds=settings.WORKER_DEAD_AFTER_SECONDS)
    now = timezone.now()
    alive = set(
        workers_alive(within_seconds=dead_after.total_seconds()).values_list("worker_id", flat=True)
    )
    # The live workers were read first, so a worker that started since then, and a task it
    # claimed, must not look orphaned: only tasks older than a dead worker's silence count.
    running = DBTaskResult.objects.running().filter(started_at__lt=now - dead_after)
    orphaned = {
        str(pk): worker_ids[-1] if worker_ids else ""
        for pk, worker_ids in running.values_list("pk", "worker_ids")
        if not worker_ids or worker_ids[-1] not in alive
    }
    last_seen = dict(
        WorkerHeartbeat.objects.filter(worker_id__in=set(orphaned.values())).values_list(
            "worker_id", "beat_at"
        )
    )
    failed = []
    for pk, worker_id in orphaned.items():
        beat_at = last_seen.get(worker_id)
        seen = f"last heartbeat at {beat_at:%Y-%m-%d %H:%M:%S} UTC" if beat_at else "no heartbeat"
        # Conditional on RUNNING, so that two workers sweeping at once fail it once.
        if DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=WORKER_DIED,
            traceback=(
                f"{WORKER_DIED}: worker {worker_id!r} died while running this task "
                f"(killed, crashed or cut off from the database; {seen}). "
                "Another worker's sweep marked it failed.\n"
            ),
        ):
            failed.append(pk)
            logger.warning("Task %s failed: worker %r died while running it.", pk, worker_id)
    WorkerHeartbeat.objects.filter(beat_at__lt=now - HEARTBEATS_KEPT).delete()
    return failed
