"""The audit admin: read-only for everyone, filterable, and exportable as CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import urlencode

from audit.admin import CSV_COLUMNS
from audit.models import ActionType, AuditLog
from audit.services import audit_log_create
from automations.models import Project
from automations.selectors import OPS_GROUP
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditlog_changelist")
EXPORT = reverse("admin:audit_auditlog_export")


def log(
    *,
    action: ActionType = ActionType.DEPLOY,
    project: Project | None = None,
    actor: User | None = None,
    resource_id: int = 1,
    metadata: dict[str, Any] | None = None,
) -> AuditLog:
    return audit_log_create(
        actor=actor,
        action_type=action,
        resource_type="automation_version",
        resource_id=resource_id,
        project_id=project.pk if project is not None else None,
        metadata=metadata if metadata is not None else {},
    )


def logged_in(client: HttpClient, user: User) -> HttpClient:
    client.force_login(user)
    return client


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client_as(request: pytest.FixtureRequest, client: HttpClient) -> HttpClient:
    """Parametrized indirectly with "superuser" or "ops"."""
    if request.param == "superuser":
        user = User.objects.create_superuser("root", "root@example.com", "pw")
    else:
        user = make_user(ops=True)
    return logged_in(client, user)


def changelist_pks(response: Any) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def export_rows(response: HttpResponseBase) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(text)))


# Read-only, superusers included.


@pytest.mark.parametrize("admin_client_as", ["superuser", "ops"], indirect=True)
def test_it_refuses_add_change_and_delete(admin_client_as: HttpClient) -> None:
    row = log(metadata={"to_status": "Live"})
    change = reverse("admin:audit_auditlog_change", args=[row.pk])
    delete = reverse("admin:audit_auditlog_delete", args=[row.pk])

    assert admin_client_as.get(reverse("admin:audit_auditlog_add")).status_code == 403
    assert admin_client_as.post(reverse("admin:audit_auditlog_add"), {}).status_code == 403
    assert admin_client_as.post(change, {"action_type": "archive"}).status_code == 403
    assert admin_client_as.get(delete).status_code == 403
    assert admin_client_as.post(delete, {"post": "yes"}).status_code == 403
    # Viewing is allowed, and the page offers nothing to save.
    page = admin_client_as.get(change)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert AuditLog.objects.get(pk=row.pk).action_type == ActionType.DEPLOY


@pytest.mark.parametrize("admin_client_as", ["superuser", "ops"], indirect=True)
def test_the_changelist_offers_no_delete_action(admin_client_as: HttpClient) -> None:
    row = log()
    response = admin_client_as.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["action_form"] is None
    assert b"delete_selected" not in response.content

    admin_client_as.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_the_ops_group_may_view_the_audit_log() -> None:
    ops = Group.objects.get(name=OPS_GROUP)
    assert ops.permissions.filter(content_type__app_label="audit").count() == 1
    assert make_user(ops=True).has_perm("audit.view_auditlog")


# The changelist.


def test_the_changelist_shows_resource_project_actor_and_summary(
    client: HttpClient, superuser: User
) -> None:
    project = make_project()
    ops = make_user(ops=True)
    log(
        project=project,
        actor=ops,
        resource_id=7,
        metadata={
            "from_status": "Ready to Launch",
            "to_status": "Live",
            "workflow_id": "wf-42",
            "source": "admin",
        },
    )
    log(action=ActionType.ARCHIVE, resource_id=8)

    content = logged_in(client, superuser).get(CHANGELIST).content.decode()

    # The resource is a link to its version's page, not `automation_version:7`.
    assert '<a href="/admin/automations/automationversion/7/change/">version #7</a>' in content
    assert "automation_version:7" not in content
    project_url = f"/admin/automations/project/{project.pk}/change/"
    assert f'<div class="df-quiet"><a href="{project_url}">{project.name}</a></div>' in content
    assert f'<div class="df-quiet">by {ops.username}</div>' in content
    assert '<div class="df-quiet">by system</div>' in content
    assert "Ready to Launch → Live · workflow wf-42 · via admin" in content


def test_the_changelist_applies_filters_and_search(client: HttpClient, superuser: User) -> None:
    alpha, beta = make_project(), make_project()
    # A name without digits, so that searching for a resource id cannot match it.
    ops = User.objects.create_user("alice", is_staff=True)
    deploy_alpha = log(project=alpha, actor=ops, resource_id=1, metadata={"workflow_id": "wf-a"})
    deploy_beta = log(project=beta, resource_id=21, metadata={"workflow_id": "wf-b"})
    archive_alpha = log(action=ActionType.ARCHIVE, project=alpha, resource_id=2)
    client = logged_in(client, superuser)
    year = deploy_alpha.created_at.year

    cases: dict[str, list[AuditLog]] = {
        "action_type=deploy": [deploy_beta, deploy_alpha],
        f"project__id__exact={alpha.pk}": [archive_alpha, deploy_alpha],
        f"action_type=deploy&project__id__exact={alpha.pk}": [deploy_alpha],
        f"actor={ops.username}": [deploy_alpha],
        "actor=(system)": [archive_alpha, deploy_beta],
        "q=wf-b": [deploy_beta],
        "q=2": [archive_alpha],  # the resource id matches exactly: 21 is not 2
        f"created_at__year={year}": [archive_alpha, deploy_beta, deploy_alpha],
        # The date filter's own links carry aware datetimes like these.
        urlencode(
            {
                "created_at__gte": "2000-01-01 00:00:00+00:00",
                "created_at__lt": "2000-01-02 00:00:00+00:00",
            }
        ): [],
    }
    for query, expected in cases.items():
        response = client.get(f"{CHANGELIST}?{query}")
        assert response.status_code == 200, query
        assert changelist_pks(response) == [row.pk for row in expected], query


def test_the_export_link_keeps_the_filters_and_search(client: HttpClient, superuser: User) -> None:
    client = logged_in(client, superuser)

    assert f'href="{EXPORT}"' in client.get(CHANGELIST).content.decode()
    filtered = client.get(f"{CHANGELIST}?action_type=deploy&q=wf-1&p=2").content.decode()
    # The page number is the changelist's business; the export takes every matching row.
    assert f'href="{EXPORT}?action_type=deploy&amp;q=wf-1"' in filtered


# The CSV export.


def test_it_exports_exactly_the_filtered_rows(client: HttpClient, superuser: User) -> None:
    alpha, beta = make_project(), make_project()
    ops = make_user(ops=True)
    wanted = log(
        project=alpha, actor=ops, resource_id=5, metadata={"workflow_id": "wf-a", "attempts": 2}
    )
    log(action=ActionType.ARCHIVE, project=alpha)
    log(project=beta)

    response = logged_in(client, superuser).get(
        f"{EXPORT}?action_type=deploy&project__id__exact={alpha.pk}"
    )

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="audit-log-\d{8}T\d{6}Z\.csv"', response["Content-Disposition"]
    )
    header, *rows = export_rows(response)
    assert header == CSV_COLUMNS
    assert rows == [
        [
            str(wanted.pk),
            wanted.created_at.isoformat(),
            "deploy",
            "automation_version",
            "5",
            str(alpha.pk),
            ops.username,
            '{"attempts": 2, "workflow_id": "wf-a"}',
        ]
    ]
    assert datetime.fromisoformat(rows[0][1]) == wanted.created_at
    assert json.loads(rows[0][7]) == wanted.metadata


def test_the_export_follows_the_search_and_the_changelist_order(
    client: HttpClient, superuser: User
) -> None:
    first = log(metadata={"workflow_id": "wf-match"})
    log(metadata={"workflow_id": "wf-other"})
    last = log(metadata={"workflow_id": "wf-match-too"})
    client = logged_in(client, superuser)

    _, *rows = export_rows(client.get(f"{EXPORT}?q=wf-match"))
    assert [int(row[0]) for row in rows] == [last.pk, first.pk]
    _, *everything = export_rows(client.get(EXPORT))
    assert len(everything) == 3


def test_the_export_refuses_users_without_the_view_permission(client: HttpClient) -> None:
    log()

    anonymous = client.get(EXPORT)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))

    staff = logged_in(client, make_user(staff=True)).get(EXPORT)
    assert staff.status_code == 403

    ops = logged_in(client, make_user(ops=True)).get(EXPORT)
    assert ops.status_code == 200
    assert len(export_rows(ops)) == 2


def test_the_export_sends_wrong_parameters_back_to_the_changelist(
    client: HttpClient, superuser: User
) -> None:
    response = logged_in(client, superuser).get(f"{EXPORT}?no_such_field=1")
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?e=1"


# Rows outliving their project.


def test_a_row_whose_project_was_deleted_still_renders_and_exports(
    client: HttpClient, superuser: User
) -> None:
    project = make_project()
    row = log(project=project)
    project_id = project.pk
    project.delete()
    client = logged_in(client, superuser)

    changelist = client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert f"#{project_id} (deleted)" in changelist.content.decode()
    change = client.get(reverse("admin:audit_auditlog_change", args=[row.pk]))
    assert change.status_code == 200
    assert f"#{project_id} (deleted)" in change.content.decode()
    by_project = client.get(f"{CHANGELIST}?project__id__exact={project_id}")
    assert changelist_pks(by_project) == [row.pk]

    _, exported = export_rows(client.get(f"{EXPORT}?project__id__exact={project_id}"))
    assert exported[0] == str(row.pk)
    assert exported[5] == str(project_id)


# Query counts do not grow with the rows.


def add_rows(count: int, projects: list[Project], actors: list[User | None]) -> None:
    for n in range(count):
        log(
            action=ActionType.DEPLOY if n % 2 else ActionType.ARCHIVE,
            project=projects[n % len(projects)],
            actor=actors[n % len(actors)],
            resource_id=n,
            metadata={"from_status": "Ready to Launch", "to_status": "Live", "source": "api"},
        )


def count_queries(client: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if isinstance(response, StreamingHttpResponse):
            # The export queries the database while it streams.
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [CHANGELIST, f"{CHANGELIST}?action_type=deploy&q=Live", EXPORT, f"{EXPORT}?actor=(system)"],
)
def test_the_query_count_does_not_grow_with_the_rows(client: HttpClient, url: str) -> None:
    projects = [make_project() for _ in range(3)]
    gone = make_project()
    projects.append(gone)
    actors: list[User | None] = [make_user(ops=True), make_user(ops=True), None]
    client = logged_in(client, make_user(ops=True))
    add_rows(10, projects, actors)
    gone.delete()
    client.get(url)  # warm the per-process caches (content types) out of the count

    with_10 = count_queries(client, url)
    add_rows(490, projects[:3], actors)
    with_500 = count_queries(client, url)

    assert AuditLog.objects.count() == 500
    assert with_10 == with_500
