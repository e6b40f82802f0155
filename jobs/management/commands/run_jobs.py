"""`manage.py run_jobs`: run reconcile, poll_wrk and the run-event retention on their own
schedules (settings JOB_*_SECONDS), one instance of each at a time across machines."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from jobs.runner import run_jobs
from jobs.schedule import scheduled_jobs


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (reconcile, poll_wrk, prune_run_events) on their schedules "
        "until stopped (SIGINT or SIGTERM). Run one per machine, or several: each job runs "
        "once per interval, never twice at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        run_jobs(scheduled_jobs(), stopping)
