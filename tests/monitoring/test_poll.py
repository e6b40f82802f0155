"""Issue 8 §2: `poll_wrk` pulls runs from a cursor per binding and finds drift."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from automations.models import Deployment, WorkflowBinding
from monitoring.models import Incident, Monitor, RunEvent
from monitoring.poll import binding_drift_decide, wrk_poll
from notifications.models import Delivery, Notification
from tests.factories import make_project, make_version

from .runs import run, send

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _slack(settings):
    # Deliveries are only counted here, never sent.
    settings.SLACK_WEBHOOK_URL = "http://127.0.0.1:9/services/T/B/X"


def poll():
    return wrk_poll(concurrency=4, page_size=500, max_pages=4)


def poll_command() -> str:
    out = StringIO()
    call_command("poll_wrk", stdout=out)
    return out.getvalue()


def test_it_pulls_runs_from_a_cursor_and_stores_each_once(binding, wrk, wrk_clock):
    wrk_clock.advance(10 * 60 + 2)  # runs 0 to 10; run 10 is still running

    report = poll()

    assert (report.bindings, report.accepted, report.requests) == (1, 11, 2)
    assert RunEvent.objects.filter(status="running").count() == 1
    assert set(RunEvent.objects.values_list("received_via", flat=True)) == {"poll"}
    # The cursor waits at the running run, which comes again once it is final.
    assert Monitor.objects.get(binding=binding).poll_cursor == "10"
    wrk_clock.advance(30)
    report = poll()
    assert (report.accepted, report.duplicates) == (1, 0)
    assert not RunEvent.objects.filter(status="running").exists()
    assert Monitor.objects.get(binding=binding).poll_cursor == "11"


def test_it_pages_through_a_long_history(binding, wrk, wrk_clock):
    wrk_clock.advance(25 * 60 + 10)  # runs 0 to 25, all finished

    report = wrk_poll(concurrency=2, page_size=10, max_pages=2)
    assert (report.accepted, report.requests) == (20, 3)
    report = wrk_poll(concurrency=2, page_size=10, max_pages=2)
    assert (report.accepted, report.requests) == (6, 2)
    assert RunEvent.objects.count() == 26


def test_runs_already_received_by_webhook_are_duplicates(binding, wrk, wrk_clock, webhook, secret):
    wrk_clock.advance(3 * 60 + 10)
    runs, _ = wrk.runs_page(binding.workflow_id, since=0, limit=10)
    send(webhook, runs[:2], secret)

    report = poll()

    assert (report.accepted, report.duplicates) == (2, 2)
    assert RunEvent.objects.filter(received_via="webhook").count() == 2


def test_a_wrk_error_leaves_the_cursor(binding, wrk, wrk_clock):
    wrk_clock.advance(5 * 60 + 10)
    wrk.fail_next(1, op="runs")

    report = poll()

    assert (report.wrk_errors, report.accepted) == (1, 0)
    monitor = Monitor.objects.get(binding=binding)
    assert monitor.poll_cursor == ""
    assert "503" in monitor.poll_error
    assert poll().accepted == 6
    assert Monitor.objects.get(binding=binding).poll_error == ""


def test_forced_failures_on_wrk_open_a_failing_incident(binding, wrk, wrk_clock):
    wrk.fail_runs(binding.workflow_id, 3)
    wrk_clock.advance(3 * 60)
    poll()
    assert Incident.objects.get(binding=binding).kind == "failing"


def drift_alerts() -> list[str]:
    return sorted(
        Delivery.objects.filter(template="workflow_drift").values_list("channel", flat=True)
    )


def test_a_live_workflow_switched_off_behind_our_back_opens_one_drift_incident(
    binding, wrk, ops_user, live_project
):
    project, _, _ = live_project
    wrk.add_workflow(binding.workflow_id, active=False)

    out = poll_command()

    assert f"drift: workflow {binding.workflow_id}" in out
    incident = Incident.objects.get()
    assert (incident.kind, incident.binding_id) == ("drift", binding.pk)
    assert "inactive, but the version is Live" in incident.detail
    assert drift_alerts() == ["email", "slack"]
    assert Notification.objects.filter(kind="workflow_drift", recipient=ops_user).count() == 1
    audit = AuditLog.objects.get(action_type="drift_detected")
    assert (audit.project_id, audit.actor_id, audit.metadata["workflow_id"]) == (
        project.pk,
        None,
        binding.workflow_id,
    )

    # Polling again: still drifting, nothing new.
    poll_command()
    assert Incident.objects.count() == 1
    assert drift_alerts() == ["email", "slack"]
    assert AuditLog.objects.filter(action_type="drift_detected").count() == 1

    # Switched back on in WRK: the next poll resolves it, once.
    wrk.add_workflow(binding.workflow_id, active=True)
    assert f"drift resolved: workflow {binding.workflow_id}" in poll_command()
    poll_command()
    incident.refresh_from_db()
    assert not incident.is_open
    assert Delivery.objects.filter(template="incident_resolved").count() == 2
    assert AuditLog.objects.filter(action_type="incident_resolved").count() == 1


def test_an_archived_workflow_running_again_is_drift(binding, wrk, ops_user, live_project):
    _, _, v2 = live_project
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    assert WorkflowBinding.objects.get(pk=binding.pk).status == "inactive"
    poll()
    assert not Incident.objects.exists()

    wrk.add_workflow(binding.workflow_id, active=True)
    report = poll()

    assert report.drift_opened == [binding.workflow_id]
    incident = Incident.objects.get()
    assert "archived version active" in incident.detail
    assert poll().drift_opened == []
    # The archived workflow's runs are not pulled: only its state is asked.
    assert len(wrk.calls_for("runs", binding.workflow_id)) == 0


def test_a_pending_deactivation_is_not_drift(binding, wrk, ops_user, live_project):
    _, _, v2 = live_project
    wrk.fail_next(10, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    assert poll().drift_opened == []  # reconcile retries it; it is no surprise


def test_no_drift_is_decided_while_a_deploy_of_the_project_is_in_flight(binding, wrk, live_project):
    project, v1, _ = live_project
    Deployment.objects.create(
        project=project, automation_version=v1, workflow_id=binding.workflow_id, source="api"
    )
    wrk.add_workflow(binding.workflow_id, active=False)
    assert poll().drift_opened == []
    Deployment.objects.filter(status="in_progress").update(status="failed")
    assert poll().drift_opened == [binding.workflow_id]


def test_no_drift_is_decided_when_the_database_changed_after_wrk_was_asked(binding, wrk):
    asked_at = timezone.now()
    WorkflowBinding.objects.filter(pk=binding.pk).update(updated_at=timezone.now())
    assert binding_drift_decide(binding_id=binding.pk, active=False, asked_at=asked_at) is None
    assert not Incident.objects.exists()


def test_requests_are_two_per_live_binding(wrk, ops_user, settings):
    for _ in range(5):
        version = make_version(make_project())
        automation_version_deploy(version_id=version.pk, actor=ops_user, source="command")
    wrk.reset()
    report = poll()
    assert (report.bindings, report.requests, len(wrk.calls)) == (5, 10, 10)


def test_webhook_events_and_polling_agree_on_ids(binding, wrk, wrk_clock, webhook, secret):
    """What the stand-in's emitter would send is what poll_wrk pulls (same run ids)."""
    wrk_clock.advance(2 * 60 + 10)
    runs, _ = wrk.runs_page(binding.workflow_id, since=0, limit=10)
    assert send(webhook, runs, secret).json()["accepted"] == 3
    assert poll().duplicates == 3
    assert send(webhook, [run(binding.workflow_id, 99)], secret).json()["accepted"] == 1


