"""Client status pages (SPEC §5): a project's live version, its runs and its deploy history.

A project outside the user's clients is a 404, not a 403: its existence is not theirs to know.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .selectors import project_runs, project_status, projects_visible_to


@require_GET
@login_required
def status_index(request: HttpRequest) -> HttpResponse:
    projects = projects_visible_to(user=request.user)  # type: ignore[arg-type]
    return render(request, "status/index.html", {"projects": projects})


@require_GET
@login_required
def project_status_page(request: HttpRequest, slug: str) -> HttpResponse:
    visible = projects_visible_to(user=request.user)  # type: ignore[arg-type]
    project = get_object_or_404(visible, slug=slug)
    return render(
        request,
        "status/project.html",
        {"page": project_status(project=project), "runs": project_runs(project=project)},
    )
