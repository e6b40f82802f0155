"""The admin's deploy button, end to end: a real browser, the real admin served by the live
server on the PostgreSQL test database, and the stand-in WRK over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import Locator, Page, expect

from automations.deploy import automation_version_deploy
from automations.models import AutomationVersion, Project, VersionStatus
from devtools.fake_wrk import FakeWrk

from ..factories import make_project, make_user, make_version
from .conftest import admin_login

# Transactional: the live server's thread has its own connection and must see what the test
# wrote, and the deploy service opens durable transactions. serialized_rollback puts back the
# Ops group of the data migration, which the flush after each transactional test removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DEPLOY_BUTTON = "#df-action-mark_live"


def change_url(version: AutomationVersion) -> str:
    return f"/admin/automations/automationversion/{version.pk}/change/"


def status_badge(page: Page) -> Locator:
    # The version's own status field; the deploy-history inline has badges of its own.
    return page.locator(".field-badge .df-badge")


def row(page: Page, header: str) -> Locator:
    """The confirmation page's table row whose header cell reads exactly `header`."""
    return page.locator("#content-main tr").filter(
        has=page.locator("th", has_text=re.compile(f"^{re.escape(header)}$"))
    )


def status_of(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


@pytest.fixture
def live_v1(wrk: FakeWrk, ops: User) -> tuple[Project, AutomationVersion, AutomationVersion]:
    """v1 Live (deployed through the service, as the other entry points do), v2 Ready."""
    project = make_project()
    v1 = make_version(project, "v1")
    v2 = make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="command")
    assert status_of(v1) == VersionStatus.LIVE
    # Count only the calls the browser's deploy makes.
    wrk.reset()
    return project, v1, v2


def open_confirmation(
    page: Page, version: AutomationVersion, *, screenshot: Path | None = None
) -> None:
    page.goto(change_url(version))
    button = page.locator(DEPLOY_BUTTON)
    expect(button).to_have_text("Mark as Live / Deploy to Production")
    if screenshot is not None:
        # The viewport only: whether the button is where a person looks first.
        page.screenshot(path=screenshot)
    button.click()
    expect(page).to_have_title(re.compile(r"^Deploy to production\?"))


def test_ops_user_deploys_from_the_version_page(
    page: Page,
    wrk: FakeWrk,
    ops: User,
    live_v1: tuple[Project, AutomationVersion, AutomationVersion],
    artifacts: Path,
) -> None:
    project, v1, v2 = live_v1
    admin_login(page, ops)
    open_confirmation(page, v2, screenshot=artifacts / "deploy-button.png")

    # The confirmation page says what goes live and what gets archived before anything moves.
    expect(page.locator("#content h1")).to_have_text("Deploy to production?")
    expect(row(page, "Project")).to_contain_text(project.name)
    expect(row(page, "Version")).to_contain_text("v2")
    expect(row(page, "Workflow")).to_contain_text(f"wf-{project.slug}-v2")
    expect(row(page, "Live version")).to_contain_text("v1 → Archived")
    expect(row(page, "Its workflow")).to_contain_text(f"wf-{project.slug}-v1 will be deactivated")
    expect(page.locator("#df-cancel")).to_be_visible()
    confirm = page.locator("#df-confirm-deploy")
    expect(confirm).to_have_text("Yes, deploy to production")
    # Nothing has happened yet: the first click only asks.
    assert status_of(v2) == VersionStatus.READY
    assert wrk.calls_for("activate") == []
    page.screenshot(path=artifacts / "deploy-confirmation.png", full_page=True)

    confirm.click()

    expect(page).to_have_url(re.compile(re.escape(change_url(v2)) + "$"))
    expect(page.locator(".messagelist .success")).to_contain_text("is Live")
    expect(status_badge(page)).to_have_text("Live")
    # Once Live, the page no longer offers to deploy it again.
    expect(page.locator(DEPLOY_BUTTON)).to_have_count(0)
    page.screenshot(path=artifacts / "deploy-result.png", full_page=True)

    page.goto(change_url(v1))
    expect(status_badge(page)).to_have_text("Archived")

    assert status_of(v2) == VersionStatus.LIVE
    assert status_of(v1) == VersionStatus.ARCHIVED
    activations = wrk.calls_for("activate")
    assert len(activations) == 1
    assert activations[0].workflow_id == f"wf-{project.slug}-v2"
    assert wrk.is_active(f"wf-{project.slug}-v2") is True
    assert wrk.is_active(f"wf-{project.slug}-v1") is False


def test_wrk_failure_shows_an_error_and_keeps_the_live_version(
    page: Page,
    wrk: FakeWrk,
    ops: User,
    live_v1: tuple[Project, AutomationVersion, AutomationVersion],
    artifacts: Path,
) -> None:
    _project, v1, v2 = live_v1
    # More failures than the client has attempts: every retry gets a 503.
    wrk.fail_next(100, status=503, op="activate")
    admin_login(page, ops)
    open_confirmation(page, v2)

    page.locator("#df-confirm-deploy").click()

    expect(page).to_have_url(re.compile(re.escape(change_url(v2)) + "$"))
    expect(page.locator(".messagelist .error")).to_contain_text("WRK did not activate")
    expect(page.locator(".messagelist .success")).to_have_count(0)
    expect(status_badge(page)).to_have_text("Error")
    page.screenshot(path=artifacts / "deploy-failed.png", full_page=True)

    assert status_of(v2) == VersionStatus.ERROR
    assert status_of(v1) == VersionStatus.LIVE
    assert wrk.calls_for("deactivate") == []


def test_user_without_deploy_permission_sees_no_deploy_button(
    page: Page, live_v1: tuple[Project, AutomationVersion, AutomationVersion]
) -> None:
    _project, _v1, v2 = live_v1
    # Staff who may open and edit versions, but not in Ops: no deploy permission.
    viewer = make_user(staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="automations",
            codename__in=["view_automationversion", "change_automationversion"],
        )
    )
    admin_login(page, viewer)

    page.goto(change_url(v2))

    # The page itself is there (so the missing button is not a 403 in disguise)...
    expect(status_badge(page)).to_have_text("Ready to Launch")
    # ...without the button, or any text offering a deploy.
    expect(page.locator(DEPLOY_BUTTON)).to_have_count(0)
    expect(page.get_by_text("Deploy to Production")).to_have_count(0)
    assert status_of(v2) == VersionStatus.READY
