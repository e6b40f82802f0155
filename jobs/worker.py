"""django-tasks-db's worker, plus a heartbeat and the sweeps after dead workers.

A worker beats when it starts and then every WORKER_HEARTBEAT_SECONDS, and sweeps when it
starts and then every WORKER_SWEEP_SECONDS. Both run on a background thread with its own
database connection: a long task must neither make its worker look dead nor hold up the
sweep. The sweeps are the apps' own services; this module only schedules them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Worker

from notifications.delivery import deliveries_recover

from .services import task_results_fail_orphaned, worker_heartbeat_beat, worker_heartbeat_end

logger = logging.getLogger(__name__)

# Tasks first: the deliveries sweep then sees the outbox as the dead worker left it.
SWEEPS: tuple[Callable[[], object], ...] = (task_results_fail_orphaned, deliveries_recover)

# A sweep stuck on the database must not keep a stopping worker from exiting.
STOP_TIMEOUT = 5.0


def sweep() -> None:
    # Whatever goes wrong is logged and tried again next time: the maintenance thread must
    # live on, or its silent heartbeat would get its worker's tasks failed.
    for job in SWEEPS:
        try:
            job()
        except Exception:
            logger.exception("The sweep %s failed; the next one will try again.", job.__name__)


class Maintenance(threading.Thread):
    def __init__(self, *, worker_id: str) -> None:
        super().__init__(name="db_worker-maintenance", daemon=True)
        self.worker_id = worker_id
        self._stopping = threading.Event()

    def run(self) -> None:
        next_beat = time.monotonic() + settings.WORKER_HEARTBEAT_SECONDS
        next_sweep = time.monotonic() + settings.WORKER_SWEEP_SECONDS
        try:
            while not self._stopping.wait(max(0.0, min(next_beat, next_sweep) - time.monotonic())):
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + settings.WORKER_HEARTBEAT_SECONDS
                    self._beat()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + settings.WORKER_SWEEP_SECONDS
                    sweep()
                # As the worker's own loop does: drop a broken or expired connection.
                close_old_connections()
        finally:
            connections.close_all()

    def _beat(self) -> None:
        try:
            worker_heartbeat_beat(worker_id=self.worker_id)
        except Exception:
            logger.exception("Worker %s could not write its heartbeat.", self.worker_id)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=STOP_TIMEOUT)


class DurableWorker(Worker):
    def run(self) -> None:
        # Beat before the first claim, so that no sweep takes this worker's tasks for orphans.
        worker_heartbeat_beat(worker_id=self.worker_id)
        sweep()
        maintenance = Maintenance(worker_id=self.worker_id)
        maintenance.start()
        try:
            super().run()
        finally:
            maintenance.stop()
            try:
                worker_heartbeat_end(worker_id=self.worker_id)
            except DatabaseError:
                logger.exception("Worker %s could not remove its heartbeat.", self.worker_id)
