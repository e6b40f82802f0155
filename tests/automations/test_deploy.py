"""SPEC §4: the deploy service, against the stand-in WRK over real HTTP."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.errors import ErrorCode, ServiceError
from automations.models import (
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    VersionStatus,
    WorkflowBinding,
)
from notifications.models import Delivery, Notification
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db


def refreshed(version: AutomationVersion) -> AutomationVersion:
    return AutomationVersion.objects.select_related("project", "workflow_binding").get(
        pk=version.pk
    )


def deploy(version: AutomationVersion, actor: User | None, source: str = "api"):
    return automation_version_deploy(version_id=version.pk, actor=actor, source=source)


def test_it_deploys_archives_audits_and_queues_notifications(wrk, live_project, ops_user, settings):
    settings.OPS_EMAILS = ["oncall@agency.example"]
    project, v1, v2 = live_project
    collaborators = [make_user(), make_user(), make_user()]
    project.collaborators.add(*collaborators)
    make_user(ops=True, email="ops2@agency.example")

    result = deploy(v2, ops_user)

    v1, v2 = refreshed(v1), refreshed(v2)
    assert v2.status == VersionStatus.LIVE
    assert v2.project.status == "Live"
    assert v2.workflow_binding.status == BindingStatus.ACTIVE
    assert v2.workflow_binding.monitoring_started_at is not None
    assert v1.status == VersionStatus.ARCHIVED
    assert v1.workflow_binding.status == BindingStatus.INACTIVE
    assert result.attempts == 1
    assert result.previous is not None
    assert result.previous.pk == v1.pk
    assert result.deactivation == "ok"

    # WRK saw exactly one activation of v2 and one deactivation of v1, with the bearer token.
    assert [c.workflow_id for c in wrk.calls_for("activate")] == [v2.workflow_binding.workflow_id]
    assert [c.workflow_id for c in wrk.calls_for("deactivate")] == [v1.workflow_binding.workflow_id]
    assert {c.authorization for c in wrk.calls} == {f"Bearer {settings.WRK_API_TOKEN}"}
    assert wrk.is_active(v2.workflow_binding.workflow_id) is True
    assert wrk.is_active(v1.workflow_binding.workflow_id) is False

    deploy_rows = AuditLog.objects.filter(action_type="deploy", resource_id=str(v2.pk))
    assert deploy_rows.count() == 1
    row = deploy_rows.get()
    assert row.actor == ops_user
    assert row.resource_type == "automation_version"
    assert row.project_id == project.pk
    assert row.metadata["source"] == "api"
    assert row.metadata["from_status"] == "Ready to Launch"
    assert row.metadata["to_status"] == "Live"
    assert row.metadata["workflow_id"] == v2.workflow_binding.workflow_id
    assert row.metadata["attempts"] == 1
    assert row.metadata["archived_version_id"] == v1.pk
    assert AuditLog.objects.filter(action_type="archive", resource_id=str(v1.pk)).count() == 1
    assert AuditLog.objects.filter(action_type="deactivate").count() == 1

    # In-app: exactly one per collaborator of this deploy.
    live_rows = Notification.objects.filter(kind="automation_live", title__contains="v2")
    assert sorted(n.recipient_id for n in live_rows) == sorted(u.pk for u in collaborators)
    # Outbox: automation_live to the client's contact, deployment_success to every ops address.
    outbox = Delivery.objects.filter(payload__version="v2")
    assert sorted((d.channel, d.template, d.recipient) for d in outbox) == [
        ("email", "automation_live", "contact@client.example"),
        ("email", "deployment_success", "oncall@agency.example"),
        ("email", "deployment_success", "ops1@agency.example"),
        ("email", "deployment_success", "ops2@agency.example"),
    ]
    assert all(d.status == "pending" for d in outbox)

    deployment = Deployment.objects.get(pk=result.deployment.pk)
    assert deployment.status == DeploymentStatus.SUCCEEDED
    assert deployment.previous_version_id == v1.pk
    assert deployment.finished_at is not None


def test_it_queues_a_slack_alert_when_configured(wrk, live_project, ops_user, settings):
    settings.SLACK_WEBHOOK_URL = "http://127.0.0.1:9/slack"
    _, _, v2 = live_project
    deploy(v2, ops_user)
    assert (
        Delivery.objects.filter(
            channel="slack", template="deployment_success", payload__version="v2"
        ).count()
        == 1
    )


def test_it_retries_transient_failures_then_goes_live(wrk, live_project, ops_user):
    _, v1, v2 = live_project
    wrk.fail_next(2, status=503, op="activate")

    result = deploy(v2, ops_user)

    assert len(wrk.calls_for("activate")) == 3
    assert result.attempts == 3
    assert refreshed(v2).status == VersionStatus.LIVE
    assert refreshed(v1).status == VersionStatus.ARCHIVED
    assert (
        AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk)).metadata["attempts"] == 3
    )


def test_it_retries_refused_connections(wrk, live_project, ops_user):
    _, _, v2 = live_project
    wrk.refuse_next(2, op="activate")
    result = deploy(v2, ops_user)
    assert result.attempts == 3
    assert len(wrk.calls_for("activate")) == 3
    assert refreshed(v2).status == VersionStatus.LIVE


def test_it_marks_error_and_keeps_the_live_version_when_activation_keeps_failing(
    wrk, live_project, ops_user, settings
):
    _project, v1, v2 = live_project
    other_ops = make_user(ops=True, email="ops2@agency.example")
    wrk.fail_next(100, status=500, op="activate")

    with pytest.raises(ServiceError) as raised:
        deploy(v2, ops_user)

    assert raised.value.code == ErrorCode.ACTIVATION_FAILED
    assert "after 3 attempts" in raised.value.message
    assert len(wrk.calls_for("activate")) == settings.WRK_ACTIVATE_ATTEMPTS == 3
    assert wrk.calls_for("deactivate") == []
    v1, v2 = refreshed(v1), refreshed(v2)
    assert v2.status == VersionStatus.ERROR
    assert v1.status == VersionStatus.LIVE
    assert v1.workflow_binding.status == BindingStatus.ACTIVE
    assert v2.workflow_binding.status == BindingStatus.PENDING
    failed = AuditLog.objects.get(action_type="deploy_failed")
    assert failed.actor == ops_user
    assert failed.metadata["attempts"] == 3
    assert "HTTP 500" in failed.metadata["error"]
    # Ops are told in-app and by email.
    assert sorted(
        Notification.objects.filter(kind="deployment_failed").values_list("recipient_id", flat=True)
    ) == sorted([ops_user.pk, other_ops.pk])
    assert sorted(
        Delivery.objects.filter(template="deployment_failed").values_list("recipient", flat=True)
    ) == ["ops1@agency.example", "ops2@agency.example"]
    assert not Delivery.objects.filter(payload__version="v2", template="automation_live").exists()
    assert Deployment.objects.get(automation_version=v2).status == DeploymentStatus.FAILED


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_it_does_not_retry_a_permanent_error(wrk, live_project, ops_user, status):
    _, v1, v2 = live_project
    wrk.fail_next(100, status=status, op="activate")
    with pytest.raises(ServiceError) as raised:
        deploy(v2, ops_user)
    assert raised.value.code == ErrorCode.ACTIVATION_FAILED
    assert len(wrk.calls_for("activate")) == 1
    assert refreshed(v2).status == VersionStatus.ERROR
    assert refreshed(v1).status == VersionStatus.LIVE


def test_an_already_active_workflow_counts_as_activated(wrk, ops_user):
    project = make_project()
    version = make_version(project)
    wrk.add_workflow(version.workflow_binding.workflow_id, active=True)
    result = deploy(version, ops_user)
    assert result.attempts == 1
    assert refreshed(version).status == VersionStatus.LIVE


def test_it_keeps_the_deploy_when_deactivation_fails(wrk, live_project, ops_user, caplog):
    _, v1, v2 = live_project
    wrk.fail_next(100, status=500, op="deactivate")

    with caplog.at_level(logging.WARNING, logger="automations.deactivate"):
        result = deploy(v2, ops_user)

    assert result.deactivation == "failed"
    assert "HTTP 500" in result.deactivation_error
    v1, v2 = refreshed(v1), refreshed(v2)
    assert v2.status == VersionStatus.LIVE
    assert v1.status == VersionStatus.ARCHIVED
    # WRK never confirmed the deactivation, so the binding does not claim it.
    assert v1.workflow_binding.status == BindingStatus.ACTIVE
    assert any("still active" in r.getMessage() for r in caplog.records)
    failed = AuditLog.objects.get(action_type="deactivate_failed")
    assert failed.metadata["workflow_id"] == v1.workflow_binding.workflow_id
    assert Notification.objects.filter(kind="deactivation_failed", recipient=ops_user).exists()
    assert Delivery.objects.filter(
        template="deactivation_failed", recipient="ops1@agency.example"
    ).exists()
    assert Deployment.objects.get(automation_version=v2).status == DeploymentStatus.SUCCEEDED


def test_no_workflow_binding_is_refused_before_calling_wrk(wrk, ops_user):
    version = make_version(make_project(), binding=False)
    # A Draft without binding can't even be marked ready, so force the one path that could
    # leave a Ready version without one: its binding deleted after the build.
    bound = make_version(make_project())
    WorkflowBinding.objects.filter(automation_version=bound).delete()
    for candidate in (version, bound):
        with pytest.raises(ServiceError) as raised:
            deploy(candidate, ops_user)
        assert raised.value.code in {ErrorCode.INVALID_TRANSITION, ErrorCode.NO_WORKFLOW_BINDING}
    assert raised.value.code == ErrorCode.NO_WORKFLOW_BINDING
    assert "build must complete first" in raised.value.message
    assert wrk.calls == []
    assert refreshed(bound).status == VersionStatus.READY
    assert not AuditLog.objects.filter(action_type__startswith="deploy").exists()


def test_a_binding_in_error_is_refused(wrk, ops_user):
    version = make_version(make_project())
    WorkflowBinding.objects.filter(automation_version=version).update(status=BindingStatus.ERROR)
    with pytest.raises(ServiceError) as raised:
        deploy(version, ops_user)
    assert raised.value.code == ErrorCode.WORKFLOW_BINDING_ERROR
    assert wrk.calls == []


@pytest.mark.parametrize("binding_status", ["pending", "active", "inactive"])
def test_pending_active_and_inactive_bindings_are_deployable(wrk, ops_user, binding_status):
    version = make_version(make_project())
    WorkflowBinding.objects.filter(automation_version=version).update(status=binding_status)
    deploy(version, ops_user)
    assert refreshed(version).status == VersionStatus.LIVE


@pytest.mark.parametrize("status", ["Draft", "Live", "Archived", "Error"])
def test_every_status_but_ready_to_launch_is_an_invalid_transition(
    wrk, live_project, ops_user, status
):
    project, v1, v2 = live_project
    if status == "Draft":
        target = make_version(project, ready=False)
    elif status == "Live":
        target = v1
    elif status == "Archived":
        deploy(v2, ops_user)
        target = v1
    else:
        wrk.fail_next(100, status=500, op="activate")
        with pytest.raises(ServiceError):
            deploy(v2, ops_user)
        target = v2
    wrk.reset()
    audit_before = AuditLog.objects.count()

    with pytest.raises(ServiceError) as raised:
        deploy(target, ops_user)

    assert raised.value.code == ErrorCode.INVALID_TRANSITION
    assert f"'{status}'" in raised.value.message
    assert refreshed(target).status == status
    assert wrk.calls == []
    assert AuditLog.objects.count() == audit_before


def test_a_user_without_the_deploy_permission_gets_403(wrk, live_project):
    _, _v1, v2 = live_project
    staff_not_ops = make_user(staff=True)
    with pytest.raises(ServiceError) as raised:
        deploy(v2, staff_not_ops)
    assert raised.value.code == ErrorCode.PERMISSION_DENIED
    assert refreshed(v2).status == VersionStatus.READY
    assert wrk.calls == []


def test_an_unknown_version_gets_404(wrk, ops_user):
    with pytest.raises(ServiceError) as raised:
        automation_version_deploy(version_id=987654, actor=ops_user, source="api")
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_a_deploy_in_progress_blocks_another_of_the_same_project(wrk, live_project, ops_user):
    project, _, v2 = live_project
    v3 = make_version(project, "v3")
    Deployment.objects.create(
        project=project, automation_version=v3, workflow_id="wf-x", source="api"
    )
    with pytest.raises(ServiceError) as raised:
        deploy(v2, ops_user)
    assert raised.value.code == ErrorCode.DEPLOY_IN_PROGRESS
    assert "v3 is being deployed by the system" in raised.value.message
    assert "reconcile" not in raised.value.message
    assert wrk.calls == []
    assert refreshed(v2).status == VersionStatus.READY


def test_a_stale_deploy_in_progress_points_to_reconcile(wrk, live_project, ops_user):
    project, _, v2 = live_project
    v3 = make_version(project, "v3")
    running = Deployment.objects.create(
        project=project, automation_version=v3, workflow_id="wf-x", source="api", actor=ops_user
    )
    Deployment.objects.filter(pk=running.pk).update(
        started_at=running.started_at - timedelta(hours=1)
    )
    with pytest.raises(ServiceError) as raised:
        deploy(v2, ops_user)
    assert f"by {ops_user.username}" in raised.value.message
    assert "`manage.py reconcile`" in raised.value.message


def test_a_rollback_redeploys_an_archived_version(wrk, live_project, ops_user):
    from automations.services import automation_version_stage

    _, v1, v2 = live_project
    deploy(v2, ops_user)
    automation_version_stage(version_id=v1.pk, actor=ops_user, source="admin")
    result = deploy(v1, ops_user)
    assert result.deployment.is_rollback is True
    assert refreshed(v1).status == VersionStatus.LIVE
    assert refreshed(v2).status == VersionStatus.ARCHIVED
    restage = AuditLog.objects.get(action_type="restage")
    assert restage.metadata["rollback"] is True
