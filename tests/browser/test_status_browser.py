"""A client's status pages in a real browser (issue 9): the client logs in with the login
form, finds the project on /status/, and sees the hourly chart and the 90-day bars, on a
desktop and on a phone, with the page's own strict Content-Security-Policy obeyed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, Route, ViewportSize, expect

from automations.deploy import automation_version_deploy
from automations.models import Project
from devtools.fake_wrk import FakeWrk

from ..factories import make_project, make_user, make_version
from ..status.conftest import NOW, ingest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE: ViewportSize = {"width": 390, "height": 844}
# What Django's CSP middleware would send with a strict policy: no inline script or style.
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'"


@pytest.fixture
def at_now() -> Iterator[None]:
    """The test's clock at NOW (and ticking), in the live server's thread too, so that the
    figures on the pages are always the same."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def client_project(wrk: FakeWrk, at_now: None) -> tuple[Project, User]:
    """A Live project with 90 days of runs (one every 30 minutes, a bad day, an incident
    three days ago that lasted 40 minutes, two failures in the last hours) and a member."""
    ops = make_user(ops=True)
    member = make_user()
    project = make_project()
    project.client.members.add(member)
    version = make_version(project, "v1.0")
    automation_version_deploy(version_id=version.pk, actor=ops, source="admin")
    workflow = version.workflow_binding.workflow_id
    now = timezone.now()
    start = now - timedelta(days=89, hours=now.hour, minutes=now.minute)
    statuses = ["success"] * (89 * 48)
    for n in range(20 * 48, 20 * 48 + 48, 6):  # a degraded day, 20 days after the start
        statuses[n] = "error"
    incident_at = now - timedelta(days=3)
    with time_machine.travel(incident_at, tick=False):
        ingest(
            workflow, statuses[: len(statuses) - 3 * 48], first=start, every=timedelta(minutes=30)
        )
        ingest(
            workflow,
            ["error"] * 3,
            first=incident_at - timedelta(minutes=4),
            every=timedelta(minutes=1),
            prefix="bad",
        )
    with time_machine.travel(incident_at + timedelta(minutes=40), tick=False):
        ingest(workflow, ["success"], first=incident_at + timedelta(minutes=35), prefix="back")
    recent = ["success"] * 140
    recent[100] = recent[120] = "error"
    ingest(
        workflow,
        recent,
        first=incident_at + timedelta(hours=1),
        every=timedelta(minutes=30),
        prefix="now",
    )
    return project, member


def client_login(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page).to_have_url("/status/")


def strict_csp(route: Route) -> None:
    response = route.fetch()
    route.fulfill(
        response=response, headers={**response.headers, "content-security-policy": STRICT_CSP}
    )


def test_a_client_sees_the_chart_and_the_90_day_bars(page: Page, client_project, artifacts: Path):
    project, member = client_project
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.route("**/status/**", strict_csp)

    client_login(page, member)
    row = page.locator("tr", has=page.get_by_role("link", name=project.name))
    expect(row).to_contain_text("Operational")
    expect(row).to_contain_text("v1.0")
    page.screenshot(path=artifacts / "status-index-desktop.png", full_page=True)
    row.get_by_role("link", name=project.name).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(project.name)
    hourly = page.get_by_role("img", name="Runs per hour, last 24 hours")
    expect(hourly).to_be_visible()
    expect(hourly).to_have_accessible_description(
        "Last 24 hours, hour by hour: 45 runs, 2 failed, 95.6 % succeeded. "
        "Busiest hour 15:00 with 2 runs. Most failures at 17:00: 1."
    )
    expect(page.locator("svg.hourly g.hour")).to_have_count(24)
    expect(page.locator("svg.hourly rect.bar-failed")).to_have_count(2)
    daily = page.get_by_role("img", name="Daily health, last 90 days")
    expect(daily).to_be_visible()
    expect(page.locator("svg.daily rect.day")).to_have_count(90)
    expect(page.locator("svg.daily rect.day-degraded")).to_have_count(1)
    expect(page.locator("svg.daily rect.day-failing")).to_have_count(1)
    # Each day's date and figures on hover (its SVG title)...
    expect(page.locator("svg.daily g.day-slot title").last).to_contain_text("Fri 27 Nov 2026: ")
    # ...and in the text: the summary and, without any script, the table behind <details>.
    expect(daily).to_have_accessible_description(
        "Last 90 days, one bar per day: 88 operational, 1 degraded, 1 with an incident, "
        "0 without runs. Overall 4,272 runs, 13 failed, 99.7 % succeeded."
    )
    expect(page.locator("#incidents")).to_contain_text("40 min")
    page.screenshot(path=artifacts / "status-project-desktop.png", full_page=True)
    expect(page.locator("#daily table")).to_be_hidden()
    page.get_by_text("The figures, day by day").click()
    expect(page.locator("#daily table tbody tr")).to_have_count(90)
    expect(page.locator("#daily table tbody tr").nth(3)).to_have_text(
        "24 Nov 2026incident21385.7 %"
    )
    page.get_by_text("The figures, day by day").click()

    page.set_viewport_size(PHONE)
    page.reload()
    expect(daily).to_be_visible()
    expect(hourly).to_be_visible()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts / "status-project-phone.png", full_page=True)
    page.goto("/status/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts / "status-index-phone.png", full_page=True)
    assert refused == []
