"""Reads of monitoring: what to poll, and a binding's or a project's recent health."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from automations.models import BindingStatus, VersionStatus

from . import durations
from .models import FAILED_STATUSES, Incident, IncidentKind, Monitor, RunEvent, RunRollup


def expected_active(*, version_status: str, binding_status: str) -> bool | None:
    """What WRK must say of a watched workflow, as the database has it: a Live version's
    workflow runs; an archived version's, once WRK confirmed its deactivation, does not.
    None when the database makes no claim WRK could contradict (an archived version whose
    deactivation is still pending is reconcile's business, not drift)."""
    if version_status == VersionStatus.LIVE and binding_status == BindingStatus.ACTIVE:
        return True
    if version_status == VersionStatus.ARCHIVED and binding_status == BindingStatus.INACTIVE:
        return False
    return None


@dataclass(frozen=True, slots=True)
class PollTarget:
    binding_id: int
    workflow_id: str
    cursor: str
    # Monitored: its runs are pulled.
    poll_runs: bool
    expect_active: bool | None
    drift_open: bool

    @property
    def check_state(self) -> bool:
        return self.expect_active is not None or self.drift_open


def poll_targets() -> list[PollTarget]:
    """Every binding poll_wrk has something to ask WRK about, in two queries."""
    drifting = set(
        Incident.objects.filter(kind=IncidentKind.DRIFT, resolved_at__isnull=True).values_list(
            "binding_id", flat=True
        )
    )
    rows = Monitor.objects.order_by("pk").values_list(
        "binding_id",
        "binding__workflow_id",
        "poll_cursor",
        "stopped_at",
        "binding__status",
        "binding__automation_version__status",
    )
    targets = []
    for binding_id, workflow_id, cursor, stopped_at, binding_status, version_status in rows:
        target = PollTarget(
            binding_id=binding_id,
            workflow_id=workflow_id,
            cursor=cursor,
            poll_runs=stopped_at is None,
            expect_active=expected_active(
                version_status=version_status, binding_status=binding_status
            ),
            drift_open=binding_id in drifting,
        )
        if target.poll_runs or target.check_state:
            targets.append(target)
    return targets


@dataclass(frozen=True)
class Health:
    """Final runs over a period, from the hourly rollups, and the open incidents."""

    since: datetime
    success: int
    failed: int
    canceled: int
    open_incidents: list[Incident]

    @property
    def runs(self) -> int:
        return self.success + self.failed + self.canceled

    @property
    def success_rate(self) -> float | None:
        """Successes among runs that succeeded or failed; None without any."""
        decided = self.success + self.failed
        return None if decided == 0 else self.success / decided

    @property
    def success_rate_label(self) -> str:
        rate = self.success_rate
        return "—" if rate is None else f"{rate:.1%}"


def health(*, binding_ids: Iterable[int], hours: int = 24) -> Health:
    """The last `hours` hours (the current hour included, counted whole), in two queries
    reading at most `hours` + 1 rollup rows per binding."""
    ids = list(binding_ids)
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
    totals = RunRollup.objects.filter(binding_id__in=ids, hour__gte=since).aggregate(
        success=Sum("success"), error=Sum("error"), crashed=Sum("crashed"), canceled=Sum("canceled")
    )
    incidents = list(
        Incident.objects.filter(binding_id__in=ids, resolved_at__isnull=True).order_by("opened_at")
    )
    return Health(
        since=since,
        success=totals["success"] or 0,
        failed=(totals["error"] or 0) + (totals["crashed"] or 0),
        canceled=totals["canceled"] or 0,
        open_incidents=incidents,
    )


_NO_DURATIONS = (0,) * len(durations.FIELDS)


@dataclass(frozen=True, slots=True)
class RunCounts:
    """Final runs of a period, summed from the rollups: by outcome, and their durations."""

    success: int = 0
    failed: int = 0
    canceled: int = 0
    longest_ms: int = 0
    # Timed runs per duration bucket, in durations.FIELDS' order.
    durations: tuple[int, ...] = _NO_DURATIONS

    @property
    def runs(self) -> int:
        return self.success + self.failed + self.canceled

    @property
    def success_rate(self) -> float | None:
        """Successes among runs that succeeded or failed (a canceled run says nothing of the
        workflow's health); None without any."""
        decided = self.success + self.failed
        return None if decided == 0 else self.success / decided

    @property
    def median_ms(self) -> int | None:
        return durations.median_ms(self.durations, longest_ms=self.longest_ms)


def run_counts_total(counts: Iterable[RunCounts]) -> RunCounts:
    items = list(counts)
    if not items:
        return RunCounts()
    return RunCounts(
        success=sum(c.success for c in items),
        failed=sum(c.failed for c in items),
        canceled=sum(c.canceled for c in items),
        longest_ms=max(c.longest_ms for c in items),
        durations=tuple(map(sum, zip(*(c.durations for c in items), strict=True))),
    )


def run_counts_by_binding(
    *, binding_ids: Sequence[int], hours: int, now: datetime
) -> dict[int, RunCounts]:
    """Each binding's last `hours` hours (the current one included), in one query reading at
    most `hours` rollup rows per binding. Durations are left out."""
    if not binding_ids:
        return {}
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    rows = (
        RunRollup.objects.filter(binding_id__in=binding_ids, hour__gte=first_hour)
        .order_by()
        .values("binding_id")
        .annotate(
            success=Sum("success"),
            error=Sum("error"),
            crashed=Sum("crashed"),
            canceled=Sum("canceled"),
        )
    )
    return {
        row["binding_id"]: RunCounts(
            success=row["success"],
            failed=row["error"] + row["crashed"],
            canceled=row["canceled"],
        )
        for row in rows
    }


@dataclass(frozen=True)
class RollupSeries:
    """A set of bindings' runs per hour (UTC hours, by start) and per day (in a time zone),
    the days without durations. Hours and days without runs are absent."""

    hourly: dict[datetime, RunCounts] = field(default_factory=dict)
    daily: dict[date, RunCounts] = field(default_factory=dict)


_SUMMED = ("success", "error", "crashed", "canceled", *durations.FIELDS)


def rollup_series(
    *, binding_ids: Sequence[int], hours: int, days: int, zone: tzinfo, now: datetime
) -> RollupSeries:
    """The last `hours` hours (the current one included) hour by hour, and the last `days`
    days in `zone` (today included) day by day, in one query: a UNION ALL of two GROUP BYs
    over the rollups, so at most `hours` + `days` rows whatever the number of bindings or
    events. An hour belongs to the day in `zone` in which it starts (in a zone offset by a
    half hour, a rollup hour straddles midnight and counts for the day it starts in).

    Written as SQL, with the database's own expression for "the date of this instant in that
    zone" (Django's, so the demo's SQLite works too): the ORM's compiling of 38 aggregates
    took twice as long as the query itself, on every page view."""
    if not binding_ids:
        return RollupSeries()
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    first_day = timezone.localdate(now, zone) - timedelta(days=days - 1)
    day_start = datetime.combine(first_day, time(), tzinfo=zone)
    ops = connection.ops
    day_sql, day_params = ops.datetime_cast_date_sql("hour", (), str(zone))
    ids = ", ".join(["%s"] * len(binding_ids))
    counted = ", ".join(f"SUM({column})" for column in _SUMMED[:4])
    timed = ", ".join(f"SUM({column})" for column in durations.FIELDS)
    # Days need no durations (no median per day): zeros cost nothing to add up.
    untimed = ", ".join("0" for _ in durations.FIELDS)
    table = RunRollup._meta.db_table
    sql = (
        f"SELECT hour, NULL, {counted}, {timed}, MAX(duration_max_ms) "  # noqa: S608 - no input in the SQL
        f"FROM {table} WHERE binding_id IN ({ids}) AND hour >= %s GROUP BY hour "
        f"UNION ALL SELECT NULL, {day_sql}, {counted}, {untimed}, 0 "
        f"FROM {table} WHERE binding_id IN ({ids}) AND hour >= %s GROUP BY {day_sql}"
    )
    params = [
        *binding_ids,
        ops.adapt_datetimefield_value(first_hour),
        *day_params,
        *binding_ids,
        ops.adapt_datetimefield_value(day_start),
        *day_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    series = RollupSeries()
    first_bucket = 6  # after hour, day, success, error, crashed, canceled
    for row in rows:
        hour, day, success, error, crashed, canceled = row[:first_bucket]
        counts = RunCounts(
            success=success,
            failed=error + crashed,
            canceled=canceled,
            longest_ms=row[-1],
            durations=tuple(row[first_bucket:-1]),
        )
        if hour is not None:
            series.hourly[db_instant(hour)] = counts
        else:
            series.daily[day if isinstance(day, date) else date.fromisoformat(day)] = counts
    return series


def db_instant(value: datetime | str) -> datetime:
    """A timestamp read by raw SQL: psycopg reads an aware datetime; SQLite (the demo) gives
    Django's text form or, for a plain column, a naive datetime, both in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FailedRun:
    binding_id: int
    status: str
    started_at: datetime
    error: str


def latest_failures(*, binding_ids: Sequence[int], limit: int) -> list[FailedRun]:
    """The newest `limit` failed runs of the bindings, newest first, in one query.

    Each binding's newest failures are read from the partial index `run_binding_failed`
    (`limit` entries at most per binding, in the index's order), and only those are merged:
    the cost stays the same whatever the number of events. A plain `IN` over the bindings
    would read all their failures and sort them. Written as SQL: the ORM's UNION of sliced
    querysets is PostgreSQL's only, and compiling it cost more than running it."""
    if not binding_ids:
        return []
    table = RunEvent._meta.db_table
    failed = sorted(FAILED_STATUSES)
    part = (
        "SELECT * FROM (SELECT workflow_binding_id, status, started_at, error "  # noqa: S608 - no input in the SQL
        f"FROM {table} WHERE workflow_binding_id = %s AND status IN (%s, %s) "
        "ORDER BY started_at DESC LIMIT %s) AS f{n}"
    )
    sql = " UNION ALL ".join(part.format(n=n) for n in range(len(binding_ids)))
    sql += " ORDER BY started_at DESC LIMIT %s"
    params: list[Any] = []
    for binding_id in binding_ids:
        params += [binding_id, *failed, limit]
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        FailedRun(binding_id, status, db_instant(started_at), error)
        for binding_id, status, started_at, error in rows
    ]
