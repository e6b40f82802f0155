from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from automations.deploy import (
    automation_version_adopt,
    automation_version_redeploy,
    wrk_reports_active,
)
from automations.errors import ServiceError
from automations.models import DeploymentSource
from automations.plan import deploy_plan, require_deploy_permission
from automations.selectors import version_get

SOURCE = DeploymentSource.COMMAND


class Command(BaseCommand):
    help = (
        "Deploy VERSION_ID to production through the same service as the admin button. "
        "A version in Error or Archived is re-staged first (retry or roll back). With "
        "--adopt, a version in Error whose workflow ops activated by hand in WRK is made "
        "Live once WRK reports it active, without asking WRK to activate it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int)
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would happen; change nothing."
        )
        parser.add_argument(
            "--adopt",
            action="store_true",
            help="Adopt the activation done by hand in WRK (version in Error): nothing "
            "changes unless WRK reports the workflow active.",
        )
        parser.add_argument(
            "--user",
            default=None,
            help="Act as this ops user (checked for the deploy permission, named in the "
            "audit trail). Without it the system acts.",
        )

    def _actor(self, username: str | None) -> User | None:
        if username is None:
            return None
        try:
            user: User = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options["user"])
        version_id: int = options["version_id"]
        try:
            require_deploy_permission(actor=actor)
            adopt: bool = options["adopt"]
            plan = deploy_plan(
                version=version_get(version_id=version_id),
                actor=actor,
                restage=True,
                adopt=adopt,
            )
            plan.raise_if_blocked()
            steps = "\n".join(f"  {step}" for step in plan.steps())
            if options["dry_run"]:
                self.stdout.write(f"Dry run, nothing changed. Would:\n{steps}")
                if adopt and plan.workflow_id is not None:
                    # A read: what the adoption would find now.
                    active = wrk_reports_active(workflow_id=plan.workflow_id)
                    self.stdout.write(
                        f"WRK reports workflow {plan.workflow_id} "
                        + (
                            "active: it can be adopted."
                            if active
                            else "inactive: nothing to adopt."
                        )
                    )
                return
            self.stdout.write(f"{'Adopting' if adopt else 'Deploying'}:\n{steps}")
            deploy = automation_version_adopt if adopt else automation_version_redeploy
            result = deploy(version_id=version_id, actor=actor, source=SOURCE)
        except ServiceError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.version.project.name} {result.version.version} is Live "
                + (
                    "(the activation done in WRK was adopted)."
                    if result.attempts is None
                    else f"(WRK attempts: {result.attempts})."
                )
            )
        )
        if result.deactivation == "failed":
            self.stderr.write(
                self.style.WARNING(
                    f"The previous workflow is still active: {result.deactivation_error} "
                    "Run `manage.py reconcile` to retry."
                )
            )
