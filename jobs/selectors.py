"""Reads of the workers' heartbeats."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import WorkerHeartbeat


def workers_alive(*, within_seconds: float) -> QuerySet[WorkerHeartbeat]:
    """Workers that have beaten in the last `within_seconds`."""
    return WorkerHeartbeat.objects.filter(
        beat_at__gte=timezone.now() - timedelta(seconds=within_seconds)
    )
