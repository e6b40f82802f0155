"""The two pages' reads: `/status/` (every project's state) and `/status/<slug>/`.

Everything about runs is read from the hourly rollups and the incidents, never by scanning
run events: a project page costs the same few queries, and reads about the same rows,
whether the project ran a thousand times or a million (its latest failures come through a
partial index, at most 20 entries per workflow).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from automations.models import (
    AutomationVersion,
    Deployment,
    DeploymentStatus,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from monitoring.models import Incident
from monitoring.redaction import without_workflow_ids
from monitoring.selectors import (
    RunCounts,
    db_instant,
    latest_failures,
    rollup_series,
    run_counts_by_binding,
    run_counts_total,
)

from .charts import DAYS, HOURS, DailyBars, HourlyChart, daily_bars, hourly_chart
from .health import State, project_state
from .models import StatusProfile
from .selectors import (
    Watched,
    binding_ids_of,
    last_run_of,
    live_of,
    projects_visible_to,
    watched_versions,
)
from .tokens import feed_token
from .wording import DeployStory, IncidentStory, duration_text

HISTORY_LENGTH = 20
RECENT_FAILURES = 20
# Incidents listed on a page: those of the last 90 days, newest first, up to this many.
INCIDENT_LIMIT = 50
WEEK_HOURS = 7 * 24
# A failed run's error text on the page: the start says what failed.
ERROR_CHARS = 600


# --- /status/ ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    state: State
    live_version: str | None
    day: RunCounts
    last_run: datetime | None


def project_summaries(*, user: User, now: datetime) -> list[ProjectSummary]:
    """Every project the user may see, with its state: four queries, whatever the number of
    projects (projects, their watched versions, the last 24 hours' rollups per binding, the
    open incidents)."""
    projects = list(projects_visible_to(user=user))
    watched = watched_versions(project_ids=[p.pk for p in projects])
    binding_ids = binding_ids_of(watched)
    day_by_binding = run_counts_by_binding(binding_ids=binding_ids, hours=HOURS, now=now)
    incident_bindings = (
        set(
            Incident.objects.filter(
                binding_id__in=binding_ids, resolved_at__isnull=True
            ).values_list("binding_id", flat=True)
        )
        if binding_ids
        else set()
    )
    by_project: dict[int, list[Watched]] = {}
    for row in watched:
        by_project.setdefault(row.project_id, []).append(row)
    summaries = []
    for project in projects:
        versions = by_project.get(project.pk, [])
        day = run_counts_total(day_by_binding.get(b, RunCounts()) for b in binding_ids_of(versions))
        live = live_of(versions)
        last_run = last_run_of(versions)
        summaries.append(
            ProjectSummary(
                project=project,
                state=project_state(
                    incident_open=any(b in incident_bindings for b in binding_ids_of(versions)),
                    ever_ran=last_run is not None,
                    last_day=day,
                    latest_run_failed=any(v.streak > 0 for v in versions),
                ),
                live_version=live.label if live is not None else None,
                day=day,
                last_run=last_run,
            )
        )
    return summaries


# --- /status/<slug>/ -----------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentRow:
    pk: int
    story: IncidentStory
    version: str
    opened_at: datetime
    resolved_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def lasted(self) -> timedelta:
        return (self.resolved_at or timezone.now()) - self.opened_at


def incident_rows(
    *, project: Project, limit: int, resolved_since: datetime | None = None
) -> list[IncidentRow]:
    """The project's newest `limit` incidents (only those open or resolved since
    `resolved_since`, if given), in the client's words, in one query."""
    window = "AND (i.resolved_at IS NULL OR i.resolved_at >= %s)" if resolved_since else ""
    sql = f"""
        SELECT i.id, i.kind, i.failure_count, i.opened_at, i.resolved_at, v.version, v.status
          FROM {Incident._meta.db_table} i
          JOIN {WorkflowBinding._meta.db_table} b ON b.id = i.binding_id
          JOIN {AutomationVersion._meta.db_table} v ON v.id = b.automation_version_id
         WHERE v.project_id = %s {window}
         ORDER BY i.opened_at DESC, i.id DESC LIMIT %s
    """  # noqa: S608 - no input in the SQL
    since = [connection.ops.adapt_datetimefield_value(resolved_since)] if resolved_since else []
    rows = _fetch(sql, [project.pk, *since, limit])
    return [
        IncidentRow(
            pk=pk,
            story=IncidentStory(
                kind=kind,
                failure_count=failure_count,
                of_replaced_version=version_status == VersionStatus.ARCHIVED,
            ),
            version=version,
            opened_at=db_instant(opened_at),
            resolved_at=None if resolved_at is None else db_instant(resolved_at),
        )
        for pk, kind, failure_count, opened_at, resolved_at, version, version_status in rows
    ]


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of a read written as SQL. The page's reads are, where the ORM took longer to
    compile them than the database to run them (bench/status_page.py)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class HistoryRow:
    pk: int
    story: DeployStory
    at: datetime


