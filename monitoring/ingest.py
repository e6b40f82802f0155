"""Storing run events, from WRK's webhook or from polling: `run_events_ingest`.

One short transaction per batch, in this order:

1. lock the `Monitor` rows of the batch's workflows (monitored ones only; the others'
   events are `ignored`), in binding order, so that overlapping batches of a binding take
   turns and two batches never lock in opposite orders;
2. insert the new events in one statement that skips ids already stored (`ON CONFLICT DO
   NOTHING`): a replayed event is a `duplicate`; an event stored as `running` whose final
   status arrives now is updated, once (a final status is never changed again);
3. add what became final to the hourly rollups: one upsert row per binding and hour
   (counts by status, durations and their histogram);
4. run the failing streak of each binding, in WRK's start order, opening and resolving
   incidents (see incidents.py).

The SQL is plain ANSI `INSERT … ON CONFLICT`, which PostgreSQL and the demo's SQLite share.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from . import durations
from .events import RunEventIn
from .incidents import Streak, streaks_apply
from .models import Monitor, RunEvent, RunRollup, RunStatus

logger = logging.getLogger(__name__)

# Rows per INSERT statement: well under any driver's limit on parameters.
INSERT_CHUNK = 1000
# A deadlock needs two batches claiming the same run ids for different workflows (a WRK bug);
# PostgreSQL then aborts one, which is tried again.
ATTEMPTS = 3
_DEADLOCK = "40P01"


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0

    def counts(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "ignored": self.ignored}


def run_events_ingest(*, events: Sequence[RunEventIn], received_via: str) -> IngestResult:
    """Store a batch of events once each; `received_via` is "webhook" or "poll"."""
    batch, repeated = _collapse(events)
    for attempt in range(1, ATTEMPTS + 1):
        result = IngestResult(duplicates=repeated)
        try:
            with transaction.atomic(durable=True):
                _ingest(batch, received_via, result)
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != _DEADLOCK or attempt == ATTEMPTS:
                raise
            logger.warning("Run-event batch deadlocked (attempt %d); trying again.", attempt)
            continue
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _collapse(events: Sequence[RunEventIn]) -> tuple[list[RunEventIn], int]:
    """One event per id: a final status wins over `running`, else the first one stays."""
    by_id: dict[str, RunEventIn] = {}
    for event in events:
        seen = by_id.get(event.id)
        if seen is None or (event.final and not seen.final):
            by_id[event.id] = event
    return list(by_id.values()), len(events) - len(by_id)


def _ingest(batch: list[RunEventIn], received_via: str, result: IngestResult) -> None:
    workflow_ids = sorted({event.workflow_id for event in batch})
    locked = (
        Monitor.objects.select_for_update(of=("self",))
        .filter(binding__workflow_id__in=workflow_ids, stopped_at__isnull=True)
        .order_by("pk")
        .values_list("binding_id", "binding__workflow_id", "streak", "streak_run_started_at")
    )
    binding_of: dict[str, int] = {}
    streaks: dict[int, Streak] = {}
    for binding_id, workflow_id, streak, last in locked:
        binding_of[workflow_id] = binding_id
        streaks[binding_id] = Streak(binding_id=binding_id, count=streak, last_started_at=last)
    known = [event for event in batch if event.workflow_id in binding_of]
    result.ignored = len(batch) - len(known)
    if not known:
        return
    inserted = _insert(known, binding_of, received_via)
    upgraded = _upgrade([e for e in known if e.id not in inserted and e.final], binding_of)
    result.accepted = len(inserted) + len(upgraded)
    result.duplicates += len(known) - result.accepted
    became_final = [e for e in known if e.id in inserted and e.final] + upgraded
    if not became_final:
        return
    _rollups_add(became_final, binding_of)
    streaks_apply(
        streaks=streaks,
        runs=[(binding_of[e.workflow_id], e) for e in became_final],
        now=timezone.now(),
    )


def _db_time(moment: datetime | None) -> Any:
    # psycopg takes aware datetimes as they are; SQLite needs Django's text form.
    if connection.vendor == "postgresql":
        return moment
    return connection.ops.adapt_datetimefield_value(moment)


def _chunks(rows: Sequence[tuple[Any, ...]]) -> Iterable[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(rows), INSERT_CHUNK):
        yield rows[start : start + INSERT_CHUNK]


def _insert_rows(
    table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]], tail: str
) -> list[tuple[Any, ...]]:
    """`INSERT INTO table (columns) … tail` for many rows; returns what `tail`'s RETURNING
    returns. `columns` are (name, PostgreSQL type). On PostgreSQL the rows travel as one array
    per column through `unnest`: one short statement whatever the number of rows, which the
    driver neither rewrites nor re-plans per batch. Elsewhere (the demo's SQLite), multi-row
    VALUES, in chunks."""
    if not rows:
        return []
    names = ", ".join(name for name, _ in columns)
    returned: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _insert_unnest(table, names, columns, rows, tail)
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for chunk in _chunks(rows):
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))} {tail}",  # noqa: S608 - no input in the SQL
                [value for row in chunk for value in row],
            )
            if "RETURNING" in tail:
                returned.extend(cursor.fetchall())
    return returned


def _insert_unnest(
    table: str,
    names: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[Any, ...]],
    tail: str,
) -> list[tuple[Any, ...]]:
    # %b: the arrays travel in PostgreSQL's binary format, never quoted as text.
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in columns)
    # A server-binding psycopg cursor on Django's connection, so in the same transaction:
    # Django's own cursors bind on the client, quoting every array element into the SQL text;
    # this one sends the arrays as parameters.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}",  # noqa: S608 - no input in the SQL
            [list(column) for column in zip(*rows, strict=True)],
        )
        return list(cursor.fetchall()) if "RETURNING" in tail else []


_EVENT_COLUMNS = (
    ("workflow_binding_id", "bigint"),
    ("external_id", "text"),
    ("status", "text"),
    ("started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("error", "text"),
    ("received_at", "timestamptz"),
    ("received_via", "text"),
)


def _insert(events: list[RunEventIn], binding_of: dict[str, int], received_via: str) -> set[str]:
    """Insert what is new; returns the ids inserted (the others were stored already)."""
    now = _db_time(timezone.now())
    rows = [
        (
            binding_of[e.workflow_id],
            e.id,
            e.status,
            _db_time(e.started_at),
            _db_time(e.finished_at),
            e.error,
            now,
            received_via,
        )
        for e in events
    ]
    returned = _insert_rows(
        RunEvent._meta.db_table,
        _EVENT_COLUMNS,
        rows,
        "ON CONFLICT (external_id) DO NOTHING RETURNING external_id",
    )
    return {row[0] for row in returned}


def _upgrade(candidates: list[RunEventIn], binding_of: dict[str, int]) -> list[RunEventIn]:
    """Final statuses of events stored as `running`: each is applied once. The binding's
    lock is held, so no other batch can change these rows meanwhile."""
    if not candidates:
        return []
    running = set(
        RunEvent.objects.filter(
            external_id__in=[e.id for e in candidates], status=RunStatus.RUNNING
        ).values_list("external_id", "workflow_binding_id")
    )
    upgrades = [e for e in candidates if (e.id, binding_of[e.workflow_id]) in running]
    if upgrades:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {RunEvent._meta.db_table} SET status = %s, started_at = %s, "  # noqa: S608 - no input in the SQL
                "finished_at = %s, error = %s WHERE external_id = %s AND status = %s",
                [
                    (
                        e.status,
                        _db_time(e.started_at),
                        _db_time(e.finished_at),
                        e.error,
                        e.id,
                        RunStatus.RUNNING.value,
                    )
                    for e in upgrades
                ],
            )
    return upgrades


_COUNTED = ("success", "error", "crashed", "canceled")
_ROLLUP_COLUMNS = (
    ("binding_id", "bigint"),
    ("hour", "timestamptz"),
    *((column, "integer") for column in (*_COUNTED, "timed")),
    ("duration_total_ms", "bigint"),
    ("duration_max_ms", "bigint"),
    *((column, "integer") for column in durations.FIELDS),
)
# Where a duration's bucket sits in a rollup's list of figures (see _rollups_add).
_FIRST_BUCKET = 7


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _rollups_add(events: list[RunEventIn], binding_of: dict[str, int]) -> None:
    """One upsert row per binding and hour; rows in key order, so that concurrent batches
    lock shared rows in the same order."""
    buckets: dict[tuple[int, datetime], list[int]] = {}
    for e in events:
        key = (binding_of[e.workflow_id], _hour(e.started_at))
        # success, error, crashed, canceled, timed, total ms, max ms, then the duration
        # buckets
        bucket = buckets.setdefault(key, [0] * (_FIRST_BUCKET + len(durations.FIELDS)))
        bucket[_COUNTED.index(e.status)] += 1
        duration = e.duration_ms
        if duration is not None:
            bucket[4] += 1
            bucket[5] += duration
            bucket[6] = max(bucket[6], duration)
            bucket[_FIRST_BUCKET + durations.bucket_of(duration)] += 1
    table = RunRollup._meta.db_table
    rows = [
        (binding_id, _db_time(hour), *counts)
        for (binding_id, hour), counts in sorted(buckets.items())
    ]
    added = ", ".join(
        f"{column} = {table}.{column} + excluded.{column}"
        for column in (*_COUNTED, "timed", "duration_total_ms", *durations.FIELDS)
    )
    _insert_rows(
        table,
        _ROLLUP_COLUMNS,
        rows,
        f"ON CONFLICT (binding_id, hour) DO UPDATE SET {added}, "
        f"duration_max_ms = CASE WHEN excluded.duration_max_ms > {table}.duration_max_ms "
        f"THEN excluded.duration_max_ms ELSE {table}.duration_max_ms END",
    )
