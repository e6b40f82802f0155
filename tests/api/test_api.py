"""SPEC §5: the JSON API over Django's test client, WRK over real HTTP."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from api.models import ApiToken, token_digest
from api.services import api_token_create
from audit.models import AuditLog
from automations.models import AutomationVersion, Deployment, VersionStatus
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db


def patch(client: HttpClient, version_id: int, body: object, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.patch(
        f"/v1/automation-versions/{version_id}/status",
        data=data,
        content_type=extra.pop("content_type", "application/json"),
        **extra,
    )


def status_of(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def test_it_deploys_through_the_api(api, wrk, live_project):
    project, v1, v2 = live_project
    response = patch(api, v2.pk, {"status": "Live"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == v2.pk
    assert body["version"] == "v2"
    assert body["status"] == "Live"
    assert body["project"] == {"id": project.pk, "slug": project.slug, "status": "Live"}
    assert body["workflow_binding"] == {
        "workflow_id": v2.workflow_binding.workflow_id,
        "status": "active",
    }
    assert body["deploy"]["attempts"] == 1
    assert body["deploy"]["archived_version_id"] == v1.pk
    assert body["deploy"]["previous_workflow_deactivation"] == "ok"
    assert (
        AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk)).metadata["source"]
        == "api"
    )


def test_get_returns_the_version(api, wrk, live_project):
    project, v1, _ = live_project
    response = api.get(f"/v1/automation-versions/{v1.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": v1.pk,
        "version": "v1",
        "status": "Live",
        "project": {"id": project.pk, "slug": project.slug, "status": "Live"},
        "workflow_binding": {"workflow_id": v1.workflow_binding.workflow_id, "status": "active"},
        "approval": None,
        "created_at": v1.created_at.isoformat(),
    }


def test_get_a_version_without_binding(api):
    version = make_version(make_project(), binding=False)
    assert api.get(f"/v1/automation-versions/{version.pk}").json()["workflow_binding"] is None


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ("{not json", "malformed_json", "not valid JSON"),
        ("[1, 2]", "bad_request", "JSON object"),
        ({}, "bad_request", "Missing field 'status'"),
        ({"status": 3}, "bad_request", "must be a string"),
        ({"status": None}, "bad_request", "must be a string"),
        ({"status": "live"}, "invalid_status", "Unknown status 'live'"),
        ({"status": "Archived"}, "invalid_transition", "cannot be set to 'Archived'"),
        ({"status": "Live", "force": True}, "bad_request", "Unknown field: force"),
        ({"status": "Live", "adopt": "yes"}, "bad_request", "'adopt' must be true or false"),
        ({"status": "Ready to Launch", "adopt": True}, "bad_request", "'adopt' goes with"),
    ],
)
def test_bad_input_gets_400_and_changes_nothing(api, wrk, live_project, body, code, fragment):
    _, _, v2 = live_project
    response = patch(api, v2.pk, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert fragment in error["message"]
    assert status_of(v2) == VersionStatus.READY
    assert wrk.calls == []


def test_a_non_json_content_type_gets_400(api, wrk, live_project):
    _, _, v2 = live_project
    response = patch(api, v2.pk, "status=Live", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert status_of(v2) == VersionStatus.READY


def test_an_invalid_transition_gets_400(api, wrk, live_project):
    _, v1, _ = live_project
    response = patch(api, v1.pk, {"status": "Live"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_transition"


def test_no_binding_gets_400(api, wrk):
    version = make_version(make_project(), binding=False)
    # Draft without binding: the API's answer for a deploy is the transition error first.
    response = patch(api, version.pk, {"status": "Ready to Launch"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_workflow_binding"
    assert "build must complete first" in response.json()["error"]["message"]


def test_missing_or_bad_credentials_get_401(wrk, live_project):
    _, _, v2 = live_project
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = patch(HttpClient(headers=headers), v2.pk, {"status": "Live"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert status_of(v2) == VersionStatus.READY


def test_a_token_of_an_inactive_user_gets_401(wrk, live_project, ops_user):
    _, _, v2 = live_project
    secret = api_token_create(user=ops_user)[1]
    ops_user.is_active = False
    ops_user.save()
    client = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    assert patch(client, v2.pk, {"status": "Live"}).status_code == 401


def test_a_user_without_permission_gets_403(wrk, live_project):
    _, _, v2 = live_project
    secret = api_token_create(user=make_user(staff=True))[1]
    client = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    response = patch(client, v2.pk, {"status": "Live"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert client.get(f"/v1/automation-versions/{v2.pk}").status_code == 403
    assert status_of(v2) == VersionStatus.READY


def test_an_unknown_version_gets_404(api, wrk):
    assert patch(api, 999999, {"status": "Live"}).status_code == 404
    response = api.get("/v1/automation-versions/999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_concurrent_deploy_gets_409(api, wrk, live_project):
    project, _, v2 = live_project
    v3 = make_version(project, "v3")
    Deployment.objects.create(project=project, automation_version=v3, workflow_id="x", source="api")
    response = patch(api, v2.pk, {"status": "Live"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "deploy_in_progress"


def test_activation_failure_gets_502(api, wrk, live_project):
    _, v1, v2 = live_project
    wrk.fail_next(100, status=503, op="activate")
    response = patch(api, v2.pk, {"status": "Live"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "activation_failed"
    assert "HTTP 503" in error["message"]
    assert status_of(v2) == VersionStatus.ERROR
    assert status_of(v1) == VersionStatus.LIVE


def test_ready_to_launch_restages_an_error_version(api, wrk, live_project):
    _, _, v2 = live_project
    wrk.fail_next(100, status=503, op="activate")
    patch(api, v2.pk, {"status": "Live"})
    wrk.reset()
    response = patch(api, v2.pk, {"status": "Ready to Launch"})
    assert response.status_code == 200
    assert response.json()["status"] == "Ready to Launch"
    assert patch(api, v2.pk, {"status": "Live"}).json()["status"] == "Live"


def test_wrong_method_gets_405(api, wrk, live_project):
    _, _, v2 = live_project
    response = api.post(f"/v1/automation-versions/{v2.pk}/status", data={})
    assert response.status_code == 405
    assert response["Allow"] == "PATCH"


def test_a_staff_session_works_and_needs_csrf(wrk, live_project, ops_user):
    _, _, v2 = live_project
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(ops_user)
    assert client.get(f"/v1/automation-versions/{v2.pk}").status_code == 200
    response = patch(client, v2.pk, {"status": "Live"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    client.get("/admin/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = patch(client, v2.pk, {"status": "Live"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert status_of(v2) == VersionStatus.LIVE


def test_a_client_user_session_is_not_enough(wrk, live_project):
    _, _, v2 = live_project
    client = HttpClient()
    client.force_login(make_user())
    assert client.get(f"/v1/automation-versions/{v2.pk}").status_code == 401


def test_tokens_are_stored_hashed(ops_user):
    token, secret = api_token_create(user=ops_user)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == token_digest(secret)
    assert secret not in {stored.digest, stored.hint, stored.name}


def test_the_openapi_document_describes_the_api(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    patch_op = doc["paths"]["/v1/automation-versions/{version_id}/status"]["patch"]
    assert set(patch_op["responses"]) == {
        *("200", "400", "401", "403", "404", "409", "411", "413", "422", "429", "431"),
        *("500", "502"),
        "default",
    }
    get_op = doc["paths"]["/v1/automation-versions/{version_id}"]["get"]
    assert set(get_op["responses"]) == {"200", "401", "403", "404", "429", "431", "500", "default"}
    errors = [
        response
        for path in doc["paths"].values()
        for operation in path.values()
        for status, response in operation["responses"].items()
        if not status.startswith("2")
    ]
    assert all(
        e["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        for e in errors
    )
    schemas = doc["components"]["schemas"]
    assert schemas["AutomationVersion"]["properties"]["status"]["enum"] == [
        "Draft",
        "Ready to Launch",
        "Live",
        "Archived",
        "Error",
    ]
    # Every $ref points at a schema that exists.
    refs = {
        ref.rsplit("/", 1)[1]
        for ref in json.dumps(doc).split('"$ref": "')[1:]
        for ref in [ref.split('"', 1)[0]]
    }
    assert refs <= set(schemas)
