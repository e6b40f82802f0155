"""Issue 7 (A3): each outcome is written as it happens, and what a dead worker left behind
is sent again by the workers' sweep (`deliveries_recover`), email and Slack alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.channels.email import message_id
from notifications.delivery import deliveries_enqueue, deliveries_recover
from notifications.models import Delivery
from tests.conftest import run_worker
from tests.factories import make_delivery

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def left_behind(delivery: Delivery, *, status: str = "sending", **fields: object) -> None:
    """As a worker that died leaves a delivery: untouched for longer than the stale bound."""
    stale = timezone.now() - timedelta(seconds=settings.NOTIFICATION_SENDING_STALE_SECONDS + 5)
    Delivery.objects.filter(pk=delivery.pk).update(status=status, updated_at=stale, **fields)


def queued() -> list[int]:
    return [
        pk
        for task in DBTaskResult.objects.filter(status="READY")
        for pk in task.args_kwargs["kwargs"]["delivery_ids"]
    ]


def test_an_email_sent_twice_carries_the_same_message_id(smtp):
    delivery = make_delivery("cto@client.example")
    other = make_delivery("ops@agency.example")
    deliveries_enqueue(delivery_ids=[delivery.pk, other.pk])
    run_worker()
    # The worker died after the server took it, before it could write so.
    left_behind(delivery)
    deliveries_recover()
    run_worker()

    first, second = smtp.to("cto@client.example")
    assert first.message["Message-ID"] == second.message["Message-ID"] == message_id(delivery)
    assert message_id(delivery) == (
        f"<delivery-{delivery.pk}.{int(delivery.created_at.timestamp())}@localhost>"
    )
    assert smtp.to("ops@agency.example")[0].message["Message-ID"] == message_id(other)
    assert message_id(other) != message_id(delivery)


def test_an_email_a_dead_worker_left_sending_is_sent_again(smtp):
    delivery = make_delivery("cto@client.example", attempts=1)
    left_behind(delivery)

    report = deliveries_recover()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.interruptions) == ("pending", 1, 1)
    assert "Interrupted while sending" in delivery.last_error
    assert report.requeued == queued() == [delivery.pk]
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(smtp.to("cto@client.example")) == 1


def test_deliveries_still_being_sent_or_waiting_for_their_retry_are_left_alone():
    sending = make_delivery("a@client.example", status="sending", attempts=1)
    later = make_delivery("b@client.example", attempts=1)
    left_behind(later, status="pending", next_attempt_at=timezone.now() + timedelta(hours=1))

    assert deliveries_recover().requeued == []

    assert Delivery.objects.get(pk=sending.pk).status == "sending"
    assert Delivery.objects.get(pk=later.pk).status == "pending"
    assert queued() == []


def test_an_interrupted_last_attempt_fails_for_a_person_to_resend():
    delivery = make_delivery("cto@client.example", attempts=settings.NOTIFICATION_MAX_ATTEMPTS)
    left_behind(delivery)

    report = deliveries_recover()

    delivery.refresh_from_db()
    assert report.failed == [delivery.pk]
    assert delivery.status == "failed"
    assert "may or may not have arrived" in delivery.last_error
    assert queued() == []


def test_deliveries_a_dead_worker_never_reached_are_queued_again(smtp):
    # Pending, due, and no task left to send it: the one carrying it died with its worker.
    delivery = make_delivery("cto@client.example")
    left_behind(delivery, status="pending")

    assert deliveries_recover().requeued == [delivery.pk]
    # Queued once: the next sweep leaves it to that task.
    assert deliveries_recover().requeued == []
    run_worker()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(smtp.messages) == 1


def test_a_slack_message_cut_off_is_posted_again_once(slack):
    delivery = make_delivery("slack-webhook", channel="slack", attempts=1)
    left_behind(delivery)
    deliveries_recover()
    run_worker()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.interruptions) == ("sent", 2, 1)
    assert len(slack.requests) == 1

    # Cut off on its second try as well: Slack may show it twice already, so no third.
    again = make_delivery("slack-webhook", channel="slack", attempts=2, interruptions=1)
    left_behind(again)
    assert deliveries_recover().failed == [again.pk]
    run_worker()

    again.refresh_from_db()
    assert again.status == "failed"
    assert "Slack may already show it" in again.last_error
    assert len(slack.requests) == 1


def test_each_outcome_is_written_even_when_a_later_delivery_raises(
    smtp, strict_templates, settings
):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = settings.NOTIFICATION_RETRY_MAX_SECONDS = 60
    first = make_delivery("first@client.example")
    broken = make_delivery("broken@client.example", payload={})  # it cannot be rendered
    last = make_delivery("last@client.example")
    deliveries_enqueue(delivery_ids=[first.pk, broken.pk, last.pk])

    run_worker()

    status = {d.pk: d for d in Delivery.objects.all()}
    assert status[first.pk].status == status[last.pk].status == "sent"
    assert (status[broken.pk].status, status[broken.pk].attempts) == ("pending", 1)
    assert "Unexpected error: KeyError" in status[broken.pk].last_error
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "first@client.example",
        "last@client.example",
    ]