def history_rows(*, project: Project, limit: int) -> list[HistoryRow]:
    """The project's newest `limit` finished deploy attempts, in one query."""
    versions = AutomationVersion._meta.db_table
    sql = f"""
        SELECT d.id, d.status, d.is_rollback, d.started_at, d.finished_at, v.version, p.version
          FROM {Deployment._meta.db_table} d
          JOIN {versions} v ON v.id = d.automation_version_id
          LEFT JOIN {versions} p ON p.id = d.previous_version_id
         WHERE d.project_id = %s AND d.status <> %s
         ORDER BY d.started_at DESC, d.id DESC LIMIT %s
    """  # noqa: S608 - no input in the SQL
    rows = _fetch(sql, [project.pk, DeploymentStatus.IN_PROGRESS.value, limit])
    return [
        HistoryRow(
            pk=pk,
            story=DeployStory(
                version=version,
                previous=previous,
                succeeded=status == DeploymentStatus.SUCCEEDED,
                rollback=bool(is_rollback),
            ),
            at=db_instant(finished_at or started_at),
        )
        for pk, status, is_rollback, started_at, finished_at, version, previous in rows
    ]


@dataclass(frozen=True)
class FailureRow:
    started_at: datetime
    version: str
    status: str
    error: str


def _clipped(text: str, limit: int = ERROR_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ProjectPage:
    project: Project
    state: State
    live_version: str | None
    live_since: datetime | None
    last_run: datetime | None
    day: RunCounts
    week: RunCounts
    hourly: HourlyChart
    daily: DailyBars
    open_incidents: list[IncidentRow]
    incidents: list[IncidentRow]
    failures: list[FailureRow]
    history: list[HistoryRow]
    ever_deployed: bool


def project_page(*, project: Project, zone: tzinfo, now: datetime) -> ProjectPage:
    """Everything a project's page shows, in five queries: its watched versions, the
    rollups (hour by hour for 7 days and day by day for 90, one UNION), the incidents of
    the 90 days, the latest failures and the deploy history."""
    watched = watched_versions(project_ids=[project.pk])
    binding_ids = binding_ids_of(watched)
    series = rollup_series(binding_ids=binding_ids, hours=WEEK_HOURS, days=DAYS, zone=zone, now=now)
    day_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    day = run_counts_total(c for h, c in series.hourly.items() if h >= day_start)
    week = run_counts_total(series.hourly.values())

    today = timezone.localdate(now, zone)
    window_start = datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), zone)
    incidents = incident_rows(project=project, limit=INCIDENT_LIMIT, resolved_since=window_start)

    labels = {w.binding_id: w.label for w in watched}
    workflow_ids = [w.workflow_id for w in watched if w.workflow_id]
    failures = [
        FailureRow(
            started_at=f.started_at,
            version=labels.get(f.binding_id, ""),
            status=f.status,
            error=_clipped(without_workflow_ids(f.error, workflow_ids)),
        )
        for f in latest_failures(binding_ids=binding_ids, limit=RECENT_FAILURES)
    ]

    history = history_rows(project=project, limit=HISTORY_LENGTH)

    live = live_of(watched)
    last_run = last_run_of(watched)
    open_rows = [row for row in incidents if row.is_open]
    return ProjectPage(
        project=project,
        state=project_state(
            incident_open=bool(open_rows),
            ever_ran=last_run is not None,
            last_day=day,
            latest_run_failed=any(w.streak > 0 for w in watched),
        ),
        live_version=live.label if live is not None else None,
        live_since=live.live_since if live is not None else None,
        last_run=last_run,
        day=day,
        week=week,
        hourly=hourly_chart(hourly=series.hourly, now=now, zone=zone),
        daily=daily_bars(
            daily=series.daily,
            incident_days=_incident_days(incidents, zone=zone, now=now),
            today=today,
        ),
        open_incidents=open_rows,
        incidents=incidents,
        failures=failures,
        history=history,
        ever_deployed=bool(history),
    )


def _incident_days(incidents: list[IncidentRow], *, zone: tzinfo, now: datetime) -> set[date]:
    days: set[date] = set()
    for incident in incidents:
        day = timezone.localdate(incident.opened_at, zone)
        last = timezone.localdate(incident.resolved_at or now, zone)
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days


def feed_address_token(*, user: User, profile: StatusProfile, project: Project) -> str:
    return feed_token(user_id=user.pk, generation=profile.feed_generation, project_id=project.pk)


# --- the Atom feed -------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    key: str  # unique within the project: "deployment-12", "incident-3-opened"
    title: str
    summary: str
    at: datetime
    link: str  # the page's section it tells of


def feed_entries(*, project: Project, limit: int) -> list[FeedEntry]:
    """The project's deploys and incidents (an entry when one opens, another when it
    resolves), newest first, in two queries."""
    page = reverse("status:project", args=[project.slug])
    entries = [
        FeedEntry(
            key=f"deployment-{row.pk}",
            title=row.story.sentence,
            summary=row.story.detail or row.story.sentence + ".",
            at=row.at,
            link=f"{page}#deploys",
        )
        for row in history_rows(project=project, limit=limit)
    ]
    for row in incident_rows(project=project, limit=limit):
        story = row.story
        entries.append(
            FeedEntry(
                key=f"incident-{row.pk}-opened",
                title=f"Incident: {story.what.lower()}",
                summary=f"{story.detail} Version {row.version}. Our team has been alerted.",
                at=row.opened_at,
                link=f"{page}#incidents",
            )
        )
        if row.resolved_at is not None:
            entries.append(
                FeedEntry(
                    key=f"incident-{row.pk}-resolved",
                    title=f"Resolved: {story.recovery.lower()}",
                    summary=f"{story.what} for {duration_text(row.lasted)}. Version {row.version}.",
                    at=row.resolved_at,
                    link=f"{page}#incidents",
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
