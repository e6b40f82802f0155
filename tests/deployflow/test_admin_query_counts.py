"""Every changelist, and a project's page, costs the same number of queries with 10 rows as
with 1,000: nothing is looked up per row. Run with -s to see the counts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from automations.models import AutomationVersion, Deployment

from ..admin_rows import add_history, add_rows
from ..factories import make_project, make_user

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/automations/automationversion/",
    "/admin/automations/project/",
    "/admin/automations/deployment/",
    "/admin/audit/auditlog/",
    "/admin/notifications/delivery/",
    "/admin/notifications/notification/",
]


def queries(client: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def ops() -> User:
    return make_user(ops=True, email="ops@agency.example")


@pytest.fixture
def client_of(ops: User) -> HttpClient:
    client = HttpClient()
    client.force_login(ops)
    return client


@pytest.mark.parametrize("url", CHANGELISTS)
def test_a_changelist_costs_the_same_with_10_and_1000_rows(
    client_of: HttpClient, ops: User, url: str
) -> None:
    readers = [ops, make_user(ops=True)]
    add_rows(10, actor=ops, readers=readers)
    client_of.get(url)  # per-process caches (content types, sessions) out of the count
    ten = queries(client_of, url)

    add_rows(990, actor=ops, readers=readers)
    assert AutomationVersion.objects.count() == 1000
    thousand = queries(client_of, url)

    print(f"\n{url}: {ten} queries with 10 rows, {thousand} with 1,000")
    assert ten == thousand


def test_a_projects_page_costs_the_same_with_10_and_1000_versions_and_deploys(
    client_of: HttpClient, ops: User
) -> None:
    project = make_project()
    url = f"/admin/automations/project/{project.pk}/change/"
    add_history(project, 10, actor=ops)
    client_of.get(url)
    ten = queries(client_of, url)

    add_history(project, 990, actor=ops)
    assert (project.versions.count(), Deployment.objects.filter(project=project).count()) == (
        1000,
        1000,
    )
    response = client_of.get(url)
    thousand = queries(client_of, url)

    print(f"\n{url}: {ten} queries with 10 versions and deploys, {thousand} with 1,000")
    assert ten == thousand
    # The page lists the newest 20 of each and links the rest.
    page = response.content.decode()
    assert page.count('class="form-row has_original') == 40
    assert "1,000 versions, 1,000 deploys: the newest 20 of each below" in page
    assert f"/admin/automations/deployment/?project__id__exact={project.pk}" in page


def test_a_projects_page_lists_its_newest_rows(client_of: HttpClient, ops: User) -> None:
    project = make_project()
    add_history(project, 30, actor=ops)
    page = client_of.get(f"/admin/automations/project/{project.pk}/change/").content.decode()
    versions = project.versions.order_by("-created_at", "-pk")
    assert all(f">{v.version}</a>" in page for v in versions[:20])
    assert not any(f">{v.version}</a>" in page for v in versions[20:])
    assert "30 versions, 30 deploys: the newest 20 of each below" in page
