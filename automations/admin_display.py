"""How the admin shows statuses, durations and the cells that pair two facts: one badge
style for every status, and a quieter second line where a column would be too many."""

import re
from datetime import datetime

from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from deployflow.words import attempts, source_words

from .models import AutomationVersion, Deployment, DeploymentStatus


def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="df-badge df-badge-{}">{}</span>', slugify(status) or "none", status
    )


def warning_badge(text: str, title: str = "") -> SafeString:
    return format_html('<span class="df-badge df-badge-warning" title="{}">{}</span>', title, text)


def with_quiet_line(main: object, quiet: object) -> SafeString:
    """Two facts in one cell: `main`, and `quiet` under it in small grey type."""
    return format_html('{}<div class="df-quiet">{}</div>', main, quiet)


def breakable(text: str) -> SafeString:
    """`text` (an email address, a dotted name) that may wrap after its `@` and its dots, and
    nowhere else, when its column is narrow."""
    return mark_safe(re.sub(r"([@.])", r"\1<wbr>", conditional_escape(text)))  # noqa: S308 - escaped first


def duration(started: datetime | None, finished: datetime | None) -> str:
    if started is None or finished is None:
        return "—"
    seconds = (finished - started).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def attempts_text(count: int | None) -> str:
    return "—" if count is None else attempts(count)


def version_link(version: AutomationVersion) -> SafeString:
    url = reverse("admin:automations_automationversion_change", args=[version.pk])
    return format_html('<a href="{}">{}</a>', url, version.version)


def workflow_cell(version: AutomationVersion) -> SafeString | str:
    """The version's WRK workflow and its binding's state; an open deactivation incident
    (WRK never confirmed the workflow stopped) as a warning. Needs `workflow_binding`."""
    binding = version.binding_or_none()
    if binding is None:
        return "—"
    state = status_badge(binding.status)
    if binding.deactivation_failed_at is not None:
        state = format_html(
            "{} {}",
            state,
            warning_badge("deactivation failed", "WRK has not confirmed its deactivation"),
        )
    return format_html('<span class="df-workflow">{}</span> {}', binding.workflow_id, state)


def deployment_outcome(deployment: Deployment) -> SafeString:
    """The deploy's status, and whether it was a rollback. A succeeded deploy whose replaced
    workflow WRK never confirmed stopped says so, for as long as that incident is open (the
    row needs `previous_version__workflow_binding`)."""
    previous = deployment.previous_version
    binding = previous.binding_or_none() if previous is not None else None
    if (
        deployment.status == DeploymentStatus.SUCCEEDED
        and binding is not None
        and binding.deactivation_failed_at is not None
    ):
        outcome = warning_badge(
            "succeeded — old workflow still active",
            f"WRK has not confirmed the deactivation of {binding.workflow_id}",
        )
    else:
        outcome = status_badge(deployment.status)
    if deployment.is_rollback:
        return format_html("{} {}", outcome, status_badge("rollback"))
    return outcome


def deployment_by(deployment: Deployment) -> SafeString:
    """Who deployed (or the system), and through what: the admin, the API, a command."""
    who = deployment.actor.get_username() if deployment.actor else "system"
    return with_quiet_line(who, f"via {source_words(deployment.source)}")
