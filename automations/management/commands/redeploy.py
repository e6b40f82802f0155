from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from automations.deploy import (
    automation_version_deploy,
    deploy_check,
    deploy_check_approval,
    deploy_require_permission,
)
from automations.errors import ServiceError
from automations.models import AutomationVersion, DeploymentSource, VersionStatus
from automations.selectors import live_version, version_get
from automations.services import automation_version_restage

RESTAGEABLE = {VersionStatus.ERROR, VersionStatus.ARCHIVED}


class Command(BaseCommand):
    help = (
        "Deploy VERSION_ID to production through the same service as the admin button. "
        "A version in Error or Archived is re-staged first (retry or roll back)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int)
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would happen; change nothing."
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

    def _describe(self, version: AutomationVersion) -> str:
        binding = version.workflow_binding
        previous = live_version(project_id=version.project_id)
        lines = [
            f"Deploy {version.project.name} {version.version} (workflow {binding.workflow_id})"
        ]
        if version.status in RESTAGEABLE:
            kind = "roll back" if version.status == VersionStatus.ARCHIVED else "retry"
            lines.append(f"  first re-stage it from '{version.status}' ({kind})")
        if previous is not None and previous.pk != version.pk:
            previous_binding = previous.binding_or_none()
            workflow = previous_binding.workflow_id if previous_binding else "no workflow"
            lines.append(f"  archive {previous.version} and deactivate {workflow}")
        return "\n".join(lines)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options["user"])
        version_id: int = options["version_id"]
        try:
            deploy_require_permission(actor=actor)
            version = version_get(version_id=version_id)
            if version.status not in RESTAGEABLE:
                deploy_check(version=version)
            elif version.binding_or_none() is None:
                raise CommandError(
                    f"Version {version.version} has no workflow binding: the build must "
                    "complete first."
                )
            deploy_check_approval(version=version, actor=actor)
            plan = self._describe(version)
            if options["dry_run"]:
                self.stdout.write(f"Dry run, nothing changed. Would:\n{plan}")
                return
            self.stdout.write(plan)
            if version.status in RESTAGEABLE:
                automation_version_restage(
                    version_id=version_id, actor=actor, source=DeploymentSource.COMMAND
                )
            result = automation_version_deploy(
                version_id=version_id, actor=actor, source=DeploymentSource.COMMAND
            )
        except ServiceError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.version.project.name} {result.version.version} is Live "
                f"(WRK attempts: {result.attempts})."
            )
        )
        if result.deactivation == "failed":
            self.stderr.write(
                self.style.WARNING(
                    f"The previous workflow is still active: {result.deactivation_error} "
                    "Run `manage.py reconcile` to retry."
                )
            )
