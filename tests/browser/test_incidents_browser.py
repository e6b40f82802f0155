"""Issue 10 in a real browser, the two paths not covered by test_ops_workflow_browser.py:
adopting an activation ops made by hand in WRK, and the failed-deactivation incident from
its badge to its retry. The live server on the PostgreSQL test database, the stand-in WRK
over HTTP, screenshots at 1280 px in test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from automations.deploy import automation_version_deploy
from automations.models import (
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentSource,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from devtools.fake_wrk import FakeWrk

from ..factories import make_version
from .conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def change_url(version: AutomationVersion) -> str:
    return f"/admin/automations/automationversion/{version.pk}/change/"


def status_of(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def test_adopt_a_manual_activation(
    page: Page,
    wrk: FakeWrk,
    ops: User,
    live_v1: tuple[Project, AutomationVersion],
    v2_in_error: AutomationVersion,
    artifacts: Path,
) -> None:
    v1, v2 = live_v1[1], v2_in_error
    # The API failed, so ops activated the workflow by hand in WRK, as the source allows.
    wrk.add_workflow(v2.workflow_binding.workflow_id, active=True)

    admin_login(page, ops)
    page.goto(change_url(v2))
    expect(page.locator(".field-badge .df-badge")).to_have_text("Error")
    expect(page.locator("#df-next-step")).to_contain_text("adopt that activation")
    page.locator("#df-action-adopt").click()

    expect(page).to_have_title(re.compile(r"^Adopt the activation done in WRK\?"))
    content = page.locator("#content-main")
    expect(content).to_contain_text("WRK reports it active (activated by hand)")
    expect(content).to_contain_text("v1 → Archived")
    page.screenshot(path=artifacts / "adopt-confirmation.png", full_page=True)
    assert status_of(v2) == VersionStatus.ERROR  # nothing changes before the confirmation

    page.locator("#df-confirm-deploy").click()

    expect(page).to_have_url(re.compile(re.escape(change_url(v2)) + "$"))
    expect(page.locator(".messagelist .success")).to_contain_text(
        "the activation done in WRK was adopted"
    )
    expect(page.locator(".field-badge .df-badge")).to_have_text("Live")
    page.screenshot(path=artifacts / "adopt-live.png", full_page=True)
    assert (status_of(v2), status_of(v1)) == (VersionStatus.LIVE, VersionStatus.ARCHIVED)
    # WRK was asked, never told to activate it again.
    assert wrk.calls_for("activate") == []
    adopted = Deployment.objects.get(automation_version=v2, status="succeeded")
    assert (adopted.source, adopted.attempts) == (DeploymentSource.MANUAL, None)
    # The deploy history says how it went live, in words.
    expect(page.locator("#deployments-group, .inline-group").last).to_contain_text("via manual")


def test_the_failed_deactivation_badge_until_the_retry(
    page: Page,
    wrk: FakeWrk,
    ops: User,
    live_v1: tuple[Project, AutomationVersion],
    artifacts: Path,
) -> None:
    project, v1 = live_v1
    v2 = make_version(project, "v2")
    wrk.fail_next(100, status=503, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops, source="admin")
    wrk.reset()
    workflow = v1.workflow_binding.workflow_id

    admin_login(page, ops)
    # The version list marks the archived version's workflow.
    page.goto(f"/admin/automations/automationversion/?project__id__exact={project.pk}")
    v1_row = page.locator("#result_list tbody tr").filter(has_text=workflow)
    expect(v1_row.locator(".df-badge-warning")).to_have_text("deactivation failed")
    page.screenshot(path=artifacts / "incident-version-list.png", full_page=True)
    # The project list says what waits, the deploy list which deploy left it running.
    page.goto("/admin/automations/project/")
    expect(page.locator("#result_list")).to_contain_text("1 deactivation pending")
    page.goto("/admin/automations/deployment/")
    expect(page.locator("#result_list")).to_contain_text("succeeded — old workflow still active")

    # The archived version's page: the incident, and the retry.
    page.goto(change_url(v1))
    incident = page.locator("#df-deactivation-incident")
    expect(incident).to_contain_text(
        f"WRK has not confirmed the deactivation of workflow {workflow}"
    )
    expect(incident).to_contain_text("UTC")
    page.screenshot(path=artifacts / "incident-version-page.png", full_page=True)
    page.locator("#df-action-retry_deactivation").click()

    expect(page.locator(".messagelist .success")).to_contain_text(
        f"Workflow {workflow} is deactivated"
    )
    expect(page.locator("#df-deactivation-incident")).to_have_count(0)
    expect(page.locator("#df-action-retry_deactivation")).to_have_count(0)
    binding = WorkflowBinding.objects.get(automation_version=v1)
    assert (binding.status, binding.deactivation_failed_at) == (BindingStatus.INACTIVE, None)
    assert wrk.is_active(workflow) is False
    page.goto(f"/admin/automations/automationversion/?project__id__exact={project.pk}")
    expect(page.locator("#result_list .df-badge-warning")).to_have_count(0)
