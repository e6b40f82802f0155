"""The status pages' and feeds' sentences, in the client's words: what happened to their
automation, never how ops made it happen (no workflow ids, no usernames, no WRK)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from monitoring.models import IncidentKind


@dataclass(frozen=True, slots=True)
class DeployStory:
    """A deploy attempt: went live, restored, or attempted while another version kept
    running."""

    version: str
    # The version Live when the deploy began (the one that kept running if it failed).
    previous: str | None
    succeeded: bool
    rollback: bool

    @property
    def sentence(self) -> str:
        if self.succeeded:
            if self.rollback:
                return f"Restored version {self.version}"
            if self.previous is not None and self.previous != self.version:
                return f"Version {self.version} went live, replacing {self.previous}"
            return f"Version {self.version} went live"
        attempt = "Restore" if self.rollback else "Update"
        if self.previous is not None:
            return f"{attempt} attempted; version {self.previous} kept running"
        return f"{attempt} attempted; no version was live yet"

    @property
    def detail(self) -> str:
        return "" if self.succeeded else f"Version {self.version} did not go live."


@dataclass(frozen=True, slots=True)
class IncidentStory:
    """An incident said from the outside. A drift of the Live version's workflow means its
    runs stopped; of a replaced (archived) version's, that the old version was found
    running."""

    kind: str
    failure_count: int
    of_replaced_version: bool

    @property
    def what(self) -> str:
        """What went wrong: "Runs failing"."""
        if self.kind == IncidentKind.FAILING:
            return "Runs failing"
        return "Replaced version running" if self.of_replaced_version else "Runs stopped"

    @property
    def detail(self) -> str:
        if self.kind == IncidentKind.FAILING:
            count = self.failure_count
            return f"{count} run{'s' if count != 1 else ''} failed in a row."
        if self.of_replaced_version:
            return "A replaced version of the automation was found still running."
        return "The automation was found switched off."

    @property
    def recovery(self) -> str:
        """How it ended: "Runs succeed again"."""
        if self.kind == IncidentKind.FAILING:
            return "Runs succeed again"
        return "The replaced version stopped" if self.of_replaced_version else "Runs resumed"


def duration_text(span: timedelta) -> str:
    """`2 d 3 h`, `2 h 5 min`, `12 min`, `45 s`: two units at most."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def milliseconds_text(ms: int | None) -> str:
    """A run's duration: `850 ms`, `4.2 s`, `2 min 5 s`, `1 h 10 min`; a dash when unknown."""
    if ms is None:
        return "—"
    if ms < 1_000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s".replace(".0 s", " s")
    seconds = round(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def percent_text(rate: float | None) -> str:
    """`98.6 %`; 100 % only when nothing failed, so a single failure never rounds away."""
    if rate is None:
        return "—"
    if rate < 1 and rate >= 0.9995:
        return "99.9 %"
    return f"{rate * 100:.1f} %".replace(".0 %", " %")
