"""Issue 10, item 3: a failed deactivation is one incident, visible until it is fixed: one
alert when it opens, one "resolved" notice when WRK confirms (or the version is Live again),
every attempt audited, and a warning wherever ops look (version, project, changelists,
deploy history, API)."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from audit.models import AuditLog
from automations.deploy import automation_version_deploy, automation_version_redeploy
from automations.models import BindingStatus, WorkflowBinding
from automations.reconcile import deployments_reconcile
from notifications.models import Delivery, Notification
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def alerts(kind: str) -> tuple[int, int]:
    """(in-app notifications, outbox deliveries) of one kind."""
    return (
        Notification.objects.filter(kind=kind).count(),
        Delivery.objects.filter(template=kind).count(),
    )


def retry_in_admin(client: HttpClient, version) -> list[str]:
    response = client.post(
        f"/admin/automations/automationversion/{version.pk}/deactivate/", follow=True
    )
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def incident(wrk, live_project, ops_user):
    """v2 deployed; WRK refused to deactivate v1's workflow: the incident is open."""
    project, v1, v2 = live_project
    make_user(ops=True, email="ops2@agency.example")
    wrk.fail_next(100, status=500, op="deactivate")
    result = automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    assert result.deactivation == "failed"
    return project, v1, v2


def test_one_alert_per_incident_however_many_retries_fail(wrk, incident, ops_user, settings):
    _, v1, _ = incident
    # Two ops users: one in-app alert each; their two addresses by email.
    assert alerts("deactivation_failed") == (2, 2)
    binding = WorkflowBinding.objects.get(automation_version=v1)
    opened_at = binding.deactivation_failed_at
    assert opened_at is not None

    ops = logged_in(ops_user)
    for _ in range(2):
        assert any("did not deactivate" in m for m in retry_in_admin(ops, v1))
    deployments_reconcile()

    assert alerts("deactivation_failed") == (2, 2)
    # Every attempt is audited: the deploy's, two from the admin, one from reconcile.
    failures = AuditLog.objects.filter(action_type="deactivate_failed").order_by("id")
    assert [row.metadata["source"] for row in failures] == [
        "admin",
        "admin",
        "admin",
        "reconcile",
    ]
    assert WorkflowBinding.objects.get(pk=binding.pk).deactivation_failed_at == opened_at
    assert alerts("deactivation_resolved") == (0, 0)


def test_one_resolved_notice_when_wrk_confirms(wrk, incident, ops_user):
    _, v1, _ = incident
    wrk.reset()
    assert any("is deactivated" in m for m in retry_in_admin(logged_in(ops_user), v1))

    binding = WorkflowBinding.objects.get(automation_version=v1)
    assert (binding.status, binding.deactivation_failed_at) == (BindingStatus.INACTIVE, None)
    assert alerts("deactivation_resolved") == (2, 2)
    notice = Notification.objects.filter(kind="deactivation_resolved").earliest("id")
    assert notice.title.startswith("Resolved: workflow")
    assert "WRK confirmed" in notice.body
    # Nothing more to do, nothing more said.
    deployments_reconcile()
    assert alerts("deactivation_resolved") == (2, 2)


def test_reconcile_resolves_it_once(wrk, incident):
    wrk.reset()
    report = deployments_reconcile()
    assert len(report.deactivated) == 1
    assert alerts("deactivation_resolved") == (2, 2)


def test_rolling_back_to_the_version_resolves_it(wrk, incident, ops_user):
    _, v1, _ = incident
    wrk.reset()
    automation_version_redeploy(version_id=v1.pk, actor=ops_user, source="admin")
    binding = WorkflowBinding.objects.get(automation_version=v1)
    assert (binding.status, binding.deactivation_failed_at) == (BindingStatus.ACTIVE, None)
    [notice, *_] = Notification.objects.filter(kind="deactivation_resolved")
    assert "went Live again" in notice.body
    assert alerts("deactivation_resolved")[0] == 2


def test_a_new_failure_after_resolution_is_a_new_incident(wrk, incident, ops_user):
    _, v1, _v2 = incident
    wrk.reset()
    retry_in_admin(logged_in(ops_user), v1)
    # v1 back Live; v2's deactivation now fails: another incident, another alert.
    wrk.fail_next(100, status=500, op="deactivate")
    automation_version_redeploy(version_id=v1.pk, actor=ops_user, source="admin")
    assert alerts("deactivation_failed") == (4, 4)


def test_the_incident_shows_wherever_ops_look(wrk, incident, ops_user, api):
    project, v1, _v2 = incident
    ops = logged_in(ops_user)
    version_page = ops.get(f"/admin/automations/automationversion/{v1.pk}/change/")
    page = version_page.content.decode()
    assert 'id="df-deactivation-incident"' in page
    assert "old workflow still active" in page
    assert 'id="df-action-retry_deactivation"' in page

    changelist = ops.get("/admin/automations/automationversion/").content.decode()
    assert "deactivation failed" in changelist
    projects = ops.get("/admin/automations/project/").content.decode()
    assert "1 deactivation pending" in projects
    project_page = ops.get(f"/admin/automations/project/{project.pk}/change/").content.decode()
    assert "succeeded — old workflow still active" in project_page
    assert "deactivation failed" in project_page
    deployments = ops.get("/admin/automations/deployment/").content.decode()
    assert "succeeded — old workflow still active" in deployments

    rows = api.get(f"/v1/deployments?project={project.pk}").json()["results"]
    assert [row["previous_workflow_still_active"] for row in rows] == [True, False]
    listed = api.get("/v1/projects").json()["results"]
    assert next(p for p in listed if p["id"] == project.pk)["waiting"]["deactivation_pending"] == 1

    # Fixed: every warning goes.
    wrk.reset()
    retry_in_admin(ops, v1)
    page = ops.get(f"/admin/automations/automationversion/{v1.pk}/change/").content.decode()
    assert 'id="df-deactivation-incident"' not in page
    assert (
        "old workflow still active"
        not in ops.get(f"/admin/automations/project/{project.pk}/change/").content.decode()
    )
    assert "deactivation pending" not in ops.get("/admin/automations/project/").content.decode()
