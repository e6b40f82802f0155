"""Client status pages (SPEC §5): each project's state, runs, incidents and deploy history;
the user's settings; the Atom feed.

A project outside the user's clients is a 404, not a 403: its existence is not theirs to
know. Every page is per user, so none may be kept by a shared cache (`Cache-Control:
private`), and times are shown in the user's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .feeds import ProjectFeed
from .forms import StatusSettingsForm
from .pages import feed_address_token, project_page, project_summaries
from .selectors import (
    has_client_membership,
    profile_zone,
    status_profile,
    visible_project,
)
from .services import status_feed_token_reset, status_profile_update

View = Callable[..., HttpResponse]


def in_user_time_zone(view: View) -> View:
    """Render in the user's time zone (their profile's; UTC by default)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(profile_zone(status_profile(user=request.user))):
            return view(request, *args, **kwargs)

    return wrapper


private = cache_control(private=True, no_cache=True)


@require_GET
@private
@login_required
@in_user_time_zone
def status_index(request: HttpRequest) -> HttpResponse:
    summaries = project_summaries(user=request.user, now=timezone.now())  # type: ignore[arg-type]
    return render(request, "status/index.html", {"summaries": summaries})


@require_GET
@private
@login_required
@in_user_time_zone
def project_status_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    project = visible_project(user=user, slug=slug)  # type: ignore[arg-type]
    if project is None:
        raise Http404("No such project.")
    profile = status_profile(user=user)
    page = project_page(project=project, zone=profile_zone(profile), now=timezone.now())
    token = feed_address_token(user=user, profile=profile, project=project)  # type: ignore[arg-type]
    feed_url = reverse("status:feed", args=[project.slug, token])
    return render(request, "status/project.html", {"page": page, "feed_url": feed_url})


@require_http_methods(["GET", "POST"])
@private
@login_required
@in_user_time_zone
def status_settings(request: HttpRequest) -> HttpResponse:
    profile = status_profile(user=request.user)
    form = StatusSettingsForm(
        request.POST or None,
        initial={"time_zone": profile.time_zone, "incident_emails": profile.incident_emails},
    )
    if request.method == "POST" and form.is_valid():
        status_profile_update(
            user=request.user,  # type: ignore[arg-type]
            time_zone=form.cleaned_data["time_zone"],
            incident_emails=form.cleaned_data["incident_emails"],
        )
        messages.success(request, "Your settings are saved.")
        return HttpResponseRedirect(reverse("status:settings"))
    context = {
        "form": form,
        "client_member": has_client_membership(user=request.user),  # type: ignore[arg-type]
    }
    return render(request, "status/settings.html", context)


@require_POST
@private
@login_required
def feed_token_reset(request: HttpRequest) -> HttpResponse:
    status_feed_token_reset(user=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        "Your feed addresses have changed: the old ones no longer work. "
        "Subscribe again from each project's page.",
    )
    return HttpResponseRedirect(reverse("status:settings"))


project_feed = require_GET(private(ProjectFeed()))
