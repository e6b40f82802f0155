"""Monitoring of Live workflows (SPEC §4.7, §5): run events, hourly rollups, incidents.

Monitoring keeps its own state in its own tables, so that the core (automations) knows
nothing of it: one `Monitor` row per binding whose workflow is or was watched, the run
events WRK reported (by webhook or by polling), their hourly rollups, and incidents.
"""

from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    SUCCESS = "success"
    ERROR = "error"
    RUNNING = "running"
    CANCELED = "canceled"
    CRASHED = "crashed"


class ReceivedVia(models.TextChoices):
    WEBHOOK = "webhook"
    POLL = "poll"


# Runs that count towards a failing streak. `canceled` neither extends nor breaks one (a
# person stopped the run; it says nothing about the workflow's health) and `running` is
# not final yet.
FAILED_STATUSES = frozenset({RunStatus.ERROR, RunStatus.CRASHED})
FINAL_STATUSES = frozenset(RunStatus) - {RunStatus.RUNNING}


class RunEvent(models.Model):
    workflow_binding = models.ForeignKey(
        "automations.WorkflowBinding", on_delete=models.CASCADE, related_name="run_events"
    )
    # WRK's id of the run: receiving the same event twice stores it once.
    external_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=RunStatus)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # How it arrived: WRK's webhook or our poll (the first to bring it; see ReceivedVia).
    received_via = models.CharField(max_length=8, choices=ReceivedVia, blank=True)

    class Meta:
        db_table = "run_events"
        ordering = ["-started_at"]
        indexes = [
            # Also the index retention deletes through, binding by binding: no index of its
            # own for the write path to maintain.
            models.Index(fields=["workflow_binding", "-started_at"], name="run_binding_started"),
            # A status page's latest failures: only failed runs are in it, so the newest 20
            # of a binding are its first 20 entries, however rarely the workflow fails.
            models.Index(
                fields=["workflow_binding", "-started_at"],
                condition=Q(status__in=["error", "crashed"]),
                name="run_binding_failed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.status}"


class Monitor(models.Model):
    """A binding's monitoring: on from its deploy (when the core sets the binding's
    `monitoring_started_at`) until its version is archived and WRK confirmed the
    deactivation (`stopped_at`). Its row is also the binding's lock for the ingest, which
    keeps the failing streak here."""

    binding = models.OneToOneField(
        "automations.WorkflowBinding",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="monitor",
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    # WRK's cursor of the binding's runs: where the next poll resumes.
    poll_cursor = models.CharField(max_length=200, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    poll_error = models.TextField(blank=True)
    # Failed runs in a row, in the order of their start on WRK.
    streak = models.PositiveIntegerField(default=0)
    # The start of the newest final run the streak has seen: a run that started before it
    # arrives late, and is stored and rolled up but leaves the streak alone.
    streak_run_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "monitors"
        indexes = [
            models.Index(
                fields=["binding"], condition=Q(stopped_at__isnull=True), name="monitor_on"
            )
        ]

    def __str__(self) -> str:
        return f"monitor of binding {self.binding_id}"


class RunRollup(models.Model):
    """Final runs of a binding per hour of their start, so that "the last 24 h / 7 d / 90 d"
    reads at most 24 × 90 rows per binding at any event volume. `running` runs are counted
    once they finish."""

    binding = models.ForeignKey(
        "automations.WorkflowBinding", on_delete=models.CASCADE, related_name="run_rollups"
    )
    hour = models.DateTimeField()
    success = models.PositiveIntegerField(default=0)
    error = models.PositiveIntegerField(default=0)
    crashed = models.PositiveIntegerField(default=0)
    canceled = models.PositiveIntegerField(default=0)
    # Runs with a known duration (WRK sent finished_at), their total and longest, in ms.
    timed = models.PositiveIntegerField(default=0)
    duration_total_ms = models.BigIntegerField(default=0)
    duration_max_ms = models.BigIntegerField(default=0)
    # The timed runs by duration (see durations.py): the median over any period is read
    # from these. Runs rolled up before these columns existed are in none of them.
    dur_lt_250ms = models.PositiveIntegerField(default=0)
    dur_lt_500ms = models.PositiveIntegerField(default=0)
    dur_lt_1s = models.PositiveIntegerField(default=0)
    dur_lt_2s = models.PositiveIntegerField(default=0)
    dur_lt_5s = models.PositiveIntegerField(default=0)
    dur_lt_10s = models.PositiveIntegerField(default=0)
    dur_lt_30s = models.PositiveIntegerField(default=0)
    dur_lt_1m = models.PositiveIntegerField(default=0)
    dur_lt_2m = models.PositiveIntegerField(default=0)
    dur_lt_5m = models.PositiveIntegerField(default=0)
    dur_lt_10m = models.PositiveIntegerField(default=0)
    dur_lt_30m = models.PositiveIntegerField(default=0)
    dur_lt_1h = models.PositiveIntegerField(default=0)
    dur_ge_1h = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "run_rollups"
        ordering = ["binding", "-hour"]
        constraints = [
            models.UniqueConstraint(fields=["binding", "hour"], name="rollup_binding_hour"),
        ]

    def __str__(self) -> str:
        return f"binding {self.binding_id} {self.hour:%Y-%m-%d %H}:00"

    @property
    def runs(self) -> int:
        return self.success + self.error + self.crashed + self.canceled


class IncidentKind(models.TextChoices):
    # WRK_ALERT_CONSECUTIVE_FAILURES failed runs in a row.
    FAILING = "failing"
    # WRK does not run what the database says: a Live workflow inactive, or an archived
    # one active.
    DRIFT = "drift"


class Incident(models.Model):
    binding = models.ForeignKey(
        "automations.WorkflowBinding", on_delete=models.CASCADE, related_name="incidents"
    )
    kind = models.CharField(max_length=16, choices=IncidentKind)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Failed runs since the streak began (failing); 0 for drift.
    failure_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # What was found (drift: what WRK said against what the database says).
    detail = models.TextField(blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        db_table = "incidents"
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["-opened_at"], name="incident_opened")]
        constraints = [
            # However many workers ingest at once: one open incident per binding and kind.
            models.UniqueConstraint(
                fields=["binding", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_incident_per_binding_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=IncidentKind.values), name="incident_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        state = "open" if self.resolved_at is None else "resolved"
        return f"{self.kind} incident {self.pk} ({state})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
