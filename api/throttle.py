"""Bearer-token failures count towards the same per-address lockout as admin logins
(django-axes, in the database so that every process and machine sees the same count).

A failed token is reported as a failed login (`user_login_failed`, which axes records);
a locked-out address is refused with 429 before its token is even looked up, so guessing
tokens costs the attacker the cool-off, whatever else they try from that address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

# How the admin's list of access attempts names a failed API token.
CREDENTIALS = {"username": "(API bearer token)"}


@dataclass(frozen=True, slots=True)
class Lockout:
    retry_after: int
    message: str


def api_lockout(request: HttpRequest) -> Lockout | None:
    """Why this address may not authenticate now, or None."""
    if AxesProxyHandler.is_allowed(request, CREDENTIALS):
        return None
    retry_after = _seconds_left(request)
    limit = get_failure_limit(request, CREDENTIALS)
    return Lockout(
        retry_after=retry_after,
        message=(
            f"Too many failed authentications from your address ({limit} in a row): try "
            f"again in {math.ceil(retry_after / 60)} minute(s), with a valid token."
        ),
    )


def api_auth_failed(request: HttpRequest) -> None:
    user_login_failed.send(sender=__name__, credentials=CREDENTIALS, request=request)


def _seconds_left(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    address = getattr(request, "axes_ip_address", None)
    last = AccessAttempt.objects.filter(ip_address=address).aggregate(at=Max("attempt_time"))["at"]
    if cool_off is None or last is None:
        return 60
    return max(1, math.ceil((last + cool_off - timezone.now()).total_seconds()))
