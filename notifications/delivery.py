"""Sending the outbox. Runs in the task worker, never in a deploy.

Each delivery is claimed by a conditional status change just before it is sent, so two runs
of the same task send it once, and its outcome is written as soon as it is known: a worker
that dies mid-batch leaves the messages it sent `sent`, the ones it had not reached `pending`,
and only the one in flight `sending`. Transient failures are retried with exponential backoff
up to NOTIFICATION_MAX_ATTEMPTS, then the delivery is `failed` with its last error; permanent
failures fail at once. Every attempt leaves its error on the row, for the admin.

What a dead worker left behind, every worker's sweep (`deliveries_recover`) sends again: the
delivery in flight may have arrived, so an email goes again with the same Message-ID (mail
clients keep one copy), and a Slack message, which Slack may then show twice, only once.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .channels import TransportError, transport_for
from .models import Channel, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

INTERRUPTED = "Interrupted while sending, by a worker that died: sent again automatically."
INTERRUPTED_LAST = (
    "Interrupted while sending its last attempt, by a worker that died: it may or may not "
    "have arrived. Resend it if needed."
)
INTERRUPTED_SLACK_AGAIN = (
    "Interrupted while sending to Slack a second time: Slack may already show it. Resend it "
    "if it does not."
)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


@dataclass
class RecoveryReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliveries_enqueue(*, delivery_ids: list[int], delay: float = 0.0) -> None:
    """Queue a task for these deliveries; inside a transaction, it commits with it."""
    from .tasks import deliver_notifications

    if not delivery_ids:
        return
    task = deliver_notifications
    if delay > 0:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
    task.enqueue(delivery_ids=delivery_ids)


def _due(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


# One statement per message (see _advance). Written out, not built with the ORM: compiling
# its CASE expressions cost the worker as much as the round trip (bench/notifications.py).
ADVANCE = f"""
    UPDATE {Delivery._meta.db_table} SET
        status = CASE WHEN id = %s THEN '{DeliveryStatus.SENT}' ELSE '{DeliveryStatus.SENDING}' END,
        attempts = CASE WHEN id = %s THEN attempts ELSE attempts + 1 END,
        sent_at = CASE WHEN id = %s THEN %s ELSE sent_at END,
        last_error = CASE WHEN id = %s THEN '' ELSE last_error END,
        updated_at = %s
    WHERE id = %s OR (id = %s AND status = '{DeliveryStatus.PENDING}' AND attempts = %s)
