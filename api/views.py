"""The JSON API of SPEC §5: one version, its status (deploy, stage, adopt) and its approval.
The lists and the registration are in lists.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import ngettext

from automations.deploy import automation_version_adopt, automation_version_deploy
from automations.errors import ServiceError
from automations.models import DeploymentSource, VersionStatus
from automations.selectors import version_get
from automations.services import (
    automation_version_approve,
    automation_version_revoke_approval,
    automation_version_stage,
)

from .errors import service_error_response
from .http import BadRequest, api_view, echo, error_response, parse_json_object
from .openapi import openapi_document
from .representations import deploy_to_dict, version_to_dict

REQUESTABLE = (VersionStatus.LIVE.value, VersionStatus.READY.value)
API = DeploymentSource.API


def _requested_status(data: dict[str, Any]) -> tuple[str, bool]:
    """The requested status, and whether to adopt a manual activation in WRK."""
    unknown = sorted(set(data) - {"status", "adopt"})
    if unknown:
        what = ngettext("Unknown field", "Unknown fields", len(unknown))
        raise BadRequest(
            f"{what}: {echo(', '.join(unknown))}. Only 'status' (and 'adopt') can be set."
        )
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
    adopt = data.get("adopt", False)
    if not isinstance(adopt, bool):
        raise BadRequest(f"'adopt' must be true or false, not {type(adopt).__name__}.")
    if adopt and status != VersionStatus.LIVE:
        raise BadRequest(
            "'adopt' goes with 'Live': it makes a version in Error Live once WRK reports "
            'its workflow active (activated by hand), e.g. {"status": "Live", "adopt": true}.'
        )
    return status, adopt


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
    status, adopt = _requested_status(parse_json_object(request))
    actor = request.api_user  # type: ignore[attr-defined]
    try:
        if status == VersionStatus.LIVE:
            deploy = automation_version_adopt if adopt else automation_version_deploy
            result = deploy(version_id=version_id, actor=actor, source=API)
            return JsonResponse(
                {**version_to_dict(result.version), "deploy": deploy_to_dict(result)}
            )
        automation_version_stage(version_id=version_id, actor=actor, source=API)
        return JsonResponse(version_to_dict(version_get(version_id=version_id)))
    except ServiceError as exc:
        return service_error_response(exc)


@api_view({"POST", "DELETE"})
def version_approval(request: HttpRequest, version_id: int) -> HttpResponse:
    """POST approves the version (not its author; its approver may not deploy it);
    DELETE revokes its approval. Both answer the version."""
    actor = request.api_user  # type: ignore[attr-defined]
    service = (
        automation_version_approve
        if request.method == "POST"
        else automation_version_revoke_approval
    )
    try:
        service(version_id=version_id, actor=actor, source=API)
        return JsonResponse(version_to_dict(version_get(version_id=version_id)))
    except ServiceError as exc:
        return service_error_response(exc)


def openapi(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(request.build_absolute_uri("/")))
