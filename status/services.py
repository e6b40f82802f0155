"""Writes of the status app: a user's preferences, their feed token, and the incident emails
of the clients who asked for them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from automations.models import VersionStatus
from monitoring.models import Incident
from monitoring.redaction import without_workflow_ids
from notifications.models import Template
from notifications.services import notifications_email_clients

from .models import StatusProfile, validate_time_zone
from .selectors import incident_email_recipients
from .wording import IncidentStory, duration_text


def status_profile_update(*, user: User, time_zone: str, incident_emails: bool) -> StatusProfile:
    validate_time_zone(time_zone)
    profile, _ = StatusProfile.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "incident_emails": incident_emails}
    )
    return profile


def status_feed_token_reset(*, user: User) -> StatusProfile:
    """Every feed address of the user changes; the old ones answer 404 from now on."""
    profile, _ = StatusProfile.objects.get_or_create(user=user)
    StatusProfile.objects.filter(pk=profile.pk).update(feed_generation=F("feed_generation") + 1)
    profile.refresh_from_db(fields=["feed_generation"])
    return profile


def incident_facts(incident: Incident) -> dict[str, Any]:
    """What a client's incident email says: the project and what its runs do, never a
    workflow id (redacted from the error text too) nor who in ops did what."""
    binding = incident.binding
    version = binding.automation_version
    project = version.project
    resolved = incident.resolved_at
    error = without_workflow_ids(incident.last_error, [binding.workflow_id])
    story = IncidentStory(
        kind=incident.kind,
        failure_count=incident.failure_count,
        of_replaced_version=version.status == VersionStatus.ARCHIVED,
    )
    return {
        "client": project.client.name,
        "project": project.name,
        "project_slug": project.slug,
        "version": version.version,
        "incident_id": incident.pk,
        "resolved": resolved is not None,
        "what": story.what,
        "detail": story.detail,
        "recovery": story.recovery,
        "failure_count": incident.failure_count,
        "error": error or None,
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": resolved.isoformat() if resolved is not None else None,
        "lasted": duration_text(resolved - incident.opened_at) if resolved is not None else None,
        "status_url": settings.SITE_URL + reverse("status:project", args=[project.slug]),
        "at": timezone.now().isoformat(),
    }


def incident_emails_queue(*, incident: Incident) -> int:
    """An incident opened or resolved: email the members of the project's client who asked
    for it, in the incident's transaction. Returns how many were queued."""
    recipients = incident_email_recipients(
        client_id=incident.binding.automation_version.project.client_id
    )
    if recipients:
        notifications_email_clients(
            template=Template.CLIENT_INCIDENT,
            facts=incident_facts(incident),
            recipients=recipients,
        )
    return len(recipients)