def test_drift_messages_render_on_every_channel(binding, wrk, strict_templates):
    from notifications.rendering import render_email, render_slack

    wrk.add_workflow(binding.workflow_id, active=False)
    poll()
    wrk.add_workflow(binding.workflow_id, active=True)
    poll()

    rendered = {}
    for delivery in Delivery.objects.filter(template__in=["workflow_drift", "incident_resolved"]):
        if delivery.channel == "email":
            subject, text, html = render_email(delivery.template, delivery.payload)
            rendered[delivery.template] = subject
            assert binding.workflow_id in text
            assert "/admin/monitoring/incident/" in html
        else:
            headline, _ = render_slack(delivery.template, delivery.payload)
            rendered[f"slack {delivery.template}"] = headline
    version = binding.automation_version
    label = f"{version.project.name} {version.version}"
    assert rendered == {
        "workflow_drift": f"[deployflow] Drift: {label}: WRK reports the workflow inactive, "
        "but the version is Live: its runs have stopped.",
        "slack workflow_drift": f":warning: {label}: WRK reports the workflow inactive, but "
        "the version is Live: its runs have stopped.",
        "incident_resolved": f"[deployflow] Resolved: {label}: WRK runs it as recorded again",
        "slack incident_resolved": f":white_check_mark: {label}: WRK runs it as recorded again",
    }
