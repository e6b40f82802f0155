"""`manage.py run_jobs`: a thread per periodic job, each waiting until its job is due.

A separate process rather than a thread of the task worker: the jobs call WRK and may take
minutes (reconcile with WRK down), which must delay neither the outbox nor the worker's
heartbeat; the jobs keep running unchanged when the task queue moves to RQ or Celery and
`db_worker` goes away; and one scheduler per machine is enough however many workers run.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connections

from .schedule import Attempt, Job, job_run_if_due, seconds_until_due

logger = logging.getLogger(__name__)

# How soon to look again when another scheduler holds the job, or the database failed.
RETRY_SECONDS = 5.0
# A stopping scheduler waits this long for its running jobs, then leaves them: each job is
# safe to interrupt (reconcile and the others are built to be run again), and the advisory
# lock goes with the process's database session.
STOP_TIMEOUT = 10.0


class JobLoop(threading.Thread):
    def __init__(self, job: Job, stopping: threading.Event) -> None:
        super().__init__(name=f"job-{job.name}", daemon=True)
        self.job = job
        self.stopping = stopping

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                wait = self._once()
                self.stopping.wait(wait)
        finally:
            connections.close_all()

    def _once(self) -> float:
        """Try the job; returns how long to wait before trying again."""
        try:
            close_old_connections()
            if job_run_if_due(self.job) == Attempt.LOCKED:
                return min(RETRY_SECONDS, self.job.every)
            return seconds_until_due(self.job)
        except Exception:
            logger.exception("Periodic job %s could not be scheduled; retrying.", self.job.name)
            return min(RETRY_SECONDS, self.job.every)


def run_jobs(jobs: list[Job], stopping: threading.Event) -> None:
    """Until `stopping` is set."""
    loops = [JobLoop(job, stopping) for job in jobs]
    for loop in loops:
        loop.start()
    logger.info("Scheduling %s.", ", ".join(f"{job.name} every {job.every:g} s" for job in jobs))
    stopping.wait()
    for loop in loops:
        loop.join(timeout=STOP_TIMEOUT)
        if loop.is_alive():
            logger.warning("Periodic job %s was still running at exit.", loop.job.name)
