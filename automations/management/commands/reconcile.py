from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from automations.reconcile import deployments_reconcile


class Command(BaseCommand):
    help = (
        "Finish deploys interrupted after WRK activation, retry failed deactivations of "
        "previous workflows, and flag notification deliveries a dead worker left half-sent. "
        "Safe to run at any time (e.g. from cron every few minutes)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Treat in-progress deploys older than this as interrupted "
            "(default: DEPLOY_STALE_AFTER_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = options["stale_after"]
        report = deployments_reconcile(
            stale_after=timedelta(seconds=stale) if stale is not None else None
        )
        for line in report.lines:
            self.stdout.write(line)
        if not report.lines:
            self.stdout.write("Nothing to reconcile.")
        if report.unreachable or report.deactivation_failed:
            raise CommandError(
                f"{len(report.unreachable)} deploy(s) and {len(report.deactivation_failed)} "
                "deactivation(s) still need WRK; run reconcile again later."
            )
