"""What the status pages call a project's state, and each day's in the 90-day row. The rules
are written here once; the README repeats them for clients and ops.

A project is, in this order of precedence:

- **failing**: an incident is open on one of its workflows: a `failing` streak
  (WRK_ALERT_CONSECUTIVE_FAILURES failed runs in a row) or a `drift` (WRK does not run what
  was deployed). Our team has been alerted.
- **no runs yet**: no run was ever recorded (no rollup and no run event): never deployed,
  or deployed and not run since.
- **degraded**: the success rate of the last 24 hours is below STATUS_DEGRADED_BELOW_PERCENT
  (95 %), or the latest run of a watched workflow failed (a streak has begun that has not yet
  opened an incident).
- **operational**: anything else, including a quiet day: no run in the last 24 hours is not
  a failure.

A day of the 90-day row is *failing* if an incident was open at any moment of it,
*no runs* if nothing ran, *degraded* if its success rate was below the same threshold, and
*operational* otherwise. Success rates leave canceled runs out: a person stopped them.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings

from monitoring.selectors import RunCounts


class State(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    FAILING = "failing"
    NO_RUNS = "no-runs"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    State.OPERATIONAL: "Operational",
    State.DEGRADED: "Degraded",
    State.FAILING: "Failing",
    State.NO_RUNS: "No runs yet",
}


def below_threshold(counts: RunCounts) -> bool:
    rate = counts.success_rate
    return rate is not None and rate * 100 < settings.STATUS_DEGRADED_BELOW_PERCENT


def project_state(
    *, incident_open: bool, ever_ran: bool, last_day: RunCounts, latest_run_failed: bool
) -> State:
    if incident_open:
        return State.FAILING
    if not ever_ran:
        return State.NO_RUNS
    if latest_run_failed or below_threshold(last_day):
        return State.DEGRADED
    return State.OPERATIONAL


def day_state(*, counts: RunCounts | None, incident: bool) -> State:
    if incident:
        return State.FAILING
    if counts is None or counts.runs == 0:
        return State.NO_RUNS
    if below_threshold(counts):
        return State.DEGRADED
    return State.OPERATIONAL
