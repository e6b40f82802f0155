"""Demo data, made through the same services as production (idempotent)."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion, Client, DeploymentSource, Project, VersionStatus
from automations.selectors import OPS_GROUP
from automations.services import (
    automation_version_approve,
    automation_version_stage,
    workflow_binding_create,
)

# (project slug, name, [(version label, has a binding, deploy it)])
PROJECTS = [
    (
        "acme-invoice-sync",
        "Invoice Sync",
        [("v1.0", True, True), ("v1.1", True, False)],
    ),
    ("acme-lead-router", "Lead Router", [("v1.0", True, False)]),
    ("acme-slack-digest", "Slack Digest", [("v0.1", False, False)]),
]


class Command(BaseCommand):
    help = "Create demo users, a client and projects with Live and Ready to Launch versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default="deployflow-demo", help="For all demo users.")

    def _user(self, username: str, password: str, *, staff: bool, email: str) -> User:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": email, "is_staff": staff}
        )
        if created:
            user.set_password(password)
            user.save()
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        ops_group = Group.objects.get(name=OPS_GROUP)
        ops = self._user("ops", password, staff=True, email="ops@agency.example")
        reviewer = self._user("reviewer", password, staff=True, email="reviewer@agency.example")
        ops.groups.add(ops_group)
        reviewer.groups.add(ops_group)
        client_user = self._user("client", password, staff=False, email="cto@acme.example")

        client, _ = Client.objects.get_or_create(
            slug="acme", defaults={"name": "Acme Corp", "contact_email": "cto@acme.example"}
        )
        client.members.add(client_user)
        for slug, name, versions in PROJECTS:
            project, _ = Project.objects.get_or_create(
                slug=slug, defaults={"client": client, "name": name}
            )
            project.collaborators.add(ops, client_user)
            for label, has_binding, deploy in versions:
                self._version(
                    project,
                    label,
                    has_binding=has_binding,
                    deploy=deploy,
                    ops=ops,
                    reviewer=reviewer,
                )

        self.stdout.write(
            self.style.SUCCESS("Demo data ready.")
            + f"\n  ops user:      ops / {password}  (Ops group: can deploy)"
            + f"\n  second ops:    reviewer / {password}  (for approvals)"
            + f"\n  client user:   client / {password}  (status pages only)"
        )

    def _version(
        self,
        project: Project,
        label: str,
        *,
        has_binding: bool,
        deploy: bool,
        ops: User,
        reviewer: User,
    ) -> None:
        version, _ = AutomationVersion.objects.get_or_create(
            project=project, version=label, defaults={"created_by": ops}
        )
        if has_binding and version.binding_or_none() is None:
            workflow_binding_create(version=version, workflow_id=f"wf-{project.slug}-{label}")
        source = DeploymentSource.COMMAND
        try:
            if has_binding and version.status == VersionStatus.DRAFT:
                automation_version_stage(version_id=version.pk, actor=ops, source=source)
            if deploy and not project.versions.filter(status=VersionStatus.LIVE).exists():
                if settings.DEPLOY_REQUIRE_APPROVAL:
                    # Four eyes: ops registered it, the reviewer approves, ops deploys.
                    automation_version_approve(version_id=version.pk, actor=reviewer, source=source)
                automation_version_deploy(version_id=version.pk, actor=ops, source=source)
        except ServiceError as exc:
            self.stderr.write(self.style.WARNING(f"{project.name} {label}: {exc.message}"))
