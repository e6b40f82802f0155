"""Monitoring turned on and off with the core's lifecycle (SPEC §4.7, issue 8 §7).

Both run inside the transaction of the change that triggers them (see receivers.py).
"""

from __future__ import annotations

from django.utils import timezone

from .incidents import incident_resolve
from .models import Incident, IncidentKind, Monitor


def monitor_start(*, binding_id: int) -> None:
    """The binding's version went Live: watch its runs. The poll cursor stays, since the
    runs before it are stored already, and so does the streak: stopping zeroed it, and a
    binding that was never stopped (its deactivation failed) is still the same workflow
    failing or not, with its incident, if any, still open. One upsert (update_or_create
    took six statements with its savepoints, in every deploy's transaction)."""
    Monitor.objects.bulk_create(
        [Monitor(binding_id=binding_id)],
        update_conflicts=True,
        unique_fields=["binding"],
        update_fields=["stopped_at"],
    )


def monitor_stop(*, binding_id: int, reason: str) -> bool:
    """WRK confirmed the deactivation of an archived version's workflow: stop ingesting and
    polling its runs, and resolve its failing incident, if any, with `reason`. Drift stays
    checked (an archived workflow that WRK runs again is drift), and a drift incident
    resolves when the poll finds WRK and the database agreeing."""
    now = timezone.now()
    stopped = Monitor.objects.filter(binding_id=binding_id, stopped_at__isnull=True).update(
        stopped_at=now, streak=0
    )
    for incident in Incident.objects.filter(
        binding_id=binding_id, kind=IncidentKind.FAILING, resolved_at__isnull=True
    ):
        incident_resolve(incident=incident, resolution=reason, now=now)
    return bool(stopped)
