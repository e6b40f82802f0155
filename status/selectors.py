"""What a client's status pages show, and who may see them."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet

from automations.models import (
    AutomationVersion,
    Deployment,
    DeploymentStatus,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from monitoring.models import FAILED_STATUSES, RunEvent
from monitoring.selectors import Health, health

HISTORY_LENGTH = 20
RECENT_FAILURES = 5


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """The projects of the clients the user belongs to; ops (who can view projects) see all."""
    projects = Project.objects.select_related("client").order_by("client__name", "name")
    if user.has_perm("automations.view_project"):
        return projects
    return projects.filter(client__members=user)


@dataclass(frozen=True)
class ProjectStatusPage:
    project: Project
    live: AutomationVersion | None
    live_since: Deployment | None
    history: list[Deployment]


def project_status(*, project: Project) -> ProjectStatusPage:
    live = (
        AutomationVersion.objects.filter(project=project, status=VersionStatus.LIVE)
        .select_related("workflow_binding")
        .first()
    )
    history = list(
        Deployment.objects.filter(project=project)
        .exclude(status=DeploymentStatus.IN_PROGRESS)
        .select_related("automation_version")
        .order_by("-started_at")[:HISTORY_LENGTH]
    )
    since = next(
        (
            d
            for d in history
            if live is not None
            and d.automation_version_id == live.pk
            and d.status == DeploymentStatus.SUCCEEDED
        ),
        None,
    )
    return ProjectStatusPage(project=project, live=live, live_since=since, history=history)


@dataclass(frozen=True)
class ProjectRuns:
    """What monitoring says of the project's workflows (from the hourly rollups), without
    workflow ids, which clients never see."""

    day: Health
    week: Health
    recent_failures: list[RunEvent]


def project_runs(*, project: Project) -> ProjectRuns:
    binding_ids = list(
        WorkflowBinding.objects.filter(automation_version__project=project).values_list(
            "pk", flat=True
        )
    )
    failures = list(
        RunEvent.objects.filter(workflow_binding_id__in=binding_ids, status__in=FAILED_STATUSES)
        .only("status", "started_at")
        .order_by("-started_at")[:RECENT_FAILURES]
    )
    return ProjectRuns(
        day=health(binding_ids=binding_ids, hours=24),
        week=health(binding_ids=binding_ids, hours=7 * 24),
        recent_failures=failures,
    )
