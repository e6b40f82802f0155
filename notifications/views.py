"""The in-app notification list, for ops (in the admin's look) and client users alike."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .models import Notification
from .selectors import notifications_for
from .services import notification_mark_read, notifications_mark_all_read


def _safe(request: HttpRequest, target: str) -> bool:
    """A link of ours: on this host, or on SITE_URL's (the links in notifications)."""
    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts=hosts, require_https=request.is_secure()
    )


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), 25).get_page(  # type: ignore[arg-type]
        request.GET.get("page")
    )
    if not request.user.is_staff:
        return render(request, "notifications/list.html", {"page": page})
    # Ops read them inside the admin, in its look, with the way back to where they were.
    back = request.GET.get("next", "")
    context = {
        **admin.site.each_context(request),
        "title": "Notifications",
        "subtitle": None,
        "page": page,
        "back": back if _safe(request, back) else reverse("admin:index"),
    }
    return render(request, "notifications/admin_list.html", context)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    return HttpResponseRedirect(target if _safe(request, target) else reverse("notifications:list"))


@require_GET
@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link, marking it read: opening it is reading it."""
    try:
        notification = notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    link = notification.link
    if not _safe(request, link):
        return HttpResponseRedirect(reverse("notifications:list"))
    parts = urlsplit(link)
    if parts.netloc == urlsplit(settings.SITE_URL).netloc:
        # Links are absolute for email; in the app, stay on the host the user is on.
        link = parts._replace(scheme="", netloc="").geturl()
    return HttpResponseRedirect(link)


@require_POST
@login_required
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    return _back(request)


@require_POST
@login_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)  # type: ignore[arg-type]
    return _back(request)
