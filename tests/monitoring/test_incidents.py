"""Issue 8 §4: a failing streak opens one incident, alerted once on every channel; the next
success resolves it, with one "recovered" notice; nothing in between."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client as HttpClient

from audit.models import AuditLog
from monitoring.models import Incident
from notifications.models import Delivery, Notification
from tests.conftest import run_worker
from tests.factories import make_user

from .runs import run, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def watched(binding, live_project, smtp, slack, settings, strict_templates):
    """A monitored Live workflow with two ops addresses, a client collaborator and Slack."""
    settings.OPS_EMAILS = ["oncall@agency.example"]
    project, _, _ = live_project
    collaborator = make_user(email="cto@client.example")
    project.collaborators.add(collaborator)
    run_worker()  # the deploy's own notifications
    smtp.messages.clear()
    slack.requests.clear()
    Notification.objects.all().delete()
    return binding, collaborator


def failures(workflow_id: str, numbers: range) -> list[dict]:
    return [run(workflow_id, n, "error", error=f"Node failed ({n})") for n in numbers]


def alerts(template: str) -> list[tuple[str, str]]:
    return sorted(Delivery.objects.filter(template=template).values_list("channel", "recipient"))


def test_three_failures_alert_once_per_channel_then_silence_then_one_recovery(
    watched, webhook, secret, smtp, slack, ops_user
):
    binding, collaborator = watched
    w = binding.workflow_id

    send(webhook, failures(w, range(2)), secret)
    assert not Incident.objects.exists()
    send(webhook, failures(w, range(2, 3)), secret)

    incident = Incident.objects.get()
    assert (incident.kind, incident.failure_count, incident.last_error) == (
        "failing",
        3,
        "Node failed (2)",
    )
    assert alerts("runs_failing") == [
        ("email", "oncall@agency.example"),
        ("email", "ops1@agency.example"),
        ("slack", "slack-webhook"),
    ]
    inapp = Notification.objects.filter(kind="runs_failing")
    assert sorted(inapp.values_list("recipient_id", flat=True)) == sorted(
        [ops_user.pk, collaborator.pk]
    )
    assert all(binding.workflow_id not in n.title for n in inapp)
    assert inapp.get(recipient=collaborator).link.endswith(
        f"/status/{binding.automation_version.project.slug}/"
    )
    run_worker()
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "oncall@agency.example",
        "ops1@agency.example",
    ]
    assert "is FAILING: 3 runs in a row" in smtp.messages[0].message["Subject"]
    assert len(slack.requests) == 1
    assert "is failing: 3 runs in a row" in slack.requests[0]["text"]

    # Ten more failures, in several batches: counted, never alerted again.
    for start in (3, 8):
        send(webhook, failures(w, range(start, start + 5)), secret)
    incident.refresh_from_db()
    assert (incident.failure_count, incident.last_error) == (13, "Node failed (12)")
    assert Delivery.objects.filter(template="runs_failing").count() == 3
    assert Notification.objects.filter(kind="runs_failing").count() == 2

    send(webhook, [run(w, 13, "success")], secret)
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert incident.resolution == f"Run {w}-run-13 succeeded."
    assert alerts("incident_resolved") == [
        ("email", "oncall@agency.example"),
        ("email", "ops1@agency.example"),
        ("slack", "slack-webhook"),
    ]
    assert Notification.objects.filter(kind="incident_resolved").count() == 2
    smtp.messages.clear()
    run_worker()
    assert len(smtp.messages) == 2
    assert "Resolved" in smtp.messages[0].message["Subject"]
    assert len(slack.requests) == 2

    # Audited: opened and resolved, by the system.
    actions = list(
        AuditLog.objects.filter(resource_type="incident")
        .order_by("id")
        .values_list("action_type", "actor_id", "metadata__failure_count")
    )
    assert actions == [("incident_opened", None, 3), ("incident_resolved", None, 13)]


def test_concurrent_batches_open_one_incident(watched, webhook, secret):
    binding, _ = watched
    w = binding.workflow_id
    # Every thread brings a different mix of the same five failures: any of them could be
    # the one that completes the streak.
    batches = [failures(w, range(5))[k:] + failures(w, range(5))[:k] for k in range(10)]
    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def post(batch):
        try:
            barrier.wait(timeout=10)
            assert send(HttpClient(), batch, secret).status_code == 200
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    incident = Incident.objects.get()
    assert incident.failure_count == 5
    assert Delivery.objects.filter(template="runs_failing").count() == 3
    assert AuditLog.objects.filter(action_type="incident_opened").count() == 1
