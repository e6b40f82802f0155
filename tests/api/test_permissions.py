"""Issue 7 A5: permission first, for every method and status, so that the API never tells
a user without the permission which ids exist (no 404-versus-403 oracle)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient

from api.errors import HTTP_STATUS
from api.services import api_token_create
from automations.errors import ErrorCode
from automations.models import AutomationVersion
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db

UNKNOWN = 987654


def client_for(user) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {api_token_create(user=user)[1]}"})


def answers(client: HttpClient, method: str, version_id: int, body: dict | None) -> tuple:
    url = f"/v1/automation-versions/{version_id}"
    if method == "GET":
        response = client.get(url)
    else:
        response = client.patch(
            f"{url}/status", data=json.dumps(body), content_type="application/json"
        )
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", None),
        ("PATCH", {"status": "Live"}),
        ("PATCH", {"status": "Ready to Launch"}),
    ],
)
@pytest.mark.parametrize("state", ["Draft", "Ready to Launch", "Error", "Archived", "Live"])
def test_a_user_without_the_permission_gets_403_for_known_and_unknown_ids_alike(
    wrk, method, body, state
):
    version = make_version(make_project(), ready=False)
    AutomationVersion.objects.filter(pk=version.pk).update(status=state)
    outsider = client_for(make_user(staff=True))
    known = answers(outsider, method, version.pk, body)
    unknown = answers(outsider, method, UNKNOWN, body)
    assert known == unknown == (403, "permission_denied")
    assert AutomationVersion.objects.get(pk=version.pk).status == state
    assert wrk.calls == []


def test_a_viewer_without_staging_permission_learns_nothing_from_patch(wrk):
    """Can view, cannot stage or deploy: GET works, PATCH answers 403 whatever the id."""
    viewer = make_user(staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_automationversion"))
    version = make_version(make_project())
    client = client_for(viewer)
    assert client.get(f"/v1/automation-versions/{version.pk}").status_code == 200
    for body in ({"status": "Live"}, {"status": "Ready to Launch"}):
        assert answers(client, "PATCH", version.pk, body) == (403, "permission_denied")
        assert answers(client, "PATCH", UNKNOWN, body) == (403, "permission_denied")


def test_with_the_permission_an_unknown_id_is_404(wrk):
    ops = client_for(make_user(ops=True))
    for method, body in (("GET", None), ("PATCH", {"status": "Live"})):
        assert answers(ops, method, UNKNOWN, body) == (404, "not_found")
    assert answers(ops, "PATCH", UNKNOWN, {"status": "Ready to Launch"}) == (404, "not_found")


def test_every_service_error_code_has_its_http_status():
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert HTTP_STATUS[ErrorCode.DEPLOY_RECONCILED] == 409
