"""The JSON shapes of the API's resources (SPEC §5). Each reads only what its list query
selects, so that a page costs the same number of queries however many rows it holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from automations.deploy import DeployResult
from automations.models import AutomationVersion, Deployment, Project


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# What version_to_dict reads, for list queries.
VERSION_RELATED = ("project", "workflow_binding", "approved_by")


def version_to_dict(version: AutomationVersion) -> dict[str, Any]:
    binding = version.binding_or_none()
    project = version.project
    approver = version.approved_by
    return {
        "id": version.pk,
        "version": version.version,
        "status": version.status,
        "project": {"id": project.pk, "slug": project.slug, "status": project.status},
        "workflow_binding": (
            {"workflow_id": binding.workflow_id, "status": binding.status}
            if binding is not None
            else None
        ),
        "approval": (
            {"approved_by": approver.get_username(), "approved_at": _iso(version.approved_at)}
            if approver is not None
            else None
        ),
        "created_at": _iso(version.created_at),
    }


def deploy_to_dict(result: DeployResult) -> dict[str, Any]:
    return {
        "deployment_id": result.deployment.pk,
        "attempts": result.attempts,
        "archived_version_id": result.previous.pk if result.previous is not None else None,
        "previous_workflow_deactivation": result.deactivation,
        "previous_workflow_deactivation_error": result.deactivation_error or None,
    }


# What project_to_dict reads, for list queries (with `projects_with_overview`).
PROJECT_RELATED = ("client",)


def project_to_dict(project: Project) -> dict[str, Any]:
    live_id = getattr(project, "live_id", None)
    client = project.client
    return {
        "id": project.pk,
        "slug": project.slug,
        "name": project.name,
        "status": project.status,
        "client": {"id": client.pk, "slug": client.slug, "name": client.name},
        "live_version": (
            {"id": live_id, "version": getattr(project, "live_label", None)}
            if live_id is not None
            else None
        ),
        "waiting": {
            "ready": getattr(project, "ready_count", 0),
            "awaiting_approval": getattr(project, "awaiting_approval_count", 0),
            "error": getattr(project, "error_count", 0),
            "deactivation_pending": getattr(project, "deactivation_pending_count", 0),
        },
        "created_at": _iso(project.created_at),
    }


# What deployment_to_dict reads, for list queries.
DEPLOYMENT_RELATED = ("automation_version", "actor", "previous_version__workflow_binding")


def deployment_to_dict(deployment: Deployment) -> dict[str, Any]:
    previous = deployment.previous_version
    previous_binding = previous.binding_or_none() if previous is not None else None
    return {
        "id": deployment.pk,
        "project": deployment.project_id,
        "automation_version": deployment.automation_version_id,
        "version": deployment.automation_version.version,
        "workflow_id": deployment.workflow_id,
        "status": deployment.status,
        "source": deployment.source,
        "actor": deployment.actor.get_username() if deployment.actor is not None else None,
        "is_rollback": deployment.is_rollback,
        "attempts": deployment.attempts,
        "error": deployment.error or None,
        "previous_version": deployment.previous_version_id,
        # The replaced workflow's deactivation is an open incident (SPEC §4.8).
        "previous_workflow_still_active": bool(
            previous_binding is not None and previous_binding.deactivation_failed_at is not None
        ),
        "started_at": _iso(deployment.started_at),
        "finished_at": _iso(deployment.finished_at),
    }
