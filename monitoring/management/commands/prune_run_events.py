"""`manage.py prune_run_events --older-than DAYS`: delete old raw run events in bounded
batches; hourly rollups and incidents stay. Run it daily from cron."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.retention import DEFAULT_BATCH_SIZE, run_events_prune


class Command(BaseCommand):
    help = "Delete run events older than DAYS days (rollups and incidents stay)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="Rows per DELETE, each in its own short transaction.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days, batch_size = options["older_than"], options["batch_size"]
        if days < 1:
            raise CommandError(f"--older-than must be at least 1 day, not {days}.")
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        deleted = run_events_prune(older_than=timedelta(days=days), batch_size=batch_size)
        self.stdout.write(
            f"Deleted {deleted} run event(s) older than {days} day(s); rollups and incidents "
            "are kept."
        )
