"""Issue 9 §1, §2, §4, §5: what `/status/` and `/status/<slug>/` say of a project never
deployed, deployed without runs, healthy, degraded, failing with an open incident, and
recovered; in the client's words and time zone; at a cost that does not grow with events."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.services import automation_version_stage
from monitoring.models import Incident
from status.models import StatusProfile
from tests.factories import make_version

from .conftest import ERROR, NOW, healthy_day, ingest, logged_in

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return re.sub(r"\( | (?=[.,:;)])", lambda m: m.group(0).strip(), text)


def state_of(html: str) -> str:
    match = re.search(r'<span class="state state-([a-z-]+)">', html)
    assert match, "no state badge on the page"
    return match.group(1)


def never_shows_ops_details(html: str, scenario, ops_user) -> None:
    """SPEC §5: clients never see workflow ids or ops usernames."""
    assert "wf-" not in html
    assert ops_user.username not in html
    if scenario.live is not None:
        assert scenario.workflow_id not in html


def test_a_project_never_deployed(scenario, ops_user):
    s = scenario(deployed=False)
    html = s.page()
    text = text_of(html)
    assert state_of(html) == "no-runs"
    assert "Nothing is live yet: this automation has not been deployed." in text
    assert "No runs yet." in text
    assert "No runs in the last 24 hours." in text
    assert "0 operational, 0 degraded, 0 with an incident, 90 without runs" in text
    assert "No incident in the last 90 days." in text
    assert "No failed run." in text
    assert "No deploy yet." in text
    index = text_of(logged_in(s.member).get("/status/").content.decode())
    assert f"{s.project.name} {s.project.client.name} – No runs yet" in index
    assert "none yet" in index
    never_shows_ops_details(html, s, ops_user)


def test_a_deployed_project_without_runs(scenario, ops_user):
    s = scenario()
    html = s.page()
    text = text_of(html)
    assert state_of(html) == "no-runs"
    assert "Version v1 is live since 27 Nov 2026, 14:30." in text
    assert "No runs yet." in text
    assert "Version v1 went live" in text
    assert "Last 24 hours 0 0 — —" in text
    never_shows_ops_details(html, s, ops_user)


def test_a_healthy_project(scenario, ops_user):
    s = scenario()
    healthy_day(s.workflow_id)
    html = s.page()
    text = text_of(html)
    assert state_of(html) == "operational"
    # 144 runs of 3 s; the median comes from the rollups' duration buckets (2 s to 5 s,
    # and no run longer than 3 s), so about 2.5 s.
    assert "Last 24 hours 140 0 100 % ≈ 2.5 s" in text
    assert "Last run 27 Nov 2026, 14:15 (15 min ago)." in text
    assert "Last 24 hours, hour by hour: 140 runs, none failed, 100 % succeeded." in text
    assert "2 operational, 0 degraded, 0 with an incident, 88 without runs" in text
    assert "No failed run." in text
    index = text_of(logged_in(s.member).get("/status/").content.decode())
    assert "✓ Operational v1 100 % of 140 runs 27 Nov 2026, 14:15" in index
    never_shows_ops_details(html, s, ops_user)


def test_a_degraded_project_lists_its_failures_with_their_errors(scenario, ops_user):
    s = scenario()
    # One failure in every ten runs, never two in a row: 90 % succeed, no incident.
    statuses = ["error" if n % 10 == 5 else "success" for n in range(140)]
    ingest(
        s.workflow_id,
        statuses,
        first=NOW - timedelta(hours=23, minutes=30),
        error=f"Workflow {s.workflow_id}: {ERROR}",
    )
    html = s.page()
    text = text_of(html)
    assert state_of(html) == "degraded"
    assert "Last 24 hours 140 14 90 %" in text
    assert not Incident.objects.exists()
    # The newest 20 of the 14 failures, each with its error, the workflow's id taken out.
    assert text.count(f"Workflow the workflow: {ERROR}") == 14
    assert "No incident in the last 90 days." in text
    never_shows_ops_details(html, s, ops_user)


def test_a_latest_failure_below_the_incident_threshold_is_degraded(scenario):
    s = scenario()
    healthy_day(s.workflow_id)
    ingest(s.workflow_id, ["error"], first=NOW - timedelta(minutes=5), prefix="late")
    assert state_of(s.page()) == "degraded"


def test_a_failing_project_with_an_open_incident(scenario, ops_user):
    s = scenario()
    healthy_day(s.workflow_id)
    ingest(
        s.workflow_id,
        ["error"] * 3,
        first=NOW - timedelta(minutes=5),
        every=timedelta(minutes=1),
        prefix="bad",
    )
    html = s.page()
    text = text_of(html)
    assert state_of(html) == "failing"
    assert (
        "Runs failing since 27 Nov 2026, 14:30. 3 runs failed in a row. Our team has been alerted."
        in text
    )
    assert (
        "Runs failing 3 runs failed in a row. Version v1. 27 Nov 2026, 14:30 ongoing 0 s so far"
        in text
    )
    assert "1 with an incident" in text
    index = text_of(logged_in(s.member).get("/status/").content.decode())
    assert "✕ Failing" in index
    never_shows_ops_details(html, s, ops_user)


def test_a_recovered_project(scenario, ops_user, time_machine):
    s = scenario()
    time_machine.move_to(NOW - timedelta(hours=2), tick=False)
    healthy_day(s.workflow_id, until=NOW - timedelta(hours=2, minutes=5))
    first = NOW - timedelta(hours=2, minutes=5)
    ingest(s.workflow_id, ["error"] * 3, first=first, every=timedelta(minutes=1), prefix="bad")
    time_machine.move_to(NOW, tick=False)
    ingest(s.workflow_id, ["success"] * 12, first=NOW - timedelta(hours=2), prefix="again")
    html = s.page()
    text = text_of(html)
    assert state_of(html) == "operational"
    assert (
        "Runs failing 3 runs failed in a row. Version v1. "
        "27 Nov 2026, 12:30 27 Nov 2026, 14:30 2 h" in text
    )
    assert "Our team has been alerted" not in text  # no open incident
    # Today had an incident: its bar says so, whatever the page's state now.
    assert "1 with an incident" in text
    never_shows_ops_details(html, s, ops_user)


def test_the_deploy_history_in_the_clients_words(scenario, ops_user, wrk):
    s = scenario()
    v2 = make_version(s.project, "v2")
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    wrk.reset()
    v3 = make_version(s.project, "v3")
    automation_version_deploy(version_id=v3.pk, actor=ops_user, source="api")
    automation_version_stage(version_id=s.live.pk, actor=ops_user, source="api")
    automation_version_deploy(version_id=s.live.pk, actor=ops_user, source="api")
    html = s.page()
    text = text_of(html)
    assert "Restored version v1" in text
    assert "Version v3 went live, replacing v1" in text
    assert "Update attempted; version v1 kept running" in text
    assert "Version v2 did not go live." in text
    assert "Version v1 went live" in text
    never_shows_ops_details(html, s, ops_user)
    assert "503" not in html  # the deploy's error is ops' business


def test_times_are_in_the_users_time_zone_with_the_iso_instant_as_tooltip(scenario):
    s = scenario()
    healthy_day(s.workflow_id)
    StatusProfile.objects.create(user=s.member, time_zone="Asia/Kolkata")
    html = s.page()
    text = text_of(html)
    assert "is live since 27 Nov 2026, 20:00." in text  # 14:30 UTC is 20:00 in India
    assert "Times in Asia/Kolkata" in text
    iso = "2026-11-27T14:30:00Z"
    assert f'<time datetime="{iso}" title="{iso}">27 Nov 2026, 20:00</time>' in html
    # The hourly chart's axis and the days follow the zone too.
    assert ">21:00</text>" in html
    assert "Runs per hour, last 24 hours (Asia/Kolkata)" in text


def test_a_page_costs_at_most_ten_queries_whatever_the_number_of_events(scenario, ops_user):
    s = scenario()
    v2 = make_version(s.project, "v2")
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    v2.refresh_from_db()

    def queries(user, url) -> int:
        client = logged_in(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    pages = [
        (s.member, f"/status/{s.project.slug}/"),
        (s.member, "/status/"),
        (ops_user, f"/status/{s.project.slug}/"),
        (ops_user, "/status/"),
    ]
    ingest(s.workflow_id, ["success", "error"] * 5, first=NOW - timedelta(days=3), prefix="few")
    before = [queries(user, url) for user, url in pages]
    for day in range(1, 60):
        ingest(
            v2.workflow_binding.workflow_id,
            ["success"] * 20 + ["error", "crashed", "canceled"],
            first=NOW - timedelta(days=day),
            every=timedelta(minutes=30),
            prefix=f"d{day}",
        )
    for _ in range(3):
        automation_version_deploy(
            version_id=make_version(s.project).pk, actor=ops_user, source="api"
        )
    after = [queries(user, url) for user, url in pages]
    assert after == before
    assert max(after) <= 10


@pytest.mark.parametrize("path", ["/status/", "/status/{slug}/", "/accounts/settings/", "{feed}"])
def test_every_authenticated_page_is_private_to_caches(scenario, path):
    s = scenario()
    client = logged_in(s.member)
    feed = re.search(r'type="application/atom\+xml" title="[^"]*" href="([^"]+)"', s.page())
    assert feed is not None
    response = client.get(path.format(slug=s.project.slug, feed=feed.group(1)))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
