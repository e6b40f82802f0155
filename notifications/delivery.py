"""Sending the outbox. Runs in the task worker, never in a deploy.

Each delivery is claimed with a row lock and a conditional status change before it is sent,
so two runs of the same task send it once. Transient failures are retried with exponential
backoff up to NOTIFICATION_MAX_ATTEMPTS, then the delivery is `failed` with its last error;
permanent failures fail at once. Every attempt leaves its error on the row, for the admin.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .channels import TransportError, transport_for
from .models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def deliveries_enqueue(*, delivery_ids: list[int], delay: float = 0.0) -> None:
    """Queue a task for these deliveries; inside a transaction, it commits with it."""
    from .tasks import deliver_notifications

    if not delivery_ids:
        return
    task = deliver_notifications
    if delay > 0:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
    task.enqueue(delivery_ids=delivery_ids)


def _claim(delivery_ids: Iterable[int]) -> list[Delivery]:
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(delivery_ids), status=DeliveryStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("channel", "pk")
        )
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
    for delivery in due:
        delivery.attempts += 1
    return due


def backoff_seconds(attempts: int) -> float:
    """Full jitter over an exponential ceiling: base * 2**(attempts-1), capped."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_MAX_SECONDS,
        settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1),
    )
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy


def _record_failure(delivery: Delivery, error: TransportError, report: SendReport) -> None:
    now = timezone.now()
    final = error.permanent or delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    if final:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error=error.message, updated_at=now
        )
        logger.warning("Delivery %s failed for good: %s", delivery.pk, error.message)
        report.failed.append(delivery.pk)
        return
    delay = max(backoff_seconds(delivery.attempts), error.retry_after or 0.0)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            last_error=error.message,
            next_attempt_at=now + timedelta(seconds=delay),
            updated_at=now,
        )
        deliveries_enqueue(delivery_ids=[delivery.pk], delay=delay)
    logger.info("Delivery %s will be retried in %.1fs: %s", delivery.pk, delay, error.message)
    report.retrying.append(delivery.pk)


def deliveries_send(*, delivery_ids: list[int]) -> SendReport:
    report = SendReport()
    claimed = _claim(delivery_ids)
    report.skipped = sorted(set(delivery_ids) - {d.pk for d in claimed})
    by_channel: dict[str, list[Delivery]] = {}
    for delivery in claimed:
        by_channel.setdefault(delivery.channel, []).append(delivery)
    try:
        for channel, deliveries in by_channel.items():
            _send_batch(channel, deliveries, report)
    finally:
        # One write for the batch: a worker dying before it leaves the rows `sending`,
        # which reconcile flags rather than sends again, so nothing goes out twice.
        if report.sent:
            Delivery.objects.filter(pk__in=report.sent).update(
                status=DeliveryStatus.SENT,
                sent_at=timezone.now(),
                last_error="",
                updated_at=timezone.now(),
            )
    return report


def _send_batch(channel: str, deliveries: list[Delivery], report: SendReport) -> None:
    try:
        transport = transport_for(channel)
    except TransportError as exc:
        for delivery in deliveries:
            _record_failure(delivery, exc, report)
        return
    for delivery in deliveries:
        try:
            transport.send(delivery)
        except TransportError as exc:
            _record_failure(delivery, exc, report)
        else:
            report.sent.append(delivery.pk)


def deliveries_resend(*, delivery_ids: list[int]) -> list[int]:
    """Give failed deliveries a fresh set of attempts; returns the ids queued again."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.FAILED)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            updated_at=timezone.now(),
        )
        deliveries_enqueue(delivery_ids=ids)
    return ids


def deliveries_fail_interrupted() -> int:
    """A delivery left `sending` by a worker that died may or may not have gone out; to
    never send twice it is marked failed, and a person decides whether to resend it."""
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATION_SENDING_STALE_SECONDS)
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, updated_at__lt=cutoff).update(
        status=DeliveryStatus.FAILED,
        last_error="Interrupted while sending: it may not have arrived. Resend it if needed.",
        updated_at=timezone.now(),
    )
