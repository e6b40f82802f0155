"""Issue 9 §3: a private Atom feed per user and project, linked from the page, of deploys
and incidents in the client's words; its token is reset by the user."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from monitoring.models import Incident
from tests.factories import make_user, make_version

from .conftest import NOW, healthy_day, ingest, logged_in

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_link(html: str) -> str:
    match = re.search(
        r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" href="([^"]+)">',
        html,
    )
    assert match, "the page does not link its feed"
    return match.group(2)


def entries(xml: bytes) -> list[dict[str, str | None]]:
    root = ET.fromstring(xml)
    return [
        {
            "title": entry.findtext(f"{ATOM}title", ""),
            "summary": entry.findtext(f"{ATOM}summary", ""),
            "updated": entry.findtext(f"{ATOM}updated", ""),
            "id": entry.findtext(f"{ATOM}id", ""),
            "link": entry.find(f"{ATOM}link").get("href"),  # type: ignore[union-attr]
        }
        for entry in root.iter(f"{ATOM}entry")
    ]


def test_the_page_links_its_feed_and_the_feed_tells_deploys_and_incidents(
    scenario, ops_user, wrk, time_machine
):
    s = scenario()
    v2 = make_version(s.project, "v2")
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    wrk.reset()
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    ingest(s.workflow_id, ["error"] * 3, first=NOW, every=timedelta(minutes=1), prefix="bad")
    time_machine.move_to(NOW + timedelta(minutes=55), tick=False)
    ingest(s.workflow_id, ["success"], first=NOW + timedelta(minutes=50), prefix="ok")

    url = feed_link(s.page())
    response = HttpClient().get(url)  # a feed reader: no session

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "private" in response["Cache-Control"]
    body = response.content.decode()
    assert "<author><name>deployflow</name></author>" in body
    assert "wf-" not in body
    assert ops_user.username not in body
    assert "503" not in body
    got = [(e["title"], e["summary"]) for e in entries(response.content)]
    assert got == [
        ("Resolved: runs succeed again", "Runs failing for 45 min. Version v1."),
        (
            "Incident: runs failing",
            "3 runs failed in a row. Version v1. Our team has been alerted.",
        ),
        ("Update attempted; version v1 kept running", "Version v2 did not go live."),
        ("Version v1 went live", "Version v1 went live."),
    ]
    first = entries(response.content)[0]
    assert first["updated"] == "2026-11-27T15:25:00+00:00"
    assert first["link"] == f"http://testserver/status/{s.project.slug}/#incidents"
    incident = Incident.objects.get()
    assert str(first["id"]).endswith(f"/status/{s.project.slug}/#incident-{incident.pk}-resolved")
    assert len({e["id"] for e in entries(response.content)}) == 4


def test_resetting_the_token_changes_every_address_and_the_old_ones_answer_404(scenario):
    s = scenario()
    member = logged_in(s.member)
    old = feed_link(s.page())
    assert HttpClient().get(old).status_code == 200

    response = member.post("/accounts/settings/feed-token/reset/")

    assert response.status_code == 302
    new = feed_link(s.page())
    assert new != old
    assert HttpClient().get(old).status_code == 404
    assert HttpClient().get(new).status_code == 200
    assert "the old ones no longer work" in member.get("/accounts/settings/").content.decode()


def test_a_users_reset_leaves_other_members_feeds_alone(scenario):
    s = scenario()
    colleague = make_user()
    s.project.client.members.add(colleague)
    theirs = feed_link(logged_in(colleague).get(f"/status/{s.project.slug}/").content.decode())
    logged_in(s.member).post("/accounts/settings/feed-token/reset/")
    assert HttpClient().get(theirs).status_code == 200


def test_the_feed_costs_the_same_queries_however_many_runs(scenario, django_assert_max_num_queries):
    s = scenario()
    url = feed_link(s.page())
    healthy_day(s.workflow_id)
    with django_assert_max_num_queries(5):
        assert HttpClient().get(url).status_code == 200
