"""The API's lists (SPEC §5: newest first, keyset cursors) and the registration of a
version by a finished build."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import ngettext

from automations.errors import ServiceError
from automations.models import DeploymentSource, Project, VersionStatus
from automations.selectors import (
    deployments_filtered,
    projects_with_overview,
    versions_filtered,
)
from automations.services import automation_version_register

from .converters import MAX_ID
from .errors import service_error_response
from .http import BadRequest, api_view, echo, error_response, parse_json_object
from .pagination import paginate, query_int, refuse_unknown_params
from .representations import (
    DEPLOYMENT_RELATED,
    PROJECT_RELATED,
    VERSION_RELATED,
    deployment_to_dict,
    project_to_dict,
    version_to_dict,
)

# The registration's fields: name → (longest value, what it is).
TEXT_FIELDS = {"version": (64, "the version's label"), "workflow_id": (200, "the WRK workflow id")}


def _forbidden(what: str) -> HttpResponse:
    return error_response(403, "permission_denied", f"You may not view {what}.")


@api_view({"GET", "POST"})
def versions(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _register(request)
    if not request.api_user.has_perm("automations.view_automationversion"):  # type: ignore[attr-defined]
        return _forbidden("automation versions")
    refuse_unknown_params(request, {"project", "status"})
    status = request.GET.get("status")
    if status is not None and status not in VersionStatus.values:
        raise BadRequest(
            f"Unknown status {echo(repr(status))}; statuses are: "
            f"{', '.join(VersionStatus.values)}.",
            "invalid_status",
        )
    rows = versions_filtered(project_id=query_int(request, "project"), status=status)
    return JsonResponse(paginate(request, rows.select_related(*VERSION_RELATED), version_to_dict))


@api_view({"GET"})
def projects(request: HttpRequest) -> HttpResponse:
    if not request.api_user.has_perm("automations.view_project"):  # type: ignore[attr-defined]
        return _forbidden("projects")
    refuse_unknown_params(request, set())
    rows = projects_with_overview(Project.objects.select_related(*PROJECT_RELATED))
    return JsonResponse(paginate(request, rows, project_to_dict))


@api_view({"GET"})
def deployments(request: HttpRequest) -> HttpResponse:
    if not request.api_user.has_perm("automations.view_deployment"):  # type: ignore[attr-defined]
        return _forbidden("deployments")
    refuse_unknown_params(request, {"project"})
    rows = deployments_filtered(project_id=query_int(request, "project"))
    return JsonResponse(
        paginate(request, rows.select_related(*DEPLOYMENT_RELATED), deployment_to_dict)
    )


def _registration(data: dict[str, Any]) -> tuple[int, str, str]:
    fields = {"project", *TEXT_FIELDS}
    unknown = sorted(set(data) - fields)
    if unknown:
        what = ngettext("Unknown field", "Unknown fields", len(unknown))
        raise BadRequest(
            f"{what}: {echo(', '.join(unknown))}. Send project, version and workflow_id."
        )
    missing = sorted(fields - set(data))
    if missing:
        what = ngettext("Missing field", "Missing fields", len(missing))
        raise BadRequest(
            f"{what}: {', '.join(missing)}, e.g. "
            '{"project": 1, "version": "v1.2", "workflow_id": "wf-123"}.'
        )
    project = data["project"]
    if isinstance(project, bool) or not isinstance(project, int) or not 1 <= project <= MAX_ID:
        raise BadRequest(f"'project' must be a project id (a whole number from 1 to {MAX_ID}).")
    texts = []
    for name, (longest, what) in TEXT_FIELDS.items():
        value = data[name]
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"'{name}' must be a non-empty string: {what}.")
        if value != value.strip() or len(value) > longest:
            raise BadRequest(
                f"'{name}' must have at most {longest} characters and no surrounding "
                f"whitespace; got {echo(repr(value))}."
            )
        texts.append(value)
    return project, texts[0], texts[1]


def _register(request: HttpRequest) -> HttpResponse:
    """201 with a new Draft version (binding `pending`); 200 with the version when the
    same registration comes again."""
    project_id, label, workflow_id = _registration(parse_json_object(request))
    try:
        registration = automation_version_register(
            project_id=project_id,
            label=label,
            workflow_id=workflow_id,
            actor=request.api_user,  # type: ignore[attr-defined]
            source=DeploymentSource.API,
        )
    except ServiceError as exc:
        return service_error_response(exc)
    version = registration.version
    response = JsonResponse(version_to_dict(version), status=201 if registration.created else 200)
    response["Location"] = f"/v1/automation-versions/{version.pk}"
    return response
