"""Reads of the status app: who may see which project, the user's profile, the versions
whose workflows run or ran, and who asked for incident emails. The pages' own reads are in
pages.py, the feed's in feeds.py."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from automations.models import (
    AutomationVersion,
    Client,
    Deployment,
    DeploymentStatus,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from monitoring.models import Monitor, RunEvent, RunRollup
from monitoring.selectors import db_instant

from .models import DEFAULT_TIME_ZONE, StatusProfile

PERM_VIEW_ALL = "automations.view_project"


def status_profile(*, user: User | AnonymousUser) -> StatusProfile:
    """The user's profile, or the defaults (not saved) for a user who never changed any.
    The session's user has it joined in already (deployflow.auth)."""
    if not user.is_authenticated:
        return StatusProfile()
    try:
        return user.status_profile
    except StatusProfile.DoesNotExist:
        return StatusProfile(user=user)


def profile_zone(profile: StatusProfile) -> tzinfo:
    try:
        return profile.zone
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # A zone the system's tz database dropped since the user chose it.
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """The projects of the clients the user belongs to; ops (who can view projects) see all."""
    projects = Project.objects.select_related("client").order_by("client__name", "name")
    if user.has_perm(PERM_VIEW_ALL):
        return projects
    return projects.filter(client__members=user)


def visible_project(*, user: User, slug: str) -> Project | None:
    """The project, if the user may see it; None alike when there is no such project and
    when it belongs to another client. One query for a member of the project's client; for
    anyone else, the permission query too, whether the slug exists or not."""
    membership = Client.members.through.objects.filter(
        client_id=OuterRef("client_id"), user_id=user.pk
    )
    project = (
        Project.objects.select_related("client")
        .annotate(is_member=Exists(membership))
        .filter(slug=slug)
        .first()
    )
    if project is not None and project.is_member:
        return project
    may_view_all = user.has_perm(PERM_VIEW_ALL)
    return project if may_view_all else None


@dataclass(frozen=True)
class Watched:
    """A version of a project whose workflow runs or ran: the Live one, and every version
    that was ever monitored."""

    project_id: int
    version_id: int
    label: str
    status: str
    binding_id: int | None
    workflow_id: str | None
    # Failed runs in a row now, on a binding still watched (0 otherwise).
    streak: int
    last_event: datetime | None
    last_rollup_hour: datetime | None
    live_since: datetime | None

    @property
    def last_run(self) -> datetime | None:
        known = [t for t in (self.last_event, self.last_rollup_hour) if t is not None]
        return max(known) if known else None


def watched_versions(*, project_ids: list[int]) -> list[Watched]:
    """The projects' Live versions and every version ever monitored, in one query: each
    correlated subquery reads one index entry (a binding's newest run event, its newest
    rollup, a version's newest successful deploy). Written as SQL: the ORM took longer to
    compile it than the database to run it, on every page view."""
    if not project_ids:
        return []
    ids = ", ".join(["%s"] * len(project_ids))
    sql = f"""
        SELECT v.project_id, v.id, v.version, v.status, b.id, b.workflow_id,
               m.streak, m.stopped_at,
               (SELECT e.started_at FROM {RunEvent._meta.db_table} e
                 WHERE e.workflow_binding_id = b.id ORDER BY e.started_at DESC LIMIT 1),
               (SELECT r.hour FROM {RunRollup._meta.db_table} r
                 WHERE r.binding_id = b.id ORDER BY r.hour DESC LIMIT 1),
               (SELECT d.finished_at FROM {Deployment._meta.db_table} d
                 WHERE d.automation_version_id = v.id AND d.status = %s
                   AND d.finished_at IS NOT NULL
                 ORDER BY d.finished_at DESC LIMIT 1)
          FROM {AutomationVersion._meta.db_table} v
          LEFT JOIN {WorkflowBinding._meta.db_table} b ON b.automation_version_id = v.id
          LEFT JOIN {Monitor._meta.db_table} m ON m.binding_id = b.id
         WHERE v.project_id IN ({ids}) AND (v.status = %s OR m.binding_id IS NOT NULL)
    """  # noqa: S608 - no input in the SQL
    params: list[str | int] = [
        DeploymentStatus.SUCCEEDED.value,
        *project_ids,
        VersionStatus.LIVE.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Watched(
            project_id=project_id,
            version_id=version_id,
            label=label,
            status=status,
            binding_id=binding_id,
            workflow_id=workflow_id,
            # A stopped binding's streak is no longer news.
            streak=(streak or 0) if stopped_at is None else 0,
            last_event=_instant(last_event),
            last_rollup_hour=_instant(last_hour),
            live_since=_instant(live_since),
        )
        for (
            project_id,
            version_id,
            label,
            status,
            binding_id,
            workflow_id,
            streak,
            stopped_at,
            last_event,
            last_hour,
            live_since,
        ) in rows
    ]


def _instant(value: datetime | str | None) -> datetime | None:
    return None if value is None else db_instant(value)


def live_of(watched: list[Watched]) -> Watched | None:
    return next((w for w in watched if w.status == VersionStatus.LIVE), None)


def binding_ids_of(watched: list[Watched]) -> list[int]:
    return sorted(w.binding_id for w in watched if w.binding_id is not None)


def last_run_of(watched: list[Watched]) -> datetime | None:
    known = [w.last_run for w in watched if w.last_run is not None]
    return max(known) if known else None


def incident_email_recipients(*, client_id: int) -> list[tuple[str, str]]:
    """(address, time zone) of the client's active members who asked for incident emails."""
    rows = (
        User.objects.filter(
            client_memberships=client_id,
            is_active=True,
            status_profile__incident_emails=True,
        )
        .exclude(email="")
        .order_by("email")
        .values_list("email", "status_profile__time_zone")
    )
    return list(dict(rows).items())


def feed_user(*, user_id: int) -> User | None:
    """The owner of a feed token, with their profile, if still active."""
    return User.objects.select_related("status_profile").filter(pk=user_id, is_active=True).first()


def has_client_membership(*, user: User) -> bool:
    return Client.members.through.objects.filter(user_id=user.pk).exists()
