"""The periodic jobs and when each is due.

A job is a management command run by name (`call_command`), so a job whose app is not
installed yet is skipped with a warning instead of breaking the scheduler. Every scheduler
(`manage.py run_jobs`, one per machine or more) checks each job when it is due: under the
job's lock (`jobs.locks`), it reads the job's last start in `job_runs` and runs it only if
`every` seconds have passed. So however many schedulers run, each job runs once per interval
and never twice at once, and if one scheduler dies another takes its jobs over within one
interval.
"""

from __future__ import annotations

import io
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.management import call_command, get_commands
from django.db.models import F
from django.utils import timezone

from .locks import job_lock
from .log_context import current_job
from .models import JobOutcome, JobRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    command: str
    every: float
    args: tuple[str, ...] = ()


def scheduled_jobs() -> list[Job]:
    """The jobs of SPEC §5 that nobody should have to run by hand, with their intervals."""
    return [
        Job("reconcile", "reconcile", settings.JOB_RECONCILE_SECONDS),
        Job("poll_wrk", "poll_wrk", settings.JOB_POLL_WRK_SECONDS),
        Job(
            "prune_run_events",
            "prune_run_events",
            settings.JOB_PRUNE_SECONDS,
            ("--older-than", str(settings.RUN_EVENTS_RETENTION_DAYS)),
        ),
        Job("prune_idempotency_keys", "prune_idempotency_keys", settings.JOB_PRUNE_SECONDS),
    ]


class Attempt(StrEnum):
    RAN = "ran"
    # Another scheduler runs it right now.
    LOCKED = "locked"
    # It ran less than `every` seconds ago (here or on another machine).
    NOT_DUE = "not_due"
    SKIPPED = "skipped"


class JobUnavailable(Exception):
    """The job's command is not installed (its app is not deployed yet)."""


def call_job(job: Job) -> str:
    """Run the job's command; its output is the run's detail. A CommandError is a failure."""
    if job.command not in get_commands():
        raise JobUnavailable(f"The command {job.command!r} is not installed; the job was skipped.")
    out = io.StringIO()
    call_command(job.command, *job.args, stdout=out, stderr=out)
    return out.getvalue()


def seconds_until_due(job: Job, *, now: datetime | None = None) -> float:
    now = now or timezone.now()
    last = JobRun.objects.filter(name=job.name).values_list("started_at", flat=True).first()
    if last is None:
        return 0.0
    return max(0.0, (last + timedelta(seconds=job.every) - now).total_seconds())


_warned_unavailable: set[str] = set()


def job_run_if_due(job: Job, *, run: Callable[[Job], str] = call_job) -> Attempt:
    """Run the job if it is due and no other scheduler is running it; record the outcome."""
    with job_lock(job.name) as held:
        if not held:
            return Attempt.LOCKED
        if seconds_until_due(job) > 0:
            return Attempt.NOT_DUE
        _record_start(job)
        token = current_job.set(job.name)
        try:
            output = run(job)
        except JobUnavailable as exc:
            # Warned once per process, recorded every time: /readyz and /metrics show it.
            if job.name not in _warned_unavailable:
                _warned_unavailable.add(job.name)
                logger.warning("Periodic job %s: %s", job.name, exc)
            _record_end(job, JobOutcome.SKIPPED, str(exc))
            return Attempt.SKIPPED
        except Exception as exc:
            # Logged and recorded, then tried again at the next interval: a failing job
            # (WRK down, say) must not stop the others or the scheduler.
            logger.exception("Periodic job %s failed", job.name)
            _record_end(job, JobOutcome.FAILED, str(exc))
        else:
            logger.info("Periodic job %s done: %s", job.name, output.strip()[-500:])
            _record_end(job, JobOutcome.OK, output)
        finally:
            current_job.reset(token)
        return Attempt.RAN


def _record_start(job: Job) -> None:
    fields: dict[str, object] = {
        "started_at": timezone.now(),
        "finished_at": None,
        "outcome": JobOutcome.RUNNING,
        "detail": "",
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
    }
    # Under the job's lock: no other scheduler writes this row meanwhile.
    if not JobRun.objects.filter(name=job.name).update(runs=F("runs") + 1, **fields):
        JobRun.objects.create(name=job.name, runs=1, **fields)


def _record_end(job: Job, outcome: JobOutcome, detail: str) -> None:
    now = timezone.now()
    fields: dict[str, object] = {
        "finished_at": now,
        "outcome": outcome,
        "detail": detail[-JobRun.DETAIL_MAX_CHARS :],
    }
    if outcome == JobOutcome.OK:
        fields["last_success_at"] = now
    JobRun.objects.filter(name=job.name).update(**fields)