"""  # noqa: S608 - only constants are formatted in; the values are parameters
# Sent with the UPDATE as one simple query, so one implicit transaction, whose commit is then
# seen by every session at once but does not wait for PostgreSQL's flush to disk: most of
# what a worker waited for per message on a busy database. A killed worker loses nothing;
# a crash of PostgreSQL itself may lose the last steps, which the sweep then sends again.
NO_DISK_WAIT = "; SET LOCAL synchronous_commit TO OFF"


def _advance(*, sent: Delivery | None, claim: Delivery | None, report: SendReport) -> bool:
    """Write that `sent` went out and take `claim` for one attempt, in one statement.
    Returns whether `claim` was taken.

    `sent` is written by id alone: the server took it, whatever a sweep concluded meanwhile,
    and a sweep that put it back to pending must not send it again. The claim is conditional
    on the attempts read with the delivery: a worker that took it meanwhile, or a retry
    scheduled meanwhile, has moved them on.
    """
    now = timezone.now()
    sent_id = sent.pk if sent is not None else None
    claim_id, attempts = (claim.pk, claim.attempts) if claim is not None else (None, None)
    # Client-side binding (Django's default) sends it as a simple query; other set-ups wait.
    postgres = connection.vendor == "postgresql"
    suffix = (
        NO_DISK_WAIT
        if postgres and not connection.settings_dict["OPTIONS"].get("server_side_binding")
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            ADVANCE + suffix,
            [sent_id, sent_id, sent_id, now, sent_id, now, sent_id, claim_id, attempts],
        )
        changed = cursor.rowcount
    if sent is not None:
        report.sent.append(sent.pk)
    if claim is None or changed < (2 if sent is not None else 1):
        return False
    claim.attempts += 1
    return True


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


def _send(delivery: Delivery, report: SendReport) -> bool:
    """Send one claimed delivery; a failure is written at once, a success by the caller."""
    try:
        transport_for(delivery.channel).send(delivery)
    except TransportError as exc:
        _record_failure(delivery, exc, report)
    except Exception as exc:
        # A bug, or an error no channel foresaw: this delivery is retried with backoff and
        # shows the error in the admin, and the rest of the batch still goes out.
        logger.exception("Delivery %s raised unexpectedly", delivery.pk)
        _record_failure(delivery, TransportError(f"Unexpected error: {exc!r}"), report)
    else:
        return True
    return False


def deliveries_send(*, delivery_ids: list[int]) -> SendReport:
    report = SendReport()
    due = Delivery.objects.filter(_due(timezone.now()), pk__in=delivery_ids)
    sent: Delivery | None = None
    for delivery in due.order_by("channel", "pk"):
        # The previous message's outcome is written before this one is sent, with its claim.
        claimed = _advance(sent=sent, claim=delivery, report=report)
        sent = delivery if claimed and _send(delivery, report) else None
    if sent is not None:
        _advance(sent=sent, claim=None, report=report)
    report.skipped = sorted(set(delivery_ids) - {*report.sent, *report.retrying, *report.failed})
    return report


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
            interruptions=0,
            next_attempt_at=None,
            updated_at=timezone.now(),
        )
        deliveries_enqueue(delivery_ids=ids)
    return ids


def deliveries_recover() -> RecoveryReport:
    """Send again what workers that died left behind, NOTIFICATION_SENDING_STALE_SECONDS
    later: a delivery still `sending`, and a due delivery still `pending` whose task died
    with its worker.

    A `sending` one may have arrived. An email goes again, its Message-ID unchanged; a Slack
    message goes again only after its first interruption; one on its last attempt fails.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.NOTIFICATION_SENDING_STALE_SECONDS)
    report = RecoveryReport()
    with transaction.atomic():
        # skip_locked: two workers sweeping at once share the rows out instead of waiting.
        stale = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=DeliveryStatus.SENDING) | _due(cutoff),
                updated_at__lt=cutoff,
            )
            .only("status", "channel", "attempts", "interruptions")
        )
        retry: list[int] = []
        orphaned: list[int] = []
        given_up: dict[str, list[int]] = {INTERRUPTED_LAST: [], INTERRUPTED_SLACK_AGAIN: []}
        for delivery in stale:
            if delivery.status == DeliveryStatus.PENDING:
                orphaned.append(delivery.pk)
            elif delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                given_up[INTERRUPTED_LAST].append(delivery.pk)
            elif delivery.channel == Channel.SLACK and delivery.interruptions:
                given_up[INTERRUPTED_SLACK_AGAIN].append(delivery.pk)
            else:
                retry.append(delivery.pk)
        for error, ids in given_up.items():
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.FAILED, last_error=error, updated_at=now
            )
            report.failed += ids
        Delivery.objects.filter(pk__in=retry, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            interruptions=F("interruptions") + 1,
            last_error=INTERRUPTED,
            next_attempt_at=None,
            updated_at=now,
        )
        # Touched, so that the next sweeps leave them to the task queued here.
        Delivery.objects.filter(pk__in=orphaned, status=DeliveryStatus.PENDING).update(
            updated_at=now
        )
        report.requeued = retry + orphaned
        deliveries_enqueue(delivery_ids=report.requeued)
    if stale:
        logger.warning(
            "Deliveries left behind by a dead worker: %s queued again, %s failed.",
            report.requeued,
            report.failed,
        )
    return report
