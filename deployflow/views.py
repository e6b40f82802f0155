import math
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from api.http import error_response
from api.middleware import API_PREFIX
from api.throttle import api_lockout


def home(request: HttpRequest) -> HttpResponseRedirect:
    """Ops land in the admin; client users on their status pages; others on the login page."""
    if request.user.is_authenticated and request.user.is_staff:
        return HttpResponseRedirect(reverse("admin:index"))
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("status:index"))
    return HttpResponseRedirect(reverse("login"))


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' answer to a login from a locked-out address (AXES_LOCKOUT_CALLABLE):
    429 with a page that says why and for how long, in the admin's look; under /v1/ (the
    failure that reached the limit was a bearer token), the API's JSON error."""
    if request.path_info.startswith(API_PREFIX) and (lockout := api_lockout(request)):
        return error_response(
            429,
            "too_many_attempts",
            lockout.message,
            **{"Retry-After": str(lockout.retry_after)},
        )
    cool_off = get_cool_off(request)
    seconds = math.ceil(cool_off.total_seconds()) if cool_off is not None else 60
    response = render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "minutes": math.ceil(seconds / 60),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
