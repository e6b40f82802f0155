"""Issue 10, item 2: adopting an activation that ops made by hand in WRK ("ops can manually
activate in WRK Platform if the API fails"), from the admin, the API and `redeploy --adopt`.
The stand-in WRK over HTTP plays the platform; the activation by hand is made on it."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient

from audit.models import AuditLog
from automations.deploy import automation_version_adopt, automation_version_deploy
from automations.errors import ErrorCode, ServiceError
from automations.models import (
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentSource,
    VersionStatus,
    WorkflowBinding,
)
from notifications.models import Delivery, Notification
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def errored(wrk, live_project, ops_user):
    """v1 Live; v2's deploy failed (Error); then ops activated v2's workflow by hand."""
    project, v1, v2 = live_project
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    wrk.reset()
    return project, v1, v2


def status(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def by_hand(wrk, version: AutomationVersion) -> None:
    wrk.add_workflow(version.workflow_binding.workflow_id, active=True)


def snapshot() -> tuple[int, int, int, int]:
    return (
        AuditLog.objects.count(),
        Deployment.objects.count(),
        Notification.objects.count(),
        Delivery.objects.count(),
    )


def test_adopting_makes_it_live_with_the_effects_of_a_deploy_but_no_activate_call(
    wrk, errored, ops_user
):
    project, v1, v2 = errored
    by_hand(wrk, v2)
    collaborator = make_user()
    project.collaborators.add(collaborator)

    result = automation_version_adopt(version_id=v2.pk, actor=ops_user, source="admin")

    assert (status(v2), status(v1)) == ("Live", "Archived")
    assert result.attempts is None
    assert wrk.calls_for("activate") == []
    assert [c.op for c in wrk.calls] == ["get", "deactivate"]
    assert wrk.is_active(v1.workflow_binding.workflow_id) is False
    binding = WorkflowBinding.objects.get(automation_version=v2)
    assert binding.status == BindingStatus.ACTIVE
    assert binding.monitoring_started_at is not None
    deployment = Deployment.objects.get(pk=result.deployment.pk)
    assert (deployment.source, deployment.attempts) == (DeploymentSource.MANUAL, None)
    deploy = AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk))
    assert deploy.actor == ops_user
    assert deploy.metadata["source"] == "manual"
    assert deploy.metadata["attempts"] is None
    assert deploy.metadata["adopted"] is True
    assert deploy.metadata["requested_via"] == "admin"
    # SPEC §3: through Ready to Launch, audited as the restage it is.
    restage = AuditLog.objects.get(action_type="restage", resource_id=str(v2.pk))
    assert (restage.metadata["from_status"], restage.metadata["to_status"]) == (
        "Error",
        "Ready to Launch",
    )
    assert AuditLog.objects.filter(action_type="archive", resource_id=str(v1.pk)).exists()
    assert collaborator.notifications.filter(kind="automation_live").count() == 1
    assert Delivery.objects.filter(template="deployment_success").exists()


def test_adopting_what_wrk_does_not_run_is_refused_and_changes_nothing(wrk, errored, ops_user):
    _, v1, v2 = errored
    before = snapshot()
    with pytest.raises(ServiceError) as refused:
        automation_version_adopt(version_id=v2.pk, actor=ops_user, source="admin")
    assert refused.value.code == ErrorCode.NOT_ACTIVE_ON_WRK
    assert "inactive" in refused.value.message
    # Not even re-staged.
    assert (status(v2), status(v1)) == ("Error", "Live")
    assert snapshot() == before
    assert [c.op for c in wrk.calls] == ["get"]


def test_adopting_while_wrk_is_down_is_refused_and_changes_nothing(wrk, errored, ops_user):
    _, _, v2 = errored
    by_hand(wrk, v2)
    wrk.fail_next(100, status=503, op="get")
    before = snapshot()
    with pytest.raises(ServiceError) as refused:
        automation_version_adopt(version_id=v2.pk, actor=ops_user, source="api")
    assert refused.value.code == ErrorCode.WRK_UNAVAILABLE
    assert status(v2) == "Error"
    assert snapshot() == before


@pytest.mark.parametrize("state", ["Ready to Launch", "Live", "Archived", "Draft"])
def test_only_a_version_in_error_is_adopted(wrk, live_project, ops_user, state):
    _, v1, v2 = live_project
    version = v1 if state == "Live" else v2
    AutomationVersion.objects.filter(pk=version.pk).update(status=state)
    with pytest.raises(ServiceError) as refused:
        automation_version_adopt(version_id=version.pk, actor=ops_user, source="api")
    assert refused.value.code == ErrorCode.INVALID_TRANSITION
    assert wrk.calls == []


def test_adopting_needs_the_deploy_and_restage_permissions(wrk, errored):
    _, _, v2 = errored
    by_hand(wrk, v2)
    with pytest.raises(ServiceError) as refused:
        automation_version_adopt(version_id=v2.pk, actor=make_user(staff=True), source="api")
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert wrk.calls == []


def test_adopting_keeps_the_approval_rule(wrk, errored, ops_user, settings):
    settings.DEPLOY_REQUIRE_APPROVAL = True
    _, _, v2 = errored
    by_hand(wrk, v2)
    with pytest.raises(ServiceError) as refused:
        automation_version_adopt(version_id=v2.pk, actor=ops_user, source="api")
    assert refused.value.code == ErrorCode.APPROVAL_REQUIRED
    assert status(v2) == "Error"
    assert wrk.calls == []


# --- the entry points -----------------------------------------------------------------------


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def adopt_url(version: AutomationVersion) -> str:
    return f"/admin/automations/automationversion/{version.pk}/adopt/"


def test_the_admin_confirms_with_what_wrk_reports_then_adopts(wrk, errored, ops_user):
    _, v1, v2 = errored
    ops = logged_in(ops_user)
    page = ops.get(f"/admin/automations/automationversion/{v2.pk}/change/").content.decode()
    assert 'id="df-action-adopt"' in page

    # Not active on WRK: the page says so and offers nothing to confirm.
    refused = ops.get(adopt_url(v2)).content.decode()
    assert "There is nothing to adopt" in refused
    assert 'id="df-confirm-deploy"' not in refused
    assert status(v2) == "Error"

    by_hand(wrk, v2)
    page = ops.get(adopt_url(v2)).content.decode()
    assert "Adopt the activation done in WRK?" in page
    assert "WRK is not asked to activate it again" in page
    assert f"{v1.version} → Archived" in page
    assert 'id="df-confirm-deploy"' in page
    assert status(v2) == "Error"

    response = ops.post(adopt_url(v2), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("the activation done in WRK was adopted" in m for m in messages)
    assert (status(v2), status(v1)) == ("Live", "Archived")
    assert wrk.calls_for("activate") == []


def test_the_admin_post_refuses_when_wrk_no_longer_runs_it(wrk, errored, ops_user):
    _, _, v2 = errored
    response = logged_in(ops_user).post(adopt_url(v2), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("nothing was changed" in m for m in messages)
    assert status(v2) == "Error"


def test_the_api_adopts_with_adopt_true(api, wrk, errored):
    _, v1, v2 = errored
    url = f"/v1/automation-versions/{v2.pk}/status"
    body = json.dumps({"status": "Live", "adopt": True})
    refused = api.patch(url, data=body, content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_active_on_wrk"
    assert status(v2) == "Error"

    by_hand(wrk, v2)
    response = api.patch(url, data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "Live"
    assert response.json()["deploy"]["attempts"] is None
    assert response.json()["deploy"]["archived_version_id"] == v1.pk
    assert wrk.calls_for("activate") == []


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_redeploy_adopt_dry_run_reads_the_same_rule_and_asks_wrk(wrk, errored):
    _, _, v2 = errored
    output = run("redeploy", str(v2.pk), "--adopt", "--dry-run")
    assert "Dry run, nothing changed" in output
    assert f"ask WRK whether workflow {v2.workflow_binding.workflow_id} is active" in output
    assert "without activating it" in output
    assert "inactive: nothing to adopt" in output
    by_hand(wrk, v2)
    assert "active: it can be adopted" in run("redeploy", str(v2.pk), "--adopt", "--dry-run")
    assert status(v2) == "Error"
    assert wrk.calls_for("activate") == []


def test_redeploy_adopt(wrk, errored, ops_user):
    _, _, v2 = errored
    with pytest.raises(CommandError, match="not_active_on_wrk"):
        run("redeploy", str(v2.pk), "--adopt")
    by_hand(wrk, v2)
    output = run("redeploy", str(v2.pk), "--adopt", "--user", ops_user.username)
    assert "the activation done in WRK was adopted" in output
    assert status(v2) == VersionStatus.LIVE
    assert Deployment.objects.filter(source="manual", automation_version=v2).count() == 1
