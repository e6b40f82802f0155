"""Times and figures on the status pages: `{% when moment %}` in the user's time zone (the
view activates it) with the ISO instant, in UTC, as the tooltip and the machine value."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString

from ..times import time_element
from ..wording import duration_text, milliseconds_text, percent_text

register = template.Library()


@register.simple_tag
def when(moment: datetime | date | None) -> SafeString:
    return time_element(moment)


@register.filter
def count(number: int) -> str:
    """`8,637`."""
    return f"{number:,}"


@register.filter
def percent(rate: float | None) -> str:
    return percent_text(rate)


@register.filter
def run_duration(ms: int | None) -> str:
    return milliseconds_text(ms)


@register.filter
def lasted(span: timedelta) -> str:
    return duration_text(span)


@register.simple_tag
def ago(moment: datetime | None) -> str:
    """How long ago, in the words of `lasted`: "3 min ago"."""
    if moment is None:
        return ""
    return f"{duration_text(timezone.now() - moment)} ago"
