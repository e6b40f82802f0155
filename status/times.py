"""Times as the status pages show them: in the active time zone (the user's), with the ISO
instant in UTC as the machine value and the tooltip.

Formatted by hand rather than with Django's localized `date_format`: the pages are in
English only, and a project page shows some 150 times, where `date_format` alone cost a
quarter of the page's time (bench/status_page.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_text(day: date) -> str:
    """`27 Nov 2026`."""
    return f"{day.day} {_MONTHS[day.month]} {day.year}"


def weekday_text(day: date) -> str:
    """`Fri 27 Nov 2026`."""
    return f"{_WEEKDAYS[day.weekday()]} {day_text(day)}"


def moment_text(moment: datetime) -> str:
    """`27 Nov 2026, 14:30` in the active time zone."""
    local = timezone.localtime(moment)
    return f"{day_text(local.date())}, {local.hour:02}:{local.minute:02}"


def time_element(moment: datetime | date | None) -> SafeString:
    """A `<time>` element; a `date` (a day already in the user's zone) as itself."""
    if moment is None:
        return mark_safe("—")
    if isinstance(moment, datetime):
        iso, shown = utc_iso(moment), moment_text(moment)
    else:
        iso, shown = moment.isoformat(), day_text(moment)
    return mark_safe(f'<time datetime="{iso}" title="{iso}">{escape(shown)}</time>')  # noqa: S308 - escaped
