"""Synthetic, deterministic run history of one workflow of the fake WRK Platform.

A workflow "runs" once every `interval` seconds while it is active, the first run at the
instant of activation. Nothing is stored per run: run `k` (numbered across all active
periods, so ids stay unique after a deactivation and a reactivation) is computed from the
activation periods alone, which keeps the history reproducible and cheap however long the
demo runs. A share of runs fails (`failure_ratio`, by a hash of the run's id), and the next
runs of a workflow can be made to fail on purpose (`fail_next`), to show an incident.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# A run younger than this is reported as still running (SPEC §5 run statuses).
RUNNING_SECONDS = 5.0

_ERRORS = (
    "Node 'HTTP Request' failed: upstream answered 502 Bad Gateway",
    "Node 'Google Sheets' failed: quota exceeded",
    "Execution timed out after 300 seconds",
    "Node 'Send Email' failed: SMTP connection refused",
)


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


@dataclass
class Period:
    start: float
    end: float | None = None

    def run_count(self, now: float, interval: float) -> int:
        # Runs start at start + j * interval, for every such instant before the period's end.
        until = now if self.end is None else self.end
        return max(0, math.ceil((until - self.start) / interval))


@dataclass
class Timeline:
    periods: list[Period] = field(default_factory=list)
    # Run numbers made to fail whatever their hash says.
    forced_failures: set[int] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return bool(self.periods) and self.periods[-1].end is None

    def activate(self, now: float) -> None:
        self.periods.append(Period(start=now))

    def deactivate(self, now: float) -> None:
        self.periods[-1].end = now

    def run_count(self, now: float, interval: float) -> int:
        return sum(period.run_count(now, interval) for period in self.periods)

    def fail_next(self, n: int, *, now: float, interval: float) -> None:
        """The next `n` runs to start fail."""
        first = self.run_count(now, interval)
        self.forced_failures.update(range(first, first + n))

    def runs(
        self,
        workflow_id: str,
        *,
        since: int,
        limit: int,
        now: float,
        interval: float,
        failure_ratio: float = 0.1,
    ) -> tuple[list[dict[str, Any]], int]:
        """The page of runs from index `since`, and the cursor to ask for next.

        The cursor never moves past a run that is still running, so the poller sees that run
        again once it has finished, with its final status.
        """
        page: list[dict[str, Any]] = []
        next_cursor = since
        first = 0
        for period in self.periods:
            count = period.run_count(now, interval)
            for k in range(max(since, first), first + count):
                if len(page) == limit:
                    return page, next_cursor
                started = period.start + (k - first) * interval
                fails = k in self.forced_failures
                run = _run(workflow_id, k, started, now, failure_ratio=failure_ratio, fails=fails)
                page.append(run)
                if next_cursor == k and run["status"] != "running":
                    next_cursor = k + 1
            first += count
        return page, next_cursor


def _run(
    workflow_id: str, k: int, started: float, now: float, *, failure_ratio: float, fails: bool
) -> dict[str, Any]:
    run_id = f"{workflow_id}-run-{k}"
    # sha256 rather than hash(): the same run must look the same in every process.
    digest = int(hashlib.sha256(run_id.encode()).hexdigest()[:12], 16)
    run: dict[str, Any] = {
        "id": run_id,
        "workflow_id": workflow_id,
        "status": "running",
        "started_at": iso(started),
        "finished_at": None,
        "error": None,
    }
    if now - started < RUNNING_SECONDS:
        return run
    failed = fails or digest % 10_000 < failure_ratio * 10_000
    duration = 1.0 + (digest // 10) % 400 / 100  # 1 to 5 s, consistent with RUNNING_SECONDS
    run["status"] = "error" if failed else "success"
    run["finished_at"] = iso(started + duration)
    if failed:
        run["error"] = _ERRORS[(digest // 4000) % len(_ERRORS)]
    return run
