"""Issue 3: the outbox is delivered by the real worker to real SMTP and Slack servers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion
from notifications.models import Delivery
from notifications.tasks import deliver_notifications
from tests.clock import later
from tests.conftest import run_worker
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BACKOFF = 0.3


@pytest.fixture(autouse=True)
def _visible_backoff(settings):
    """Retries wait BACKOFF/2..BACKOFF seconds, so one worker run makes one attempt."""
    settings.NOTIFICATION_RETRY_BASE_SECONDS = BACKOFF
    settings.NOTIFICATION_RETRY_MAX_SECONDS = BACKOFF


def run_worker_after_backoff() -> None:
    """The worker, once the backoff has passed: the clock travels instead of the test
    sleeping."""
    with later(BACKOFF + 0.05):
        run_worker()


@pytest.fixture
def deployed(wrk, smtp, strict_templates, settings):
    """v2 of a project deployed over v1 by an ops user, with two ops addresses."""
    settings.OPS_EMAILS = ["oncall@agency.example"]
    ops = make_user(ops=True, email="ops1@agency.example")
    project = make_project(contact_email="cto@client.example")
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    run_worker()
    smtp.messages.clear()
    automation_version_deploy(version_id=v2.pk, actor=ops, source="admin")
    return project, v2, ops


def test_it_emails_exactly_the_right_people_with_both_bodies(deployed, smtp):
    project, v2, ops = deployed
    run_worker()

    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "cto@client.example",
        "oncall@agency.example",
        "ops1@agency.example",
    ]
    live = smtp.to("cto@client.example")[0]
    assert live.message["Subject"] == f"{project.name} v2 is live"
    text, html = live.part("text/plain"), live.part("text/html")
    for body in (text, html):
        assert project.name in body
        assert "v2" in body
        assert "replacing v1" in body
        assert f"/status/{project.slug}/" in body
        # SPEC §5: the client's email names neither the workflow nor who deployed it.
        assert ops.username not in body
        assert v2.workflow_binding.workflow_id not in body
        assert "wf-" not in body
        assert "/admin/" not in body
    success = smtp.to("ops1@agency.example")[0]
    assert success.message["Subject"] == f"[deployflow] Deployed {project.name} v2 to production"
    for body in (success.part("text/plain"), success.part("text/html")):
        assert f"/admin/automations/automationversion/{v2.pk}/change/" in body
        assert "Archived" in body
        assert "v1" in body
    assert all(m.mail_from == "deployflow@localhost" for m in smtp.messages)
    assert set(Delivery.objects.filter(payload__version="v2").values_list("status", flat=True)) == {
        "sent"
    }


def test_it_posts_a_block_kit_message_to_slack(deployed, slack):
    project, _, _ = deployed
    # The deploy above ran before Slack was configured; this one is seen by it.
    v3 = make_version(project, "v3")
    automation_version_deploy(version_id=v3.pk, actor=None, source="command")
    run_worker()

    assert len(slack.requests) == 1
    body = slack.requests[0]
    assert body["text"] == f":white_check_mark: Deployed {project.name} v3 to production"
    header, section, actions = body["blocks"]
    assert header["type"] == "header"
    fields = " ".join(field["text"] for field in section["fields"])
    for fact in (project.name, "v3", f"wf-{project.slug}-v3", "system", "v2"):
        assert fact in fields
    assert actions["elements"][0]["url"].endswith(f"/automationversion/{v3.pk}/change/")


def test_slack_500_then_200_is_retried_and_delivered_once(deployed, slack):
    project, _, _ = deployed
    slack.answers = [(500, {})]
    automation_version_deploy(version_id=make_version(project, "v3").pk, actor=None, source="api")
    run_worker()
    delivery = Delivery.objects.get(channel="slack")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "HTTP 500" in delivery.last_error

    run_worker_after_backoff()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(slack.requests) == 2


def test_slack_404_fails_permanently_without_retry(deployed, slack):
    project, _, _ = deployed
    slack.answers = [(404, {})]
    automation_version_deploy(version_id=make_version(project, "v3").pk, actor=None, source="api")
    run_worker()
    run_worker_after_backoff()
    delivery = Delivery.objects.get(channel="slack")
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "HTTP 404" in delivery.last_error
    assert len(slack.requests) == 1


def test_slack_429_waits_as_long_as_slack_asks(deployed, slack):
    project, _, _ = deployed
    slack.answers = [(429, {"Retry-After": "30"})]
    automation_version_deploy(version_id=make_version(project, "v3").pk, actor=None, source="api")
    before = timezone.now()
    run_worker()
    delivery = Delivery.objects.get(channel="slack")
    assert delivery.status == "pending"
    assert delivery.next_attempt_at is not None
    assert (delivery.next_attempt_at - before).total_seconds() >= 30
    with later(29):
        run_worker()  # nothing due yet
    assert len(slack.requests) == 1
    with later(31):
        run_worker()
    assert len(slack.requests) == 2


@pytest.mark.parametrize("channel", ["email", "slack"])
def test_a_channel_down_during_a_deploy_delays_but_never_loses_or_doubles(
    wrk, smtp, slack, strict_templates, channel
):
    ops = make_user(ops=True, email="ops1@agency.example")
    version = make_version(make_project(contact_email="cto@client.example"))
    if channel == "email":
        smtp.stop()
    else:
        slack.stop()

    automation_version_deploy(version_id=version.pk, actor=ops, source="api")
    assert AutomationVersion.objects.get(pk=version.pk).status == "Live"
    run_worker()
    down = Delivery.objects.filter(channel=channel)
    assert down.exists()
    assert set(down.values_list("status", flat=True)) == {"pending"}
    assert all(d.last_error and d.attempts == 1 for d in down)

    if channel == "email":
        smtp.start()
    else:
        slack = type(slack)()
        slack.start()
        from django.conf import settings

        settings.SLACK_WEBHOOK_URL = slack.url
    run_worker_after_backoff()

    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Delivery.objects.filter(channel=channel).values_list("attempts", flat=True)) == {2}
    if channel == "email":
        recipients = sorted(r for m in smtp.messages for r in m.rcpt_tos)
        assert recipients == ["cto@client.example", "ops1@agency.example"]
    else:
        assert len(slack.requests) == 1
        slack.stop()


def test_running_the_same_delivery_task_twice_sends_once(wrk, smtp, strict_templates):
    version = make_version(make_project(contact_email="cto@client.example"))
    automation_version_deploy(version_id=version.pk, actor=None, source="api")
    ids = list(Delivery.objects.values_list("pk", flat=True))
    deliver_notifications.call(delivery_ids=ids)
    deliver_notifications.call(delivery_ids=ids)
    run_worker()  # and the task the deploy queued, for a third time
    assert len(smtp.messages) == len(ids) == 1


def test_a_refused_address_fails_at_once_and_can_be_resent(wrk, smtp, strict_templates):
    from notifications.delivery import deliveries_resend

    smtp.refuse.add("cto@client.example")
    version = make_version(make_project(contact_email="cto@client.example"))
    automation_version_deploy(version_id=version.pk, actor=None, source="api")
    run_worker()
    delivery = Delivery.objects.get(recipient="cto@client.example")
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "550" in delivery.last_error

    smtp.refuse.clear()
    assert deliveries_resend(delivery_ids=[delivery.pk]) == [delivery.pk]
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert len(smtp.to("cto@client.example")) == 1


def test_transient_failures_stop_after_the_bound(wrk, smtp, strict_templates, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = settings.NOTIFICATION_RETRY_MAX_SECONDS = 0.01
    smtp.stop()
    version = make_version(make_project(contact_email="cto@client.example"))
    automation_version_deploy(version_id=version.pk, actor=None, source="api")
    for step in range(5):
        with later(step):  # each run past the previous one's backoff of 0.01 s
            run_worker()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "unreachable" in delivery.last_error


def test_failed_activation_reaches_ops_on_every_channel(wrk, smtp, slack, strict_templates):
    ops = make_user(ops=True, email="ops1@agency.example")
    version = make_version(make_project())
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=version.pk, actor=ops, source="api")
    run_worker()
    [mail] = smtp.to("ops1@agency.example")
    assert "FAILED" in mail.message["Subject"]
    assert "HTTP 503" in mail.part("text/plain")
    assert "HTTP 503" in mail.part("text/html")
    assert slack.requests[0]["text"].startswith(":x: Deploy of")
    assert ops.notifications.filter(kind="deployment_failed").count() == 1


def test_failed_deactivation_reaches_ops_on_every_channel(wrk, smtp, slack, strict_templates):
    ops = make_user(ops=True, email="ops1@agency.example")
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    wrk.fail_next(100, status=500, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops, source="api")
    run_worker()
    subjects = [m.message["Subject"] for m in smtp.to("ops1@agency.example")]
    assert f"[deployflow] Workflow wf-{project.slug}-v1 is still active" in subjects
    assert any(r["text"].startswith(":warning: Workflow") for r in slack.requests)
    assert ops.notifications.filter(kind="deactivation_failed").count() == 1
