"""How the admin shows statuses and durations: one badge style for every status."""

from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import slugify

from .models import Deployment, DeploymentStatus


def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="df-badge df-badge-{}">{}</span>', slugify(status) or "none", status
    )


def duration(started: datetime | None, finished: datetime | None) -> str:
    if started is None or finished is None:
        return "—"
    seconds = (finished - started).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def deployment_outcome(deployment: Deployment) -> SafeString:
    """A succeeded deploy whose replaced workflow WRK never confirmed stopped says so, for
    as long as that incident is open (the row needs `previous_version__workflow_binding`)."""
    previous = deployment.previous_version
    binding = previous.binding_or_none() if previous is not None else None
    if (
        deployment.status == DeploymentStatus.SUCCEEDED
        and binding is not None
        and binding.deactivation_failed_at is not None
    ):
        return format_html(
            '<span class="df-badge df-badge-warning" title="WRK has not confirmed the '
            'deactivation of {}">succeeded — old workflow still active</span>',
            binding.workflow_id,
        )
    return status_badge(deployment.status)
