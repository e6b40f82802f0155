"""Demo data, made through the same services as production (idempotent)."""

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import (
    AutomationVersion,
    Client,
    DeploymentSource,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from automations.selectors import OPS_GROUP
from automations.services import (
    automation_version_approve,
    automation_version_stage,
    workflow_binding_create,
)
from monitoring.events import run_event_parse
from monitoring.ingest import run_events_ingest
from monitoring.models import Incident, IncidentKind, RunRollup

# The project whose status page gets 90 days of past runs, so the demo shows a history.
HISTORY_PROJECT = "acme-invoice-sync"
HISTORY_DAYS = 90
# Days (ago) when the workflow failed more often than usual, and the one with an incident.
BAD_DAYS = {9: 0.12, 23: 0.05, 38: 0.08, 61: 0.2}
INCIDENT_DAY = 23
_ERRORS = (
    "Node 'Google Sheets' failed: quota exceeded",
    "Node 'HTTP Request' failed: upstream answered 502 Bad Gateway",
    "Execution timed out after 300 seconds",
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

        self._run_history()
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

    def _run_history(self) -> None:
        """Past runs of the Live workflow through the ingest (rollups and all): one every
        15 minutes for HISTORY_DAYS, ending an hour ago, where the stand-in WRK's own runs
        take over. Failures never come three in a row, so the ingest opens no incident (it
        would date it now); the one past incident is written as monitoring would have
        opened and resolved it then."""
        binding = WorkflowBinding.objects.filter(
            automation_version__project__slug=HISTORY_PROJECT,
            automation_version__status=VersionStatus.LIVE,
        ).first()
        if binding is None or RunRollup.objects.filter(binding=binding).exists():
            return
        rng = random.Random(24)  # noqa: S311 - demo data, not a secret
        end = timezone.now() - timedelta(hours=1)
        start = end - timedelta(days=HISTORY_DAYS)
        events, failed_in_a_row, n = [], 0, 0
        while (started := start + timedelta(minutes=15 * n)) < end:
            days_ago = (end - started).days
            fails = rng.random() < BAD_DAYS.get(days_ago, 0.01) and failed_in_a_row < 2
            failed_in_a_row = failed_in_a_row + 1 if fails else 0
            seconds = rng.uniform(1.5, 4.0) + (rng.random() < 0.05) * rng.uniform(5, 40)
            events.append(
                {
                    "id": f"{binding.workflow_id}-seed-{n}",
                    "workflow_id": binding.workflow_id,
                    "status": "error" if fails else "success",
                    "started_at": started.isoformat(),
                    "finished_at": (started + timedelta(seconds=seconds)).isoformat(),
                    "error": rng.choice(_ERRORS) if fails else None,
                }
            )
            n += 1
        for first in range(0, len(events), 1000):
            run_events_ingest(
                events=[run_event_parse(e) for e in events[first : first + 1000]],
                received_via="poll",
            )
        opened = (end - timedelta(days=INCIDENT_DAY)).replace(hour=2, minute=10)
        Incident.objects.create(
            binding=binding,
            kind=IncidentKind.FAILING,
            opened_at=opened,
            resolved_at=opened + timedelta(minutes=47),
            failure_count=5,
            last_error=_ERRORS[0],
            detail="5 runs failed in a row.",
            resolution="A run succeeded.",
        )
        self.stdout.write(f"  run history:   {len(events):,} past runs of {HISTORY_PROJECT}")
