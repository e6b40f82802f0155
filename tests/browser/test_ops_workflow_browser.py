"""Issue 10 in a real browser, as a new ops user goes: each state's next step, with the
approvals of a second ops user, a retry in one confirmation, a rollback from the deploy
history. The live server on the PostgreSQL test database, the stand-in WRK over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from automations.deploy import automation_version_deploy
from automations.models import AutomationVersion, Project, VersionStatus
from automations.services import automation_version_register
from devtools.fake_wrk import FakeWrk

from ..factories import make_user, make_version
from .conftest import TIMEOUT_MS, admin_login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def change_url(version: AutomationVersion) -> str:
    return f"/admin/automations/automationversion/{version.pk}/change/"


def status_badge(page: Page) -> Locator:
    return page.locator(".field-badge .df-badge")


def next_step(page: Page) -> Locator:
    return page.locator("#df-next-step")


def status_of(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def second_page(browser: Browser, live_server: LiveServer) -> Page:
    """Another person's browser: its own cookies."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def test_draft_to_ready_to_approved_to_live(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    wrk: FakeWrk,
    ops: User,
    live_v1: tuple[Project, AutomationVersion],
    settings,
    artifacts: Path,
) -> None:
    settings.DEPLOY_REQUIRE_APPROVAL = True
    project, v1 = live_v1
    # The build registered v2 as the ops user would through the API: its author.
    v2 = automation_version_register(
        project_id=project.pk, label="v2", workflow_id="wf-browser-v2", actor=ops, source="api"
    ).version
    reviewer = make_user(ops=True, email="reviewer@agency.example")

    admin_login(page, ops)
    page.goto(change_url(v2))
    expect(status_badge(page)).to_have_text("Draft")
    expect(next_step(page)).to_contain_text("mark it Ready to Launch")
    page.locator("#df-action-mark_ready").click()
    expect(page.locator(".messagelist .success")).to_contain_text("is Ready to Launch")
    expect(status_badge(page)).to_have_text("Ready to Launch")
    # Its author cannot approve it, and nobody can deploy it yet.
    expect(next_step(page)).to_contain_text("another ops user must approve it")
    expect(page.locator("#df-action-approve")).to_have_count(0)
    expect(page.locator("#df-action-mark_live")).to_have_count(0)
    page.screenshot(path=artifacts / "workflow-ready-awaiting-approval.png", full_page=True)

    # The reviewer was asked: the notification opens the version, and marks itself read.
    other = second_page(browser, live_server)
    admin_login(other, reviewer)
    other.locator("#df-bell").click()
    expect(other.locator("#df-back")).to_be_visible()
    other.get_by_role("link", name=f"Approval requested: {project.name} v2").click()
    expect(other).to_have_url(re.compile(re.escape(change_url(v2)) + "$"))
    assert reviewer.notifications.get().read_at is not None
    other.locator("#df-action-approve").click()
    expect(other.locator("#content h1")).to_have_text("Approve for production?")
    assert AutomationVersion.objects.get(pk=v2.pk).approved_by is None
    other.locator("#df-confirm-approve").click()
    expect(other.locator(".messagelist .success")).to_contain_text("is approved")
    # The approver gets no deploy button.
    expect(other.locator("#df-action-mark_live")).to_have_count(0)
    expect(other.locator("#df-action-revoke")).to_be_visible()
    other.context.close()

    page.reload()
    expect(next_step(page)).to_contain_text(f"Approved by {reviewer.username}")
    page.locator("#df-action-mark_live").click()
    expect(page.locator("#content-main")).to_contain_text(f"Approved by {reviewer.username}")
    page.locator("#df-confirm-deploy").click()
    expect(page.locator(".messagelist .success")).to_contain_text("is Live")
    expect(status_badge(page)).to_have_text("Live")
    page.screenshot(path=artifacts / "workflow-approved-and-live.png", full_page=True)
    assert (status_of(v2), status_of(v1)) == (VersionStatus.LIVE, VersionStatus.ARCHIVED)
    assert len(wrk.calls_for("activate")) == 1


def test_error_retry_deploy_in_one_confirmation(
    page: Page,
    ops: User,
    live_v1: tuple[Project, AutomationVersion],
    v2_in_error: AutomationVersion,
    artifacts: Path,
) -> None:
    v1, v2 = live_v1[1], v2_in_error

    admin_login(page, ops)
    page.goto(change_url(v2))
    expect(status_badge(page)).to_have_text("Error")
    expect(next_step(page)).to_contain_text("Retry deploy")
    page.locator("#df-action-retry").click()
    expect(page).to_have_title(re.compile(r"^Retry the deploy\?"))
    expect(page.locator("#content-main")).to_contain_text("re-staged from Error to Ready to Launch")
    expect(page.locator("#content-main")).to_contain_text("v1 → Archived")
    assert status_of(v2) == VersionStatus.ERROR
    page.screenshot(path=artifacts / "workflow-retry-confirmation.png", full_page=True)

    page.locator("#df-confirm-deploy").click()

    expect(page).to_have_url(re.compile(re.escape(change_url(v2)) + "$"))
    expect(page.locator(".messagelist .success")).to_contain_text("is Live")
    expect(status_badge(page)).to_have_text("Live")
    assert (status_of(v2), status_of(v1)) == (VersionStatus.LIVE, VersionStatus.ARCHIVED)


def test_rollback_from_a_deploy_history_row(
    page: Page,
    wrk: FakeWrk,
    ops: User,
    live_v1: tuple[Project, AutomationVersion],
    artifacts: Path,
) -> None:
    project, v1 = live_v1
    v2 = make_version(project, "v2")
    automation_version_deploy(version_id=v2.pk, actor=ops, source="admin")
    wrk.reset()

    admin_login(page, ops)
    page.goto(f"/admin/automations/project/{project.pk}/change/")
    rollback = page.locator(f"#df-rollback-{v1.deployments.get().pk}")
    expect(rollback).to_have_text("Roll back to this version")
    # Only the replaced version's row offers it.
    expect(page.locator("a.df-rollback")).to_have_count(1)
    page.screenshot(path=artifacts / "workflow-history-rollback.png", full_page=True)
    rollback.click()

    expect(page).to_have_title(re.compile(r"^Roll back to v1\?"))
    expect(page.locator("#content-main")).to_contain_text("a rollback to a version that was Live")
    page.locator("#df-confirm-deploy").click()

    expect(page).to_have_url(re.compile(re.escape(change_url(v1)) + "$"))
    expect(page.locator(".messagelist .success")).to_contain_text("v2 was archived")
    expect(status_badge(page)).to_have_text("Live")
    assert (status_of(v1), status_of(v2)) == (VersionStatus.LIVE, VersionStatus.ARCHIVED)
    assert [c.op for c in wrk.calls if c.op in ("activate", "deactivate")] == [
        "activate",
        "deactivate",
    ]
