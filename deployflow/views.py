from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


def home(request: HttpRequest) -> HttpResponseRedirect:
    """Ops land in the admin; client users on their status pages; others on the login page."""
    if request.user.is_authenticated and request.user.is_staff:
        return HttpResponseRedirect(reverse("admin:index"))
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("status:index"))
    return HttpResponseRedirect(reverse("login"))
