"""Issue 10, item 4: approvals as protected environments do them. The author may not approve
(DEPLOY_PREVENT_SELF_APPROVAL), the approver may not deploy, approving and revoking are
confirmed and audited, the approvers are asked when a version becomes Ready."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from api.services import api_token_create
from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.errors import ErrorCode, ServiceError
from automations.models import AutomationVersion, Deployment
from automations.services import (
    automation_version_approve,
    automation_version_register,
    automation_version_revoke_approval,
    automation_version_stage,
)
from notifications.models import Delivery, Notification
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _approval_required(settings):
    settings.DEPLOY_REQUIRE_APPROVAL = True
    settings.DEPLOY_PREVENT_SELF_APPROVAL = True


@pytest.fixture
def author(db):
    return make_user(ops=True, email="author@agency.example")


@pytest.fixture
def reviewer(db):
    return make_user(ops=True, email="reviewer@agency.example")


@pytest.fixture
def ready(wrk, author) -> AutomationVersion:
    """A version its author registered (as a build would) and marked ready."""
    project = make_project()
    version = automation_version_register(
        project_id=project.pk, label="v1", workflow_id="wf-approvals", actor=author, source="api"
    ).version
    automation_version_stage(version_id=version.pk, actor=author, source="admin")
    return AutomationVersion.objects.get(pk=version.pk)


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def page(client: HttpClient, version: AutomationVersion) -> str:
    return client.get(f"/admin/automations/automationversion/{version.pk}/change/").content.decode()


def url(version: AutomationVersion, action: str) -> str:
    return f"/admin/automations/automationversion/{version.pk}/{action}/"


def approver_of(version: AutomationVersion):
    return AutomationVersion.objects.get(pk=version.pk).approved_by


def test_the_author_cannot_approve_their_version(ready, author):
    with pytest.raises(ServiceError) as refused:
        automation_version_approve(version_id=ready.pk, actor=author, source="admin")
    assert refused.value.code == ErrorCode.SELF_APPROVAL
    assert approver_of(ready) is None
    author_page = page(logged_in(author), ready)
    assert 'id="df-action-approve"' not in author_page
    assert "You registered it: another ops user must approve it" in author_page
    confirmation = logged_in(author).get(url(ready, "approve")).content.decode()
    assert "You cannot approve it" in confirmation
    assert 'id="df-confirm-approve"' not in confirmation
    assert not AuditLog.objects.filter(action_type="approve").exists()


def test_self_approval_is_allowed_when_the_setting_is_off(ready, author, settings):
    settings.DEPLOY_PREVENT_SELF_APPROVAL = False
    automation_version_approve(version_id=ready.pk, actor=author, source="admin")
    assert approver_of(ready) == author


def test_approving_goes_through_a_confirmation_and_is_audited(wrk, ready, reviewer, author):
    client = logged_in(reviewer)
    assert 'id="df-action-approve"' in page(client, ready)
    confirmation = client.get(url(ready, "approve")).content.decode()
    assert "Approve for production?" in confirmation
    assert "you will not be able to deploy it yourself" in confirmation
    assert approver_of(ready) is None  # the GET only asks

    response = client.post(url(ready, "approve"), follow=True)
    assert any("is approved" in str(m) for m in response.context["messages"])
    assert approver_of(ready) == reviewer
    row = AuditLog.objects.get(action_type="approve", resource_id=str(ready.pk))
    assert (row.actor, row.metadata["source"]) == (reviewer, "admin")

    # The approver sees no deploy button; the author (another user) deploys.
    reviewer_page = page(client, ready)
    assert 'id="df-action-mark_live"' not in reviewer_page
    assert "You approved it: another ops user deploys it" in reviewer_page
    assert 'id="df-action-mark_live"' in page(logged_in(author), ready)
    with pytest.raises(ServiceError) as refused:
        automation_version_deploy(version_id=ready.pk, actor=reviewer, source="admin")
    assert refused.value.code == ErrorCode.APPROVAL_REQUIRED
    automation_version_deploy(version_id=ready.pk, actor=author, source="admin")
    assert AutomationVersion.objects.get(pk=ready.pk).status == "Live"


def test_the_changelist_shows_who_approved(ready, reviewer):
    automation_version_approve(version_id=ready.pk, actor=reviewer, source="admin")
    changelist = logged_in(reviewer).get("/admin/automations/automationversion/")
    assert f'<td class="field-approved_by_label">{reviewer.username}</td>' in (
        changelist.content.decode()
    )


def test_a_second_approval_changes_nothing(ready, reviewer):
    automation_version_approve(version_id=ready.pk, actor=reviewer, source="admin")
    other = make_user(ops=True)
    response = logged_in(other).post(url(ready, "approve"), follow=True)
    assert any(
        f"approved already, by {reviewer.username}" in str(m) for m in response.context["messages"]
    )
    assert approver_of(ready) == reviewer
    assert AuditLog.objects.filter(action_type="approve").count() == 1


def test_revoking_goes_through_a_confirmation_and_is_audited(ready, reviewer, author):
    automation_version_approve(version_id=ready.pk, actor=reviewer, source="admin")
    # Another approver (here the author, who holds the permission) may revoke too.
    client = logged_in(author)
    assert 'id="df-action-revoke"' in page(client, ready)
    confirmation = client.get(url(ready, "revoke")).content.decode()
    assert "Revoke the approval?" in confirmation
    assert 'id="df-confirm-revoke"' in confirmation
    assert approver_of(ready) == reviewer

    response = client.post(url(ready, "revoke"), follow=True)
    assert any("needs a new approval" in str(m) for m in response.context["messages"])
    assert approver_of(ready) is None
    row = AuditLog.objects.get(action_type="revoke_approval")
    assert (row.actor, row.metadata["approved_by"]) == (author, reviewer.username)
    assert 'id="df-action-mark_live"' not in page(client, ready)


def test_revoking_without_an_approval_changes_nothing(ready, reviewer):
    automation_version_revoke_approval(version_id=ready.pk, actor=reviewer, source="api")
    assert not AuditLog.objects.filter(action_type="revoke_approval").exists()


def test_revoking_needs_the_approve_permission(ready, reviewer):
    automation_version_approve(version_id=ready.pk, actor=reviewer, source="admin")
    outsider = make_user(staff=True)
    with pytest.raises(ServiceError) as refused:
        automation_version_revoke_approval(version_id=ready.pk, actor=outsider, source="api")
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert logged_in(outsider).post(url(ready, "revoke")).status_code == 403
    assert approver_of(ready) == reviewer


def test_revoking_while_the_approved_deploy_runs_is_refused(ready, reviewer, author):
    automation_version_approve(version_id=ready.pk, actor=reviewer, source="admin")
    Deployment.objects.create(
        project_id=ready.project_id,
        automation_version=ready,
        workflow_id="wf-approvals",
        actor=author,
        source="admin",
    )
    with pytest.raises(ServiceError) as refused:
        automation_version_revoke_approval(version_id=ready.pk, actor=reviewer, source="api")
    assert refused.value.code == ErrorCode.DEPLOY_IN_PROGRESS
    assert approver_of(ready) == reviewer


# --- the API ----------------------------------------------------------------------------------


def api_for(user) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {api_token_create(user=user)[1]}"})


def test_the_api_approves_and_revokes(wrk, ready, author, reviewer):
    approval = f"/v1/automation-versions/{ready.pk}/approval"
    refused = api_for(author).post(approval)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "self_approval"

    response = api_for(reviewer).post(approval)
    assert response.status_code == 200
    assert response.json()["approval"]["approved_by"] == reviewer.username

    deploy = api_for(reviewer).patch(
        f"/v1/automation-versions/{ready.pk}/status",
        data=json.dumps({"status": "Live"}),
        content_type="application/json",
    )
    assert deploy.status_code == 400
    assert deploy.json()["error"]["code"] == "approval_required"

    revoked = api_for(reviewer).delete(approval)
    assert revoked.status_code == 200
    assert revoked.json()["approval"] is None
    assert api_for(make_user(staff=True)).post(approval).status_code == 403
    assert api_for(reviewer).post("/v1/automation-versions/987654/approval").status_code == 404


# --- asking the approvers ----------------------------------------------------------------------


def test_the_approvers_are_asked_when_it_becomes_ready(wrk, author, reviewer, slack):
    other_approver = make_user(ops=True, email="third@agency.example")
    make_user(staff=True, email="not-an-approver@agency.example")
    project = make_project()
    version = automation_version_register(
        project_id=project.pk, label="v9", workflow_id="wf-asked", actor=author, source="api"
    ).version
    automation_version_stage(version_id=version.pk, actor=author, source="admin")

    asked = Notification.objects.filter(kind="approval_requested")
    assert {n.recipient for n in asked} == {reviewer, other_approver}
    notice = asked.earliest("id")
    assert notice.link.endswith(f"/admin/automations/automationversion/{version.pk}/change/")
    emails = Delivery.objects.filter(template="approval_requested", channel="email")
    assert sorted(d.recipient for d in emails) == [
        "reviewer@agency.example",
        "third@agency.example",
    ]
    assert Delivery.objects.filter(template="approval_requested", channel="slack").count() == 1


def test_nobody_is_asked_without_the_setting_or_for_an_approved_version(
    wrk, settings, author, reviewer
):
    settings.DEPLOY_REQUIRE_APPROVAL = False
    project = make_project()
    version = automation_version_register(
        project_id=project.pk, label="v1", workflow_id="wf-quiet", actor=author, source="api"
    ).version
    automation_version_stage(version_id=version.pk, actor=author, source="admin")
    assert not Notification.objects.filter(kind="approval_requested").exists()

    # Approved, failed, retried: its approval stands, nobody is asked again.
    settings.DEPLOY_REQUIRE_APPROVAL = True
    automation_version_approve(version_id=version.pk, actor=reviewer, source="admin")
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=version.pk, actor=author, source="admin")
    automation_version_stage(version_id=version.pk, actor=author, source="admin")
    assert not Notification.objects.filter(kind="approval_requested").exists()
