"""Client status pages: a project's live version and history, for its client's users only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


@pytest.fixture
def client_project(wrk, ops_user):
    """A project of a client with one member; v1 rolled out, v2 failed, v1 rolled back."""
    member = make_user()
    project = make_project()
    project.client.members.add(member)
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops_user, source="api")
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    return project, member


def test_a_member_sees_the_live_version_and_history(client_project):
    project, member = client_project
    response = logged_in(member).get(f"/status/{project.slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Version <strong>v1</strong> is live since" in page
    assert "went live" in page
    assert "failed" in page
    index = logged_in(member).get("/status/").content.decode()
    assert f'href="/status/{project.slug}/"' in index


def test_other_clients_users_get_404_and_do_not_see_it_listed(client_project):
    project, _ = client_project
    outsider = make_user()
    make_project().client.members.add(outsider)
    client = logged_in(outsider)
    assert client.get(f"/status/{project.slug}/").status_code == 404
    assert project.slug not in client.get("/status/").content.decode()


def test_ops_can_follow_the_status_links_of_their_emails(client_project, ops_user):
    project, _ = client_project
    assert logged_in(ops_user).get(f"/status/{project.slug}/").status_code == 200


def test_anonymous_users_are_asked_to_log_in(client_project):
    project, _ = client_project
    response = HttpClient().get(f"/status/{project.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_client_users_land_on_their_status_pages():
    response = logged_in(make_user()).get("/")
    assert response["Location"] == "/status/"


def test_the_page_costs_the_same_queries_with_a_long_history(client_project, ops_user, wrk):
    project, member = client_project
    client = logged_in(member)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/status/{project.slug}/").status_code == 200
        return len(captured)

    before = queries()
    wrk.reset()
    for _ in range(5):
        automation_version_deploy(version_id=make_version(project).pk, actor=ops_user, source="api")
    assert queries() == before


def test_the_page_shows_runs_and_an_open_incident_without_workflow_ids(client_project, settings):
    from monitoring.events import run_event_parse
    from monitoring.ingest import run_events_ingest
    from tests.monitoring.runs import run

    project, member = client_project
    workflow_id = project.versions.get(version="v1").workflow_binding.workflow_id
    events = [run(workflow_id, n, "error") for n in range(3)] + [run(workflow_id, 3, "canceled")]
    run_events_ingest(events=[run_event_parse(e) for e in events], received_via="poll")

    page = logged_in(member).get(f"/status/{project.slug}/").content.decode()

    assert "failing</span>" in page
    assert "3 runs failed in a row" in page
    assert workflow_id not in page
