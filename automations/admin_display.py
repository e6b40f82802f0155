"""How the admin shows statuses and durations: one badge style for every status."""

from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import slugify


def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="df-badge df-badge-{}">{}</span>', slugify(status) or "none", status
    )


def duration(started: datetime | None, finished: datetime | None) -> str:
    if started is None or finished is None:
        return "—"
    seconds = (finished - started).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
