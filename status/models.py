"""A client user's own choices for the status pages: time zone, feed token, incident emails.

Status owns them, since they are about what clients see. A user without a row has the
defaults (UTC, the first feed token, no incident emails): a row is written only when the
user changes something.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

DEFAULT_TIME_ZONE = "UTC"


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    if name not in time_zone_names():
        raise ValidationError(f"{name!r} is not an IANA time zone name.", code="time_zone")


class StatusProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="status_profile",
    )
    time_zone = models.CharField(
        max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )
    # The user's feed addresses are derived from this number (tokens.py), so nothing secret
    # is stored: resetting the token moves it on, and every older address answers 404.
    feed_generation = models.PositiveIntegerField(default=0)
    # An email when an incident opens or resolves on one of the user's client's projects.
    incident_emails = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "status_profiles"

    def __str__(self) -> str:
        return f"status profile of user {self.user_id}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
