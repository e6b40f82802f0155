"""Incidents: a failing streak (runs), or a drift between WRK and the database (polling).

**The streak rule.** Within a binding, final runs count in the order WRK started them.
`error` and `crashed` extend the streak, `success` ends it, `canceled` does neither and
`running` waits until it is final. A run that started before the newest run the streak has
already counted arrives late: it is stored and rolled up, but leaves the streak alone (the
streak is about the latest runs, and what happened after it is known already).
WRK_ALERT_CONSECUTIVE_FAILURES failures in a row open a `failing` incident; later failures
only add to its count; the next success resolves it. So an open failing incident always has
a streak in progress behind it: only a success or the end of monitoring zero the streak,
and both resolve the incident (a new start of monitoring keeps the streak).

Everything here runs in the caller's transaction, under the binding's `Monitor` row lock,
and the partial unique constraint "one open incident per binding and kind" backs it. The
signals of signals.py go out in the same transaction: one alert per opening, one notice per
resolution, whatever the number of events in between.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import connection

from .events import RunEventIn
from .models import FAILED_STATUSES, Incident, IncidentKind, Monitor, RunStatus
from .signals import incident_opened, incident_resolved


@dataclass(slots=True)
class Streak:
    """A binding's streak as its locked `Monitor` row holds it."""

    binding_id: int
    count: int
    # The start of the newest final run counted so far.
    last_started_at: datetime | None


def streaks_apply(
    *, streaks: dict[int, Streak], runs: list[tuple[int, RunEventIn]], now: datetime
) -> None:
    """Run each binding's streak over its newly final `runs` (binding id, event), opening
    and resolving incidents."""
    by_binding: dict[int, list[RunEventIn]] = defaultdict(list)
    for binding_id, event in runs:
        if event.status != RunStatus.CANCELED:
            by_binding[binding_id].append(event)
    if not by_binding:
        return
    # An open failing incident implies a streak in progress (only a success or the end of
    # monitoring zero the streak, and both resolve it): only those bindings are looked up.
    in_streak = [b for b in by_binding if streaks[b].count > 0]
    open_incidents = (
        {
            incident.binding_id: incident
            for incident in Incident.objects.filter(
                binding_id__in=in_streak, kind=IncidentKind.FAILING, resolved_at__isnull=True
            )
        }
        if in_streak
        else {}
    )
    threshold: int = settings.WRK_ALERT_CONSECUTIVE_FAILURES
    opened: list[Incident] = []
    resolved: list[Incident] = []
    touched: dict[int, Incident] = {}
    changed: list[Streak] = []
    for binding_id, events in sorted(by_binding.items()):
        streak = streaks[binding_id]
        before = (streak.count, streak.last_started_at)
        incident = open_incidents.get(binding_id)
        for event in sorted(events, key=lambda e: (e.started_at, e.id)):
            last = streak.last_started_at
            if last is not None and event.started_at < last:
                continue  # late: see the module's docstring
            streak.last_started_at = event.started_at
            if event.status in FAILED_STATUSES:
                streak.count += 1
                if incident is not None:
                    incident.failure_count += 1
                    incident.last_error = event.error or incident.last_error
                    touched[id(incident)] = incident
                elif streak.count >= threshold:
                    incident = Incident(
                        binding_id=binding_id,
                        kind=IncidentKind.FAILING,
                        opened_at=now,
                        failure_count=streak.count,
                        last_error=event.error,
                        detail=f"{streak.count} runs failed in a row.",
                    )
                    opened.append(incident)
            else:
                streak.count = 0
                if incident is not None:
                    incident.resolved_at = now
                    incident.resolution = f"Run {event.id} succeeded."
                    resolved.append(incident)
                    touched[id(incident)] = incident
                    incident = None
        if (streak.count, streak.last_started_at) != before:
            changed.append(streak)
    _save_streaks(changed)
    _save(opened, touched)
    for incident in opened:
        incident_opened.send(sender=Incident, incident=incident)
    for incident in resolved:
        incident_resolved.send(sender=Incident, incident=incident)


def _save_streaks(streaks: list[Streak]) -> None:
    """One statement for the batch's bindings (on PostgreSQL, arrays through `unnest`): far
    cheaper than a statement per binding, or bulk_update's CASE, which Django builds slowly.
    """
    if not streaks:
        return
    table = Monitor._meta.db_table
    rows = [
        (s.binding_id, s.count, connection.ops.adapt_datetimefield_value(s.last_started_at))
        for s in streaks
    ]
    if connection.vendor == "postgresql":
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"UPDATE {table} AS m SET streak = v.streak, streak_run_started_at = v.last "  # noqa: S608 - no input in the SQL
                "FROM unnest(%b::bigint[], %b::integer[], %b::timestamptz[]) "
                "AS v(binding_id, streak, last) WHERE m.binding_id = v.binding_id",
                [list(column) for column in zip(*rows, strict=True)],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET streak = %s, streak_run_started_at = %s WHERE binding_id = %s",  # noqa: S608 - no input in the SQL
            [(count, last, binding_id) for binding_id, count, last in rows],
        )


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
