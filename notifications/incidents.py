"""Alerts of monitoring incidents: one when an incident opens, one when it is resolved.

Ops hear on every channel (email to the ops addresses, Slack when configured, in-app), and
so do the project's collaborators in-app. In-app titles never name a workflow id, since
collaborators may be client users; their link leads to the status page, ops' to the
incident in the admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from monitoring.models import Incident, IncidentKind
from monitoring.redaction import without_workflow_ids

from .models import Notification, Template
from .services import _facts, _ops_deliveries, _queue, project_audience


def _incident_facts(incident: Incident) -> dict[str, Any]:
    version = incident.binding.automation_version
    facts = _facts(version, None)
    facts.update(
        {
            "incident_id": incident.pk,
            "kind": incident.kind,
            "failure_count": incident.failure_count,
            "error": incident.last_error or None,
            "detail": incident.detail,
            "resolution": incident.resolution,
            "resolved_what": (
                "WRK runs it as recorded again"
                if incident.kind == IncidentKind.DRIFT
                else "runs succeed again"
            ),
            "admin_url": settings.SITE_URL
            + reverse("admin:monitoring_incident_change", args=[incident.pk]),
        }
    )
    return facts


def _notify(incident: Incident, template: Template, title: str, body: str) -> None:
    facts = _incident_facts(incident)
    audience = project_audience(incident.binding.automation_version.project_id)
    ops_ids, ops_emails = audience.ops_ids, audience.ops_emails
    # Ops who collaborate get the ops notice only.
    collaborator_ids = sorted(set(audience.collaborator_ids) - set(ops_ids))
    Notification.objects.bulk_create(
        [
            *(
                Notification(
                    recipient_id=user_id,
                    kind=template,
                    title=title,
                    body=body,
                    link=facts["admin_url"],
                )
                for user_id in ops_ids
            ),
            *(
                Notification(
                    recipient_id=user_id,
                    kind=template,
                    title=title,
                    body=body,
                    link=facts["status_url"],
                )
                for user_id in collaborator_ids
            ),
        ]
    )
    _queue(_ops_deliveries(template, facts, ops_emails))


def _label(incident: Incident) -> str:
    version = incident.binding.automation_version
    return f"{version.project.name} {version.version}"


def notifications_incident_opened(*, incident: Incident) -> None:
    if incident.kind == IncidentKind.DRIFT:
        _notify(
            incident,
            Template.WORKFLOW_DRIFT,
            f"{_label(incident)}: WRK does not run it as recorded",
            incident.detail,
        )
        return
    # Collaborators may be client users, who never see workflow ids, and WRK's error text
    # may name the workflow.
    _notify(
        incident,
        Template.RUNS_FAILING,
        f"{_label(incident)} is failing: {incident.failure_count} runs in a row",
        without_workflow_ids(incident.last_error, [incident.binding.workflow_id]),
    )


def notifications_incident_resolved(*, incident: Incident) -> None:
    what = "runs as recorded again" if incident.kind == IncidentKind.DRIFT else "recovered"
    _notify(incident, Template.INCIDENT_RESOLVED, f"{_label(incident)} {what}", "")
