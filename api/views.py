"""The JSON API of SPEC §5."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from automations.deploy import DeployResult, automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion, DeploymentSource, VersionStatus
from automations.selectors import version_get
from automations.services import automation_version_stage

from .errors import service_error_response
from .http import BadRequest, api_view, echo, error_response, parse_json_object
from .openapi import openapi_document

REQUESTABLE = (VersionStatus.LIVE.value, VersionStatus.READY.value)


def version_to_dict(version: AutomationVersion) -> dict[str, Any]:
    binding = version.binding_or_none()
    project = version.project
    return {
        "id": version.pk,
        "version": version.version,
        "status": version.status,
        "project": {"id": project.pk, "slug": project.slug, "status": project.status},
        "workflow_binding": (
            {"workflow_id": binding.workflow_id, "status": binding.status}
            if binding is not None
            else None
        ),
    }


def _deploy_to_dict(result: DeployResult) -> dict[str, Any]:
    return {
        "deployment_id": result.deployment.pk,
        "attempts": result.attempts,
        "archived_version_id": result.previous.pk if result.previous is not None else None,
        "previous_workflow_deactivation": result.deactivation,
        "previous_workflow_deactivation_error": result.deactivation_error or None,
    }


def _requested_status(data: dict[str, Any]) -> str:
    unknown = sorted(set(data) - {"status"})
    if unknown:
        raise BadRequest(f"Unknown field(s): {echo(', '.join(unknown))}. Only 'status' can be set.")
    if "status" not in data:
        raise BadRequest('Missing field \'status\', e.g. {"status": "Live"}.')
    status = data["status"]
    if not isinstance(status, str):
        raise BadRequest(f"'status' must be a string, not {type(status).__name__}.")
    if status not in VersionStatus.values:
        raise BadRequest(
            f"Unknown status {echo(repr(status))}; statuses are: "
            f"{', '.join(VersionStatus.values)}.",
            "invalid_status",
        )
    if status not in REQUESTABLE:
        raise BadRequest(
            f"A version cannot be set to '{status}' directly; request 'Live' (deploy) or "
            "'Ready to Launch' (mark ready, retry or roll back).",
            "invalid_transition",
        )
    return status


@api_view({"GET"})
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    if not request.api_user.has_perm("automations.view_automationversion"):  # type: ignore[attr-defined]
        return error_response(403, "permission_denied", "You may not view automation versions.")
    try:
        version = version_get(version_id=version_id)
    except ServiceError as exc:
        return service_error_response(exc)
    return JsonResponse(version_to_dict(version))


@api_view({"PATCH"})
def version_status(request: HttpRequest, version_id: int) -> HttpResponse:
    status = _requested_status(parse_json_object(request))
    actor = request.api_user  # type: ignore[attr-defined]
    try:
        if status == VersionStatus.LIVE:
            result = automation_version_deploy(
                version_id=version_id, actor=actor, source=DeploymentSource.API
            )
            return JsonResponse(
                {**version_to_dict(result.version), "deploy": _deploy_to_dict(result)}
            )
        automation_version_stage(version_id=version_id, actor=actor, source=DeploymentSource.API)
        return JsonResponse(version_to_dict(version_get(version_id=version_id)))
    except ServiceError as exc:
        return service_error_response(exc)


def openapi(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(request.build_absolute_uri("/")))
