"""Reads of monitoring: what to poll, and a binding's or a project's recent health."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from automations.models import BindingStatus, VersionStatus

from .models import Incident, IncidentKind, Monitor, RunRollup


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
