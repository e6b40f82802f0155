"""Client members who opted in hear of their projects' incidents by email.

Status connects to monitoring's signals itself, since the preference is the status app's and
notifications may not import status; status then asks notifications to deliver."""

from typing import Any

from monitoring import signals
from monitoring.models import Incident

from .services import incident_emails_queue


def on_incident_changed(sender: type, incident: Incident, **kwargs: Any) -> None:
    incident_emails_queue(incident=incident)


def connect() -> None:
    signals.incident_opened.connect(
        on_incident_changed, sender=Incident, dispatch_uid="status.incident_opened"
    )
    signals.incident_resolved.connect(
        on_incident_changed, sender=Incident, dispatch_uid="status.incident_resolved"
    )
