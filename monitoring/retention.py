"""Retention of raw run events (issue 8 §5): rollups and incidents stay.

Events are deleted binding by binding, oldest first, through the (binding, started_at)
index the reads use, in batches of at most `batch_size` rows, each in its own short
transaction: no batch holds locks for long, and the ingest of new events (which never
touches old rows) goes on meanwhile.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from automations.models import WorkflowBinding

from .models import RunEvent

DEFAULT_BATCH_SIZE = 5000


def run_events_prune(*, older_than: timedelta, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete run events that started before now − `older_than`; returns how many."""
    if older_than <= timedelta(0) or batch_size < 1:
        raise ValueError("older_than must be positive and batch_size at least 1")
    cutoff = timezone.now() - older_than
    deleted = 0
    binding_ids = WorkflowBinding.objects.order_by("pk").values_list("pk", flat=True)
    for binding_id in binding_ids.iterator():
        deleted += _prune_binding(binding_id, cutoff, batch_size)
    return deleted


def _prune_binding(binding_id: int, cutoff: datetime, batch_size: int) -> int:
    deleted = 0
    while True:
        ids = list(
            RunEvent.objects.filter(workflow_binding_id=binding_id, started_at__lt=cutoff)
            .order_by("workflow_binding_id", "-started_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic(durable=True):
            count, _ = RunEvent.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted
