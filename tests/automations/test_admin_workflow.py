"""Issue 10, items 1 and 5 without a browser: every state shows its next step, ops add
projects and versions, a rollback from a deploy-history row, what waits on the project list,
and the version's History from its audit trail."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient

from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion, BindingStatus, Project
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def change_url(version: AutomationVersion) -> str:
    return f"/admin/automations/automationversion/{version.pk}/change/"


def next_step(client: HttpClient, version: AutomationVersion) -> str:
    page = client.get(change_url(version)).content.decode()
    start = page.index('id="df-next-step"')
    return page[start : page.index("</p>", start)]


def status(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def test_every_state_says_its_next_step(wrk, live_project, ops_user, settings):
    project, v1, v2 = live_project
    ops = logged_in(ops_user)
    waiting = make_version(project, binding=False)
    assert "the build has not registered a workflow yet" in next_step(ops, waiting)
    built = make_version(project, ready=False)
    assert "mark it Ready to Launch" in next_step(ops, built)
    assert "deploy it to production" in next_step(ops, v2)
    assert "Live in production" in next_step(ops, v1)
    settings.DEPLOY_REQUIRE_APPROVAL = True
    assert "Waiting for approval" in next_step(ops, v2)
    settings.DEPLOY_REQUIRE_APPROVAL = False
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    assert "Retry deploy" in next_step(ops, v2)
    assert "adopt that activation" in next_step(ops, v2)


def test_mark_ready_from_the_draft_page(wrk, ops_user):
    draft = make_version(make_project(), ready=False)
    ops = logged_in(ops_user)
    response = ops.post(f"/admin/automations/automationversion/{draft.pk}/mark_ready/", follow=True)
    assert any("is Ready to Launch" in str(m) for m in response.context["messages"])
    assert status(draft) == "Ready to Launch"
    assert AuditLog.objects.filter(action_type="mark_ready", resource_id=str(draft.pk)).exists()
    # Twice: refused, nothing changed.
    again = ops.post(f"/admin/automations/automationversion/{draft.pk}/mark_ready/", follow=True)
    assert any("Nothing was changed" in str(m) for m in again.context["messages"])


def test_ops_add_a_project_and_a_version_with_its_workflow(wrk, ops_user):
    ops = logged_in(ops_user)
    client_row = make_project().client
    assert ops.get("/admin/automations/project/add/").status_code == 200
    response = ops.post(
        "/admin/automations/project/add/",
        {"client": client_row.pk, "name": "Payroll", "slug": "payroll"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(slug="payroll")

    form = ops.get("/admin/automations/automationversion/add/").content.decode()
    assert 'name="workflow_id"' in form
    assert 'name="status"' not in form
    response = ops.post(
        "/admin/automations/automationversion/add/",
        {"project": project.pk, "version": "v1", "workflow_id": "wf-payroll-1"},
    )
    version = AutomationVersion.objects.get(project=project, version="v1")
    assert response.status_code == 302
    assert response["Location"] == change_url(version)
    assert (version.status, version.created_by) == ("Draft", ops_user)
    binding = version.workflow_binding
    assert (binding.workflow_id, binding.status) == ("wf-payroll-1", BindingStatus.PENDING)
    row = AuditLog.objects.get(action_type="register", resource_id=str(version.pk))
    assert (row.actor, row.metadata["source"], row.metadata["workflow_id"]) == (
        ops_user,
        "admin",
        "wf-payroll-1",
    )
    assert LogEntry.objects.filter(object_id=str(version.pk)).exists()
    # Its page offers the next step at once.
    assert "mark it Ready to Launch" in next_step(ops, version)


def test_a_version_without_a_workflow_waits_for_the_build(wrk, ops_user):
    project = make_project()
    logged_in(ops_user).post(
        "/admin/automations/automationversion/add/",
        {"project": project.pk, "version": "v2", "workflow_id": ""},
    )
    version = AutomationVersion.objects.get(project=project, version="v2")
    assert version.binding_or_none() is None
    assert "the build has not registered a workflow yet" in next_step(logged_in(ops_user), version)


def test_the_add_form_refuses_a_taken_label_or_workflow_and_adds_nothing(
    wrk, live_project, ops_user
):
    project, v1, _ = live_project
    ops = logged_in(ops_user)
    count = AutomationVersion.objects.count()
    taken_label = ops.post(
        "/admin/automations/automationversion/add/",
        {"project": project.pk, "version": "v1", "workflow_id": "wf-new"},
    )
    assert taken_label.status_code == 200
    assert "already exists" in taken_label.content.decode()
    taken_workflow = ops.post(
        "/admin/automations/automationversion/add/",
        {"project": project.pk, "version": "v7", "workflow_id": v1.workflow_binding.workflow_id},
    )
    assert taken_workflow.status_code == 200
    assert "already serves another version" in taken_workflow.content.decode()
    assert AutomationVersion.objects.count() == count


def test_existing_versions_stay_view_only_for_ops(wrk, live_project, ops_user):
    _, _, v2 = live_project
    response = logged_in(ops_user).post(change_url(v2), {"version": "renamed"})
    assert response.status_code == 403
    assert AutomationVersion.objects.get(pk=v2.pk).version == "v2"


def test_roll_back_from_a_deploy_history_row_in_one_confirmation(wrk, live_project, ops_user):
    project, v1, v2 = live_project
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    ops = logged_in(ops_user)
    page = ops.get(f"/admin/automations/project/{project.pk}/change/").content.decode()
    v1_deploy = v1.deployments.get()
    rollback = f'href="/admin/automations/automationversion/{v1.pk}/redeploy/"'
    assert rollback in page
    assert f'id="df-rollback-{v1_deploy.pk}"' in page
    # The Live version's row offers nothing.
    assert f'id="df-rollback-{v2.deployments.get().pk}"' not in page

    response = ops.post(f"/admin/automations/automationversion/{v1.pk}/redeploy/", follow=True)
    assert any("is Live" in str(m) for m in response.context["messages"])
    assert (status(v1), status(v2)) == ("Live", "Archived")
    # A viewer without the deploy permissions sees no rollback.
    viewer = make_user(staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_project"))
    viewed = logged_in(viewer).get(f"/admin/automations/project/{project.pk}/change/")
    assert b"df-rollback-" not in viewed.content


def test_the_project_list_shows_what_is_live_and_what_waits(wrk, ops_user, settings):
    project = make_project()
    live = make_version(project, "v1")
    automation_version_deploy(version_id=live.pk, actor=None, source="command")
    settings.DEPLOY_REQUIRE_APPROVAL = True
    make_version(project, "v2")  # Ready, not approved
    failed = make_version(project, "v3")
    AutomationVersion.objects.filter(pk=failed.pk).update(status="Error")
    page = logged_in(ops_user).get("/admin/automations/project/").content.decode()
    assert "1 awaiting approval" in page
    assert "1 Error" in page
    assert "v1" in page


def test_history_shows_the_versions_audit_trail(wrk, live_project, ops_user):
    _project, v1, v2 = live_project
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    response = logged_in(ops_user).get(f"/admin/automations/automationversion/{v1.pk}/history/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "doesn’t have a change history" not in page
    for action in ("Mark Ready", "Deploy", "Archive", "Deactivate"):
        assert f">{action}<" in page, action
    assert "Ready to Launch → Live" in page
    assert "(workflow)" in page  # the binding's own rows: its deactivation
