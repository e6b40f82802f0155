from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

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
            deploys, deactivations = len(report.unreachable), len(report.deactivation_failed)
            raise CommandError(
                ngettext("%(n)d deploy", "%(n)d deploys", deploys) % {"n": deploys}
                + " and "
                + ngettext("%(n)d deactivation", "%(n)d deactivations", deactivations)
                % {"n": deactivations}
                + " still need WRK; run reconcile again later."
            )
