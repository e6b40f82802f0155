"""`manage.py poll_wrk`: pull run events and check WRK against the database (SPEC §5).

Cheap enough to run every minute from cron (see the README for its cost); overlapping runs
are harmless: nothing is stored twice and each drift is decided under a lock.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from monitoring.poll import wrk_poll


class Command(BaseCommand):
    help = "Pull run events of monitored workflows from WRK and detect drift."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.WRK_POLL_CONCURRENCY,
            help="WRK requests in flight at once.",
        )
        parser.add_argument(
            "--page-size", type=int, default=settings.WRK_POLL_PAGE_SIZE, help="Runs per page."
        )
        parser.add_argument(
            "--max-pages",
            type=int,
            default=settings.WRK_POLL_MAX_PAGES,
            help="Pages per workflow and run; the rest waits for the next run.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = wrk_poll(
            concurrency=options["concurrency"],
            page_size=options["page_size"],
            max_pages=options["max_pages"],
        )
        self.stdout.write(report.summary())
        for workflow_id in report.drift_opened:
            self.stdout.write(self.style.WARNING(f"drift: workflow {workflow_id}"))
        for workflow_id in report.drift_resolved:
            self.stdout.write(f"drift resolved: workflow {workflow_id}")
