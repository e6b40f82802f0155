"""Issue 4 without a browser: the version page's actions, approvals, restage, changelists."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient

from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.models import AutomationVersion, BindingStatus, WorkflowBinding
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db

ACTION_PATHS = {
    "mark_live": "deploy",
    "mark_ready": "mark_ready",
    "approve": "approve",
    "revoke": "revoke",
    "retry": "redeploy",
    "rollback": "redeploy",
    "adopt": "adopt",
    "restage": "restage",
    "retry_deactivation": "deactivate",
}


def change_url(version: AutomationVersion) -> str:
    return f"/admin/automations/automationversion/{version.pk}/change/"


def action_url(version: AutomationVersion, action: str) -> str:
    return f"/admin/automations/automationversion/{version.pk}/{ACTION_PATHS[action]}/"


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def act(client: HttpClient, version: AutomationVersion, action: str):
    """Press the action's button (for the deploy: "Yes, deploy" on its confirmation page)."""
    return client.post(action_url(version, action), follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def status(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def viewer():
    """Staff who may open versions but may not deploy, approve or restage."""
    user = make_user(staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_automationversion", "change_automationversion"]
        )
    )
    return user


def buttons(client: HttpClient, version: AutomationVersion) -> set[str]:
    page = client.get(change_url(version)).content.decode()
    return {name for name in ACTION_PATHS if f'id="df-action-{name}"' in page}


def test_the_deploy_button_shows_only_when_allowed_and_possible(wrk, live_project, ops_user):
    project, v1, v2 = live_project
    ops = logged_in(ops_user)
    assert buttons(ops, v2) == {"mark_live"}
    assert buttons(ops, v1) == set()  # Live: nothing to do
    draft = make_version(project, ready=False)
    assert buttons(ops, draft) == {"mark_ready"}
    assert buttons(ops, make_version(project, binding=False)) == set()
    assert buttons(logged_in(viewer()), v2) == set()
    page = ops.get(change_url(v2)).content.decode()
    assert "Mark as Live / Deploy to Production" in page


def test_restage_buttons_follow_the_status(wrk, live_project, ops_user):
    _, v1, v2 = live_project
    ops = logged_in(ops_user)
    wrk.fail_next(100, status=500, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    assert buttons(ops, v1) == {"rollback", "retry_deactivation"}
    v3 = make_version(v1.project, "v3")
    wrk.fail_next(100, status=500, op="activate")
    act(ops, v3, "mark_live")
    assert buttons(ops, v3) == {"retry", "adopt"}


def test_the_confirmation_page_says_what_goes_live_and_what_is_archived(
    wrk, live_project, ops_user
):
    project, v1, v2 = live_project
    response = logged_in(ops_user).get(action_url(v2, "mark_live"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Deploy to production?" in page
    assert f"wf-{project.slug}-v2" in page
    assert f"{v1.version} → Archived" in page
    assert f"wf-{project.slug}-v1</code> will be deactivated" in page
    assert 'id="df-confirm-deploy"' in page
    assert status(v2) == "Ready to Launch"
    assert wrk.calls == []


def test_confirming_deploys_and_says_so(wrk, live_project, ops_user):
    _, v1, v2 = live_project
    response = act(logged_in(ops_user), v2, "mark_live")
    assert response.redirect_chain[-1][0] == change_url(v2)
    assert any("is Live" in m and "v1 was archived" in m for m in messages_of(response))
    assert (status(v2), status(v1)) == ("Live", "Archived")
    row = AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk))
    assert row.metadata["source"] == "admin"


def test_a_double_submit_deploys_once(wrk, live_project, ops_user):
    _, _, v2 = live_project
    client = logged_in(ops_user)
    act(client, v2, "mark_live")
    second = act(client, v2, "mark_live")
    assert len(wrk.calls_for("activate")) == 1
    assert any("already Live" in m for m in messages_of(second))


def test_activation_failure_is_told_in_plain_words(wrk, live_project, ops_user):
    _, v1, v2 = live_project
    wrk.fail_next(100, status=503, op="activate")
    response = act(logged_in(ops_user), v2, "mark_live")
    [message] = messages_of(response)
    assert "WRK did not activate" in message
    assert "after 3 attempts" in message
    # WRK's JSON error body comes through as its message, not as raw JSON.
    assert "HTTP 503: injected fault: HTTP 503" in message
    assert "{" not in message
    assert (status(v2), status(v1)) == ("Error", "Live")


def test_no_binding_is_told_as_build_must_complete(wrk, ops_user):
    version = make_version(make_project())
    WorkflowBinding.objects.filter(automation_version=version).delete()
    response = act(logged_in(ops_user), version, "mark_live")
    assert any("build must complete first" in m for m in messages_of(response))


@pytest.mark.parametrize("action", sorted(ACTION_PATHS))
def test_posting_an_action_without_permission_is_403_and_writes_nothing(wrk, live_project, action):
    _, v1, v2 = live_project
    before = AutomationVersion.objects.get(pk=v2.pk).updated_at
    audit_rows, log_rows = AuditLog.objects.count(), LogEntry.objects.count()
    for version in (v1, v2):
        assert act(logged_in(viewer()), version, action).status_code == 403
    assert status(v2) == "Ready to Launch"
    assert AutomationVersion.objects.get(pk=v2.pk).updated_at == before
    assert wrk.calls == []
    assert (AuditLog.objects.count(), LogEntry.objects.count()) == (audit_rows, log_rows)


def test_an_unknown_version_is_403_without_the_permission_and_404_with_it(ops_user):
    url = "/admin/automations/automationversion/987654/deploy/"
    assert logged_in(viewer()).post(url).status_code == 403
    assert logged_in(ops_user).post(url).status_code == 404


def test_posting_the_old_change_form_action_is_403_and_writes_nothing(wrk, live_project):
    """Issue 7 A6: staff with the change permission used to get a silent form save."""
    _, _, v2 = live_project
    before = AutomationVersion.objects.get(pk=v2.pk).updated_at
    response = logged_in(viewer()).post(
        change_url(v2),
        {"CHANGE_FORM-action": "mark_live", "_selected_action": str(v2.pk), "post": "yes"},
    )
    assert response.status_code == 403
    assert AutomationVersion.objects.get(pk=v2.pk).updated_at == before
    assert not LogEntry.objects.exists()
    assert wrk.calls == []


def test_the_version_page_has_no_save_button_even_for_a_superuser(wrk, live_project):
    _, _, v2 = live_project
    root = make_user(staff=True)
    root.is_superuser = True
    root.save()
    page = logged_in(root).get(change_url(v2)).content.decode()
    assert 'name="_save"' not in page
    assert 'id="df-action-mark_live"' in page


def test_approval_four_eyes(wrk, live_project, ops_user, settings):
    settings.DEPLOY_REQUIRE_APPROVAL = True
    _, _, v2 = live_project
    author, reviewer = logged_in(ops_user), logged_in(make_user(ops=True))
    assert "approve" in buttons(author, v2)

    refused = act(author, v2, "mark_live")
    assert any("needs the approval of a second ops user" in m for m in messages_of(refused))
    assert status(v2) == "Ready to Launch"

    act(author, v2, "approve")
    confirmation = author.get(action_url(v2, "mark_live"))
    assert f"Approved by <strong>{ops_user.username}</strong>" in confirmation.content.decode()
    self_deploy = act(author, v2, "mark_live")
    assert any("approved this version yourself" in m for m in messages_of(self_deploy))
    assert status(v2) == "Ready to Launch"
    assert wrk.calls_for("activate") == []

    act(reviewer, v2, "mark_live")
    assert status(v2) == "Live"
    approval = AuditLog.objects.get(action_type="approve")
    assert approval.actor == ops_user


def test_a_deploy_without_approval_is_refused_through_the_api_too(api, wrk, live_project, settings):
    settings.DEPLOY_REQUIRE_APPROVAL = True
    _, _, v2 = live_project
    response = api.patch(
        f"/v1/automation-versions/{v2.pk}/status",
        data={"status": "Live"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "approval_required"


def test_retry_from_error_and_rollback_from_archived_in_one_confirmation(
    wrk, live_project, ops_user
):
    _, v1, v2 = live_project
    ops = logged_in(ops_user)
    wrk.fail_next(100, status=500, op="activate")
    act(ops, v2, "mark_live")
    assert status(v2) == "Error"
    wrk.reset()

    # Retry deploy: its confirmation page says it re-stages first, and nothing moved yet.
    page = ops.get(action_url(v2, "retry")).content.decode()
    assert "Retry the deploy?" in page
    assert "re-staged from Error to Ready to Launch" in page
    assert "Yes, retry the deploy" in page
    assert status(v2) == "Error"
    response = act(ops, v2, "retry")
    assert any("is Live" in m for m in messages_of(response))
    assert (status(v2), status(v1)) == ("Live", "Archived")

    page = ops.get(action_url(v1, "rollback")).content.decode()
    assert f"Roll back to {v1.version}?" in page
    assert "a rollback to a version that was Live before" in page
    response = act(ops, v1, "rollback")
    assert any("is Live" in m and "v2 was archived" in m for m in messages_of(response))
    assert (status(v1), status(v2)) == ("Live", "Archived")
    restages = AuditLog.objects.filter(action_type="restage").order_by("id")
    assert [r.metadata["rollback"] for r in restages] == [False, True]
    assert [r.metadata["source"] for r in restages] == ["admin", "admin"]
    project_page = ops.get(f"/admin/automations/project/{v1.project_id}/change/").content
    assert b"deploy history" in project_page.lower()


def test_a_refused_retry_changes_nothing(wrk, live_project, ops_user, settings):
    """Approval on and none given: the one-step retry is refused before it re-stages."""
    _, _, v2 = live_project
    wrk.fail_next(100, status=500, op="activate")
    automation_version_deploy_quietly(v2, ops_user)
    settings.DEPLOY_REQUIRE_APPROVAL = True
    ops = logged_in(ops_user)
    assert buttons(ops, v2) == {"restage"}
    response = act(ops, v2, "retry")
    assert any("needs the approval" in m for m in messages_of(response))
    assert status(v2) == "Error"
    # Re-stage for approval: Ready to Launch, where it can be approved.
    response = act(ops, v2, "restage")
    assert any("needs the approval of another ops user" in m for m in messages_of(response))
    assert status(v2) == "Ready to Launch"


def automation_version_deploy_quietly(version, actor) -> None:
    from automations.errors import ServiceError

    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=version.pk, actor=actor, source="api")


def test_retry_deactivation_from_the_admin(wrk, live_project, ops_user):
    _, v1, v2 = live_project
    wrk.fail_next(100, status=500, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    wrk.reset()
    response = act(logged_in(ops_user), v1, "retry_deactivation")
    assert any("is deactivated" in m for m in messages_of(response))
    binding = WorkflowBinding.objects.get(automation_version=v1)
    assert binding.status == BindingStatus.INACTIVE


def test_changelists_filter_and_search(wrk, live_project, ops_user):
    project, _v1, _ = live_project
    client = logged_in(ops_user)
    page = client.get(
        "/admin/automations/automationversion/", {"q": f"wf-{project.slug}-v1"}
    ).content.decode()
    assert "1 automation version" in page
    page = client.get(
        "/admin/automations/automationversion/",
        {"status__exact": "Live", "project__client__id__exact": project.client_id},
    ).content.decode()
    assert "df-badge-live" in page
    assert client.get("/admin/automations/project/", {"status__exact": "Live"}).status_code == 200
