"""Issue 10.6 in a real browser at 1280 px: no changelist cuts its columns, with the longest
names a real agency has, and the pages ops read (the audit log, a delivery's message) are
saved in test-artifacts/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import Client, Project
from automations.services import automation_version_approve
from devtools.fake_wrk import FakeWrk
from notifications.models import Delivery, DeliveryStatus

from ..conftest import run_worker
from ..factories import make_user, make_version
from .conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHANGELISTS = {
    "versions": "/admin/automations/automationversion/",
    "projects": "/admin/automations/project/",
    "deployments": "/admin/automations/deployment/",
    "audit-log": "/admin/audit/auditlog/",
    "deliveries": "/admin/notifications/delivery/",
    "notifications": "/admin/notifications/notification/",
}
# How far each table runs past its box and the page past the window; both 0 when nothing
# is cut.
OVERFLOW = """() => {
    const results = document.querySelector('#changelist .results');
    return [results.scrollWidth - results.clientWidth,
            document.documentElement.scrollWidth - window.innerWidth];
}"""


@pytest.fixture
def agency(wrk: FakeWrk, settings) -> tuple[User, Project]:
    """A long-named client and project whose history has every kind of row: approved
    deploys, a failed one, a deactivation that failed, Slack and email deliveries, one of
    them failed with a long error."""
    settings.DEPLOY_REQUIRE_APPROVAL = True
    settings.SLACK_WEBHOOK_URL = "http://127.0.0.1:9/services/T000/B000/XXXX"
    ops = make_user(ops=True, email="operations.engineer.on.call@globex-international.example")
    reviewer = make_user(ops=True, email="reviewer@globex-international.example")
    reviewer.username = "alexandra.konstantinopoulou"
    reviewer.save()
    client = Client.objects.create(
        name="Globex International Holdings",
        slug="globex-international-holdings",
        contact_email="chief.technology.officer@globex-international-holdings.example",
    )
    project = Project.objects.create(
        client=client,
        name="Customer Onboarding Automation",
        slug="globex-customer-onboarding-automation",
    )
    project.collaborators.add(ops)
    versions = [
        make_version(project, label, workflow_id=f"wf-globex-customer-onboarding-{label}")
        for label in ("v2.3.0", "v2.3.1-rc.2", "v2.4.0-beta.1")
    ]
    for version in versions:
        automation_version_approve(version_id=version.pk, actor=reviewer, source="admin")
    automation_version_deploy(version_id=versions[0].pk, actor=ops, source="api")
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=versions[1].pk, actor=ops, source="admin")
    wrk.reset()
    wrk.fail_next(100, status=503, op="deactivate")
    automation_version_deploy(version_id=versions[2].pk, actor=ops, source="admin")
    wrk.reset()
    run_worker()
    bounced = Delivery.objects.filter(channel="email").first()
    assert bounced is not None
    Delivery.objects.filter(pk=bounced.pk).update(
        status=DeliveryStatus.FAILED,
        last_error="SMTP 550: 5.1.1 <chief.technology.officer@globex-international-holdings"
        ".example>: Recipient address rejected: User unknown in virtual mailbox table",
    )
    return ops, project


def test_no_changelist_cuts_its_columns_at_1280_px(
    page: Page, agency: tuple[User, Project], artifacts: Path
) -> None:
    ops, _project = agency
    admin_login(page, ops)
    cut = {}
    for name, url in CHANGELISTS.items():
        page.goto(url)
        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        page.screenshot(path=artifacts / f"readable-{name}.png", full_page=True)
        table, window = page.evaluate(OVERFLOW)
        if table > 0 or window > 0:
            cut[name] = (table, window)
    assert cut == {}, f"cut at 1280 px (table px, page px): {cut}"


def test_the_pages_ops_read_are_saved_for_a_look(
    page: Page, agency: tuple[User, Project], artifacts: Path
) -> None:
    ops, project = agency
    admin_login(page, ops)
    page.goto(f"/admin/automations/project/{project.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("3 versions, 3 deploys")
    page.screenshot(path=artifacts / "readable-project-page.png", full_page=True)

    page.goto("/admin/audit/auditlog/?action_type__exact=deactivate_failed")
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator("table.df-details")).to_contain_text("HTTP 503: injected fault")
    page.screenshot(path=artifacts / "readable-audit-row.png", full_page=True)

    live = Delivery.objects.filter(
        template="automation_live", channel="email", status="sent"
    ).first()
    assert live is not None
    page.goto(f"/admin/notifications/delivery/{live.pk}/change/")
    frame = page.frame_locator("#df-mail-html")
    expect(frame.locator("h1")).to_contain_text("Customer Onboarding Automation")
    expect(page.locator("#df-mail-text")).to_contain_text("is now live in production")
    page.screenshot(path=artifacts / "readable-delivery-email.png", full_page=True)

    slack = Delivery.objects.filter(channel="slack").first()
    assert slack is not None
    page.goto(f"/admin/notifications/delivery/{slack.pk}/change/")
    expect(page.locator("#df-slack-text")).to_contain_text("Open in deployflow")
    page.screenshot(path=artifacts / "readable-delivery-slack.png", full_page=True)
