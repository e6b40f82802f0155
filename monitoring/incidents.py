"""Incidents: a failing streak (runs), or a drift between WRK and the database (polling).

**The streak rule.** Within a binding, final runs count in the order WRK started them.
`error` and `crashed` extend the streak, `success` ends it, `canceled` does neither and
`running` waits until it is final. A run that started before the newest run the streak has
already counted arrives late: it is stored and rolled up, but leaves the streak alone (the
streak is about the latest runs, and what happened after it is known already).
WRK_ALERT_CONSECUTIVE_FAILURES failures in a row open a `failing` incident; later failures
only add to its count; the next success resolves it.

Everything here runs in the caller's transaction, under the binding's `Monitor` row lock,
and the partial unique constraint "one open incident per binding and kind" backs it. The
signals of signals.py go out in the same transaction: one alert per opening, one notice per
resolution, whatever the number of events in between.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.conf import settings

from .events import RunEventIn
from .models import FAILED_STATUSES, Incident, IncidentKind, Monitor, RunStatus
from .signals import incident_opened, incident_resolved


def streaks_apply(
    *, monitors: dict[int, Monitor], runs: list[tuple[int, RunEventIn]], now: datetime
) -> tuple[list[Incident], list[Incident]]:
    """Run each binding's streak over its newly final `runs` (binding id, event); returns
    the incidents opened and resolved."""
    by_binding: dict[int, list[RunEventIn]] = defaultdict(list)
    for binding_id, event in runs:
        if event.status != RunStatus.CANCELED:
            by_binding[binding_id].append(event)
    if not by_binding:
        return [], []
    open_incidents = {
        incident.binding_id: incident
        for incident in Incident.objects.filter(
            binding_id__in=list(by_binding), kind=IncidentKind.FAILING, resolved_at__isnull=True
        )
    }
    threshold: int = settings.WRK_ALERT_CONSECUTIVE_FAILURES
    opened: list[Incident] = []
    resolved: list[Incident] = []
    touched: dict[int, Incident] = {}
    changed: list[Monitor] = []
    for binding_id, events in sorted(by_binding.items()):
        monitor = monitors[binding_id]
        before = (monitor.streak, monitor.streak_run_started_at)
        incident = open_incidents.get(binding_id)
        for event in sorted(events, key=lambda e: (e.started_at, e.id)):
            last = monitor.streak_run_started_at
            if last is not None and event.started_at < last:
                continue  # late: see the module's docstring
            monitor.streak_run_started_at = event.started_at
            if event.status in FAILED_STATUSES:
                monitor.streak += 1
                if incident is not None:
                    incident.failure_count += 1
                    incident.last_error = event.error or incident.last_error
                    touched[id(incident)] = incident
                elif monitor.streak >= threshold:
                    incident = Incident(
                        binding_id=binding_id,
                        kind=IncidentKind.FAILING,
                        opened_at=now,
                        failure_count=monitor.streak,
                        last_error=event.error,
                        detail=f"{monitor.streak} runs failed in a row.",
                    )
                    opened.append(incident)
            else:
                monitor.streak = 0
                if incident is not None:
                    incident.resolved_at = now
                    incident.resolution = f"Run {event.id} succeeded."
                    resolved.append(incident)
                    touched[id(incident)] = incident
                    incident = None
        if (monitor.streak, monitor.streak_run_started_at) != before:
            changed.append(monitor)
    if changed:
        Monitor.objects.bulk_update(changed, ["streak", "streak_run_started_at"])
    _save(opened, touched)
    for incident in opened:
        incident_opened.send(sender=Incident, incident=incident)
    for incident in resolved:
        incident_resolved.send(sender=Incident, incident=incident)
    return opened, resolved


def _save(opened: list[Incident], touched: dict[int, Incident]) -> None:
    # Opened ones in order: one resolved within the batch is inserted before its successor,
    # so the partial unique constraint sees at most one open at a time.
    for incident in opened:
        incident.save()
    existing = [i for i in touched.values() if i not in opened]
    if existing:
        Incident.objects.bulk_update(
            existing, ["failure_count", "last_error", "resolved_at", "resolution"]
        )


def incident_open(*, binding_id: int, kind: IncidentKind, detail: str, now: datetime) -> Incident:
    """Open an incident (the caller holds the binding's Monitor lock and checked that none
    of this kind is open) and tell the others, in the caller's transaction."""
    incident = Incident.objects.create(
        binding_id=binding_id, kind=kind, opened_at=now, detail=detail
    )
    incident_opened.send(sender=Incident, incident=incident)
    return incident


def incident_resolve(*, incident: Incident, resolution: str, now: datetime) -> Incident:
    """Resolve an open incident once: a conditional update, so two callers resolve it once."""
    if Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolution=resolution
    ):
        incident.resolved_at = now
        incident.resolution = resolution
        incident_resolved.send(sender=Incident, incident=incident)
    return incident
