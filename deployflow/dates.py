"""One way to write a moment everywhere (admin, emails, Slack): `2026-11-27 21:56 UTC`.

The formats live in deployflow/formats/, which Django reads through FORMAT_MODULE_PATH
ahead of its own English ones, so that the admin's columns and fields, the templates'
`date:"DATETIME_FORMAT"` and `when()` agree."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def when(moment: datetime) -> str:
    """A moment as the admin and the emails write it, in the current time zone (UTC)."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
