from typing import Any

from django.core.management.base import BaseCommand, CommandError

from automations.reconcile import deployments_reconcile


class Command(BaseCommand):
    help = (
        "Bring the database in line with WRK: finish deploys interrupted by a dead process "
        "(once older than DEPLOY_STALE_AFTER_SECONDS), retry failed deactivations of "
        "previous workflows, and tell ops once about a version in Error whose workflow WRK "
        "runs. Safe to run at any time, and from several machines at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = deployments_reconcile()
        for line in report.lines:
            self.stdout.write(line)
        if not report.lines:
            self.stdout.write("Nothing to reconcile.")
        if report.needs_wrk:
            raise CommandError(
                f"{len(report.unreachable)} deploy(s) and {len(report.deactivation_failed)} "
                "deactivation(s) still need WRK; run reconcile again later."
            )
