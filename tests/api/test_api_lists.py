"""SPEC §5: the lists (newest first, keyset cursors stable under inserts, constant queries)
and the registration of a version by a finished build."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.pagination import cursor_encode
from api.services import api_token_create
from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.models import (
    AutomationVersion,
    Client,
    Deployment,
    Project,
    WorkflowBinding,
)
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db


def register(client: HttpClient, body: object):
    return client.post(
        "/v1/automation-versions",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )


# --- registration ---------------------------------------------------------------------------


def test_a_build_registers_its_version_once(api, ops_user):
    project = make_project()
    body = {"project": project.pk, "version": "v1.2", "workflow_id": "wf-build-12"}
    created = register(api, body)
    assert created.status_code == 201, created.content
    version = AutomationVersion.objects.get(project=project, version="v1.2")
    assert created["Location"] == f"/v1/automation-versions/{version.pk}"
    assert created.json()["status"] == "Draft"
    assert created.json()["workflow_binding"] == {"workflow_id": "wf-build-12", "status": "pending"}
    assert version.created_by == ops_user

    again = register(api, body)
    assert again.status_code == 200
    assert again.json() == created.json()
    assert AutomationVersion.objects.filter(project=project).count() == 1
    assert AuditLog.objects.filter(action_type="register").count() == 1


def test_the_same_label_with_another_workflow_is_409(api):
    project = make_project()
    register(api, {"project": project.pk, "version": "v1", "workflow_id": "wf-a"})
    response = register(api, {"project": project.pk, "version": "v1", "workflow_id": "wf-b"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "version_exists"
    assert "wf-a" in response.json()["error"]["message"]
    assert AutomationVersion.objects.get(project=project).workflow_binding.workflow_id == "wf-a"


def test_a_workflow_serving_another_version_is_409(api):
    first, second = make_project(), make_project()
    register(api, {"project": first.pk, "version": "v1", "workflow_id": "wf-shared"})
    response = register(api, {"project": second.pk, "version": "v1", "workflow_id": "wf-shared"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "workflow_in_use"
    assert not AutomationVersion.objects.filter(project=second).exists()


def test_a_version_added_before_its_build_gets_the_builds_workflow(api, ops_user):
    project = make_project()
    draft = AutomationVersion.objects.create(project=project, version="v3", created_by=ops_user)
    response = register(api, {"project": project.pk, "version": "v3", "workflow_id": "wf-3"})
    assert response.status_code == 200
    assert response.json()["id"] == draft.pk
    assert response.json()["workflow_binding"]["workflow_id"] == "wf-3"


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"version": "v1", "workflow_id": "wf"}, "bad_request", "Missing field: project"),
        ({"project": "1", "version": "v1", "workflow_id": "wf"}, "bad_request", "project id"),
        ({"project": True, "version": "v1", "workflow_id": "wf"}, "bad_request", "project id"),
        ({"project": 0, "version": "v1", "workflow_id": "wf"}, "bad_request", "project id"),
        ({"project": 987654, "version": "v1", "workflow_id": "wf"}, "unknown_project", "987654"),
        ({"project": "P", "version": "", "workflow_id": "wf"}, "bad_request", "non-empty"),
        ({"project": "P", "version": "   ", "workflow_id": "wf"}, "bad_request", "non-empty"),
        ({"project": "P", "version": " v1", "workflow_id": "wf"}, "bad_request", "whitespace"),
        ({"project": "P", "version": "v" * 65, "workflow_id": "wf"}, "bad_request", "64"),
        ({"project": "P", "version": "v1", "workflow_id": 5}, "bad_request", "non-empty string"),
        ({"project": "P", "version": "v1", "workflow_id": "w" * 201}, "bad_request", "200"),
        ({"project": "P", "version": "v1", "workflow_id": "wf", "x": 1}, "bad_request", "x"),
        ("[1]", "bad_request", "JSON object"),
        ("{oops", "malformed_json", "not valid JSON"),
    ],
)
def test_bad_registrations_get_400_and_change_nothing(api, body, code, fragment):
    project = make_project()
    if isinstance(body, dict) and body.get("project") == "P":
        body = {**body, "project": project.pk}
    response = register(api, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert fragment in response.json()["error"]["message"]
    assert not AutomationVersion.objects.exists()


def test_registering_needs_the_add_permission(db):
    project = make_project()
    viewer = make_user(staff=True)
    client = HttpClient(headers={"Authorization": f"Bearer {api_token_create(user=viewer)[1]}"})
    body = {"project": project.pk, "version": "v1", "workflow_id": "wf"}
    response = register(client, body)
    assert response.status_code == 403
    # An unknown project answers the same: nothing learnt about ids.
    assert register(client, {**body, "project": 987654}).status_code == 403
    assert not AutomationVersion.objects.exists()


# --- lists --------------------------------------------------------------------------------------


def test_versions_newest_first_filtered_by_project_and_status(api, wrk, live_project):
    project, v1, v2 = live_project
    other = make_version(make_project(), "x1")
    everything = api.get("/v1/automation-versions").json()
    assert [row["id"] for row in everything["results"]] == [other.pk, v2.pk, v1.pk]
    assert everything["next_cursor"] is None
    mine = api.get(f"/v1/automation-versions?project={project.pk}").json()["results"]
    assert [row["id"] for row in mine] == [v2.pk, v1.pk]
    live = api.get(f"/v1/automation-versions?project={project.pk}&status=Live").json()
    assert [row["id"] for row in live["results"]] == [v1.pk]
    ready = api.get("/v1/automation-versions", {"status": "Ready to Launch"}).json()
    assert {row["id"] for row in ready["results"]} == {v2.pk, other.pk}
    assert mine[0] == api.get(f"/v1/automation-versions/{v2.pk}").json()


def test_projects_list_says_what_is_live_and_what_waits(api, wrk, live_project):
    project, v1, _ = live_project
    [row] = api.get("/v1/projects").json()["results"]
    assert row["id"] == project.pk
    assert row["live_version"] == {"id": v1.pk, "version": "v1"}
    assert row["waiting"] == {
        "ready": 1,
        "awaiting_approval": 0,
        "error": 0,
        "deactivation_pending": 0,
    }
    assert row["client"]["slug"] == project.client.slug


def test_deployments_name_their_version(api, wrk, live_project, ops_user):
    project, v1, v2 = live_project
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    make_version(other := make_project(), "o1")
    automation_version_deploy(version_id=other.versions.get().pk, actor=None, source="command")
    rows = api.get(f"/v1/deployments?project={project.pk}").json()["results"]
    assert [row["automation_version"] for row in rows] == [v2.pk, v1.pk]
    assert rows[0]["project"] == project.pk
    assert rows[0]["previous_version"] == v1.pk
    assert (rows[0]["status"], rows[0]["source"], rows[0]["actor"]) == (
        "succeeded",
        "api",
        ops_user.username,
    )
    assert len(api.get("/v1/deployments").json()["results"]) == 3


def test_the_cursor_is_stable_under_inserts(api):
    project = make_project()
    versions = [make_version(project, f"v{i}", binding=False) for i in range(5)]
    first = api.get("/v1/automation-versions?limit=2").json()
    assert [r["id"] for r in first["results"]] == [versions[4].pk, versions[3].pk]
    # Rows added meanwhile do not shift the pages that follow.
    make_version(project, "v-new-1", binding=False)
    make_version(project, "v-new-2", binding=False)
    second = api.get(f"/v1/automation-versions?limit=2&cursor={first['next_cursor']}").json()
    assert [r["id"] for r in second["results"]] == [versions[2].pk, versions[1].pk]
    third = api.get(f"/v1/automation-versions?limit=2&cursor={second['next_cursor']}").json()
    assert [r["id"] for r in third["results"]] == [versions[0].pk]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("cursor=nope", "invalid_cursor"),
        (f"cursor={cursor_encode(0)}", "invalid_cursor"),
        ("cursor=aWQ6LTE", "invalid_cursor"),
        ("limit=0", "bad_request"),
        ("limit=201", "bad_request"),
        ("limit=ten", "bad_request"),
        ("project=abc", "bad_request"),
        ("project=-1", "bad_request"),
        ("status=live", "invalid_status"),
        ("order=asc", "bad_request"),
    ],
)
def test_bad_list_parameters_get_400(api, query, code):
    response = api.get(f"/v1/automation-versions?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_lists_need_their_view_permission(db):
    outsider = make_user(staff=True)
    client = HttpClient(headers={"Authorization": f"Bearer {api_token_create(user=outsider)[1]}"})
    for path in ("/v1/automation-versions", "/v1/projects", "/v1/deployments"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"
    assert HttpClient().get("/v1/projects").status_code == 401


def _queries(api: HttpClient, path: str) -> int:
    api.get(path)  # the token's last use is written once a minute: not part of the count
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200
    return len(captured)


def _rows(n: int, actor) -> None:
    """n projects, each with a Live version (approved, deployed: with a deployment) that
    replaced an archived one whose workflow's deactivation failed. Bulk inserts: 500 of
    them through the services would take most of a minute."""
    start = Project.objects.count()
    client = Client.objects.create(name=f"Bulk {start}", slug=f"bulk-{start}")
    projects = Project.objects.bulk_create(
        Project(client=client, name=f"Bulk {i}", slug=f"bulk-{i}") for i in range(start, start + n)
    )
    old = AutomationVersion.objects.bulk_create(
        AutomationVersion(project=p, version="v1", status="Archived") for p in projects
    )
    live = AutomationVersion.objects.bulk_create(
        AutomationVersion(project=p, version="v2", status="Live", approved_by=actor)
        for p in projects
    )
    now = timezone.now()
    WorkflowBinding.objects.bulk_create(
        [
            *(
                WorkflowBinding(
                    automation_version=v,
                    workflow_id=f"wf-bulk-{v.pk}",
                    status="active",
                    deactivation_failed_at=now,
                )
                for v in old
            ),
            *(WorkflowBinding(automation_version=v, workflow_id=f"wf-bulk-{v.pk}") for v in live),
        ]
    )
    Deployment.objects.bulk_create(
        Deployment(
            project=p,
            automation_version=new,
            previous_version=replaced,
            workflow_id=f"wf-bulk-{new.pk}",
            source="api",
            status="succeeded",
            actor=actor,
        )
        for p, replaced, new in zip(projects, old, live, strict=True)
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/automation-versions?limit=200",
        "/v1/projects?limit=200",
        "/v1/deployments?limit=200",
    ],
)
def test_list_queries_do_not_grow_with_rows(api, ops_user, path):
    _rows(10, ops_user)
    ten = _queries(api, path)
    _rows(490, ops_user)
    assert Project.objects.count() == 500
    five_hundred = _queries(api, path)
    print(f"{path}: {ten} queries with 10 projects, {five_hundred} with 500")
    assert ten == five_hundred
