"""Rows in bulk for the admin's query-count tests: every shape a changelist row can take
(with and without a workflow, approved or not, an open deactivation incident, a failed or a
rollback deploy, a system actor, a deleted project, Slack and email), inserted in a few
statements, since 1,000 of each through the services would take minutes."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from audit.models import ActionType, AuditLog
from automations.models import (
    AutomationVersion,
    BindingStatus,
    Client,
    Deployment,
    DeploymentStatus,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from notifications.models import Channel, Delivery, DeliveryStatus, Notification, Template

_batch = itertools.count(1)
STATUSES = [
    VersionStatus.DRAFT,
    VersionStatus.READY,
    VersionStatus.LIVE,
    VersionStatus.ARCHIVED,
    VersionStatus.ERROR,
]


def payload(version: AutomationVersion) -> dict[str, object]:
    return {
        "client": "Bulk client",
        "project": version.project.name,
        "project_slug": version.project.slug,
        "version": version.version,
        "version_id": version.pk,
        "workflow_id": f"wf-bulk-{version.pk}",
        "actor": "ops",
        "at": timezone.now().isoformat(),
        "admin_url": f"http://testserver/admin/automations/automationversion/{version.pk}/change/",
        "status_url": f"http://testserver/status/{version.project.slug}/",
        "attempts": 2,
        "archived_version": None,
    }


def versions_in(projects: list[Project], actor: User) -> list[AutomationVersion]:
    """One version per project, its status cycling through all five, with its binding
    (none for a Draft; an open deactivation incident for an Archived one)."""
    now = timezone.now()
    versions = AutomationVersion.objects.bulk_create(
        AutomationVersion(
            project=project,
            version=f"v{i}",
            status=STATUSES[i % len(STATUSES)],
            created_by=actor if i % 2 else None,
            approved_by=actor if i % 3 == 0 else None,
            approved_at=now if i % 3 == 0 else None,
        )
        for i, project in enumerate(projects)
    )
    WorkflowBinding.objects.bulk_create(
        WorkflowBinding(
            automation_version=version,
            workflow_id=f"wf-bulk-{version.pk}",
            status=BindingStatus.PENDING
            if version.status == VersionStatus.READY
            else BindingStatus.ACTIVE,
            deactivation_failed_at=now if version.status == VersionStatus.ARCHIVED else None,
        )
        for version in versions
        if version.status != VersionStatus.DRAFT
    )
    return versions


def deployments_of(versions: list[AutomationVersion], actor: User) -> None:
    """A deploy of each version: succeeded (replacing the one before it), failed with an
    error, a rollback, by the system."""
    now = timezone.now()
    Deployment.objects.bulk_create(
        Deployment(
            project=version.project,
            automation_version=version,
            workflow_id=f"wf-bulk-{version.pk}",
            previous_version=versions[i - 1] if i else None,
            actor=actor if i % 4 else None,
            source=["admin", "api", "command", "reconcile", "manual"][i % 5],
            status=DeploymentStatus.FAILED if i % 3 == 1 else DeploymentStatus.SUCCEEDED,
            is_rollback=i % 7 == 0,
            attempts=None if i % 5 == 4 else 1 + i % 3,
            error="WRK did not activate it after 3 attempts: HTTP 503: down" if i % 3 == 1 else "",
            finished_at=now + timedelta(seconds=2),
        )
        for i, version in enumerate(versions)
    )


def add_rows(n: int, *, actor: User, readers: list[User]) -> None:
    """n more rows of every changelist: projects, versions, deploys, audit rows,
    deliveries and in-app notifications."""
    batch = next(_batch)
    client = Client.objects.create(name=f"Bulk {batch}", slug=f"bulk-{batch}")
    projects = Project.objects.bulk_create(
        Project(client=client, name=f"Bulk {batch}-{i}", slug=f"bulk-{batch}-{i}") for i in range(n)
    )
    versions = versions_in(projects, actor)
    deployments_of(versions, actor)
    AuditLog.objects.bulk_create(
        AuditLog(
            actor=actor if i % 3 else None,
            actor_username=actor.username if i % 3 else "",
            action_type=[ActionType.DEPLOY, ActionType.DEACTIVATE_FAILED, ActionType.APPROVE][
                i % 3
            ],
            resource_type="automation_version" if i % 2 else "workflow_binding",
            resource_id=str(version.pk),
            # Now and then a project deleted since (its rows keep its id).
            project_id=version.project_id if i % 10 else 10**9 + i,
            metadata={
                "version": version.version,
                "version_id": version.pk,
                "workflow_id": f"wf-bulk-{version.pk}",
                "from_status": "Ready to Launch",
                "to_status": "Live",
                "source": "api",
                "error": "HTTP 503: down" if i % 3 == 1 else None,
            },
        )
        for i, version in enumerate(versions)
    )
    Delivery.objects.bulk_create(
        Delivery(
            channel=Channel.SLACK if i % 4 == 0 else Channel.EMAIL,
            template=Template.DEPLOYMENT_SUCCESS if i % 2 else Template.AUTOMATION_LIVE,
            recipient="slack-webhook" if i % 4 == 0 else f"ops{i}@agency.example",
            payload=payload(version),
            status=[DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.PENDING][i % 3],
            attempts=i % 4,
            last_error="SMTP 451: try again later" if i % 3 else "",
        )
        for i, version in enumerate(versions)
    )
    Notification.objects.bulk_create(
        Notification(
            recipient=readers[i % len(readers)],
            kind="deployment_success",
            title=f"{version.project.name} {version.version} is Live",
            link=f"/admin/automations/automationversion/{version.pk}/change/",
            read_at=timezone.now() if i % 2 else None,
        )
        for i, version in enumerate(versions)
    )


def add_history(project: Project, n: int, *, actor: User) -> None:
    """n more versions of `project` and n more deploys; the project keeps one Live version
    at most (only a fresh project gets the Live one)."""
    batch = next(_batch)
    statuses = [s for s in STATUSES if s != VersionStatus.LIVE]
    has_live = project.versions.filter(status=VersionStatus.LIVE).exists()
    versions = AutomationVersion.objects.bulk_create(
        AutomationVersion(
            project=project,
            version=f"h{batch}-{i}",
            status=VersionStatus.LIVE if i == 0 and not has_live else statuses[i % 4],
            approved_by=actor if i % 3 == 0 else None,
        )
        for i in range(n)
    )
    WorkflowBinding.objects.bulk_create(
        WorkflowBinding(
            automation_version=version,
            workflow_id=f"wf-bulk-{version.pk}",
            status=BindingStatus.ACTIVE,
            deactivation_failed_at=timezone.now()
            if version.status == VersionStatus.ARCHIVED
            else None,
        )
        for version in versions
        if version.status != VersionStatus.DRAFT
    )
    deployments_of(versions, actor)
