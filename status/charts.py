"""The two charts of a project's page, drawn on the server as inline SVG (no script draws
anything), each with the table of its figures.

Neither relies on colour. In the hourly chart, an hour's bar stacks its succeeded runs
(solid), failed ones (hatched) and canceled ones (outlined), under labelled axes and a
legend; in the 90-day row, a worse day is a shorter bar. Every bar has a tooltip (an SVG
<title>), each chart an accessible name and a summary as its description, and the page
repeats every figure in a table. Sizes and colours are the stylesheet's (classes only: no
inline style, for the Content-Security-Policy).

The markup is written here rather than in a template: 114 bars and 114 table rows through
the template engine were most of the page's time (bench/status_page.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from monitoring.selectors import RunCounts, run_counts_total

from .health import State, day_state
from .times import day_text, weekday_text
from .wording import percent_text

HOURS = 24
DAYS = 90

# The hourly chart's drawing, in SVG user units (the CSS scales it to the card's width).
WIDTH, HEIGHT = 480, 170
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 12, 26
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
SLOT = PLOT_W / HOURS
BAR = SLOT * 0.72
LABEL_EVERY = 3  # hours between two labels of the x axis

# The 90-day row: a bar per day, its height saying how the day went.
DAY_SLOT, DAY_BAR, ROW_H = 8, 6, 36
DAY_HEIGHTS = {
    State.OPERATIONAL: ROW_H,
    State.DEGRADED: ROW_H * 2 // 3,
    State.FAILING: ROW_H // 3,
    State.NO_RUNS: 4,
}
DAY_STATE_WORDS = {
    State.OPERATIONAL: "operational",
    State.DEGRADED: "degraded",
    State.FAILING: "incident",
    State.NO_RUNS: "no runs",
}


def counts_sentence(counts: RunCounts) -> str:
    if counts.runs == 0:
        return "no runs"
    runs = f"{counts.runs:,} run{'s' if counts.runs != 1 else ''}"
    failed = f"{counts.failed:,} failed" if counts.failed else "none failed"
    return f"{runs}, {failed}, {percent_text(counts.success_rate)} succeeded"


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … at or above `value` (at least 2, so the axis
    has a middle)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= max(value, 2):
                return step * factor
        step *= 10


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _row(cells: list[str]) -> str:
    head, *rest = cells
    return f'<tr><th scope="row">{head}</th>' + "".join(f"<td>{c}</td>" for c in rest) + "</tr>"


def _table(headers: list[str], rows: list[str]) -> SafeString:
    head = "".join(f'<th scope="col">{h}</th>' for h in headers)
    return mark_safe(  # noqa: S308 - every cell is escaped or a number
        f'<table class="status-table compact"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


@dataclass(frozen=True)
class HourlyChart:
    """The last 24 hours (the current one and the 23 before it), hour by hour, local."""

    hours: list[datetime]
    counts: list[RunCounts]
    total: RunCounts

    @cached_property
    def summary(self) -> str:
        if self.total.runs == 0:
            return "No runs in the last 24 hours."
        pairs = list(zip(self.hours, self.counts, strict=True))
        busiest = max(pairs, key=lambda pair: pair[1].runs)
        worst = max(pairs, key=lambda pair: pair[1].failed)
        text = (
            f"Last 24 hours, hour by hour: {counts_sentence(self.total)}. "
            f"Busiest hour {busiest[0]:%H:%M} with {busiest[1].runs:,} runs."
        )
        if worst[1].failed:
            text += f" Most failures at {worst[0]:%H:%M}: {worst[1].failed:,}."
        return text

    @cached_property
    def svg(self) -> SafeString:
        y_max = _nice_ceiling(max(c.runs for c in self.counts))
        bottom, right, mid = TOP + PLOT_H, LEFT + PLOT_W, TOP + PLOT_H / 2
        label_x = LEFT - 5
        parts = [
            f'<svg class="hourly" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
            f'height="{HEIGHT}" role="img" aria-labelledby="hourly-title" '
            'aria-describedby="hourly-desc">',
            '<title id="hourly-title">Runs per hour, last 24 hours</title>',
            f'<desc id="hourly-desc">{escape(self.summary)}</desc>',
            '<defs><pattern id="failed-hatch" width="5" height="5" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect class="hatch-ground" width="5" height="5"/>'
            '<rect class="hatch-stripe" width="2" height="5"/></pattern></defs>',
            '<g class="axis">',
        ]
        for y in (TOP, mid):
            parts.append(f'<line class="grid" x1="{LEFT}" y1="{_n(y)}" x2="{right}" y2="{_n(y)}"/>')
        parts.append(
            f'<line class="baseline" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>'
        )
        y_labels: list[tuple[float, int]] = [(TOP, y_max), (bottom, 0)]
        if y_max % 2 == 0:
            y_labels.append((mid, y_max // 2))
        for y, value in y_labels:
            parts.append(
                f'<text class="y-label" x="{label_x}" y="{_n(y)}" dy="0.35em" '
                f'text-anchor="end">{value:,}</text>'
            )
        parts.append("</g>")
        for n, (hour, c) in enumerate(zip(self.hours, self.counts, strict=True)):
            slot_x = LEFT + n * SLOT
            x = slot_x + (SLOT - BAR) / 2
            end = hour + timedelta(hours=1)
            title = f"{hour:%H:%M}–{end:%H:%M}: {counts_sentence(c)}"
            parts.append(
                f'<g class="hour"><title>{escape(title)}</title>'
                f'<rect class="hit" x="{_n(slot_x)}" y="{TOP}" width="{_n(SLOT)}" '
                f'height="{PLOT_H}"/>'
            )
            top: float = bottom
            for css, value in (
                ("bar-ok", c.success),
                ("bar-failed", c.failed),
                ("bar-canceled", c.canceled),
            ):
                if value:
                    height = PLOT_H * value / y_max
                    top -= height
                    parts.append(
                        f'<rect class="{css}" x="{_n(x)}" y="{_n(top)}" width="{_n(BAR)}" '
                        f'height="{_n(height)}"/>'
                    )
            if hour.hour % LABEL_EVERY == 0:
                parts.append(
                    f'<text class="x-label" x="{_n(x + BAR / 2)}" y="{HEIGHT - 8}" '
                    f'text-anchor="middle">{hour:%H}:00</text>'
                )
            parts.append("</g>")
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text

    @cached_property
    def table(self) -> SafeString:
        rows = [
            _row(
                [
                    f"{hour:%H:%M}",
                    f"{c.runs:,}",
                    f"{c.failed:,}",
                    escape(percent_text(c.success_rate)),
                ]
            )
            for hour, c in reversed(list(zip(self.hours, self.counts, strict=True)))
        ]
        return _table(["Hour", "Runs", "Failed", "Success rate"], rows)


def hourly_chart(*, hourly: dict[datetime, RunCounts], now: datetime, zone: tzinfo) -> HourlyChart:
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    hours = [first + timedelta(hours=n) for n in range(HOURS)]
    counts = [hourly.get(hour, RunCounts()) for hour in hours]
    return HourlyChart(
        hours=[timezone.localtime(hour, zone) for hour in hours],
        counts=counts,
        total=run_counts_total(counts),
    )


@dataclass(frozen=True)
class DayBar:
    day: date
    counts: RunCounts
    state: State

    @property
    def title(self) -> str:
        when = weekday_text(self.day)
        figures = counts_sentence(self.counts)
        if self.state == State.FAILING:
            return f"{when}: incident; {figures}"
        return f"{when}: {figures}"


@dataclass(frozen=True)
class DailyBars:
    bars: list[DayBar]
    total: RunCounts

    @property
    def first_day(self) -> date:
        return self.bars[0].day

    def _count(self, state: State) -> int:
        return sum(1 for bar in self.bars if bar.state == state)

    @cached_property
    def summary(self) -> str:
        parts = [
            f"{self._count(State.OPERATIONAL)} operational",
            f"{self._count(State.DEGRADED)} degraded",
            f"{self._count(State.FAILING)} with an incident",
            f"{self._count(State.NO_RUNS)} without runs",
        ]
        text = f"Last {len(self.bars)} days, one bar per day: " + ", ".join(parts) + "."
        if self.total.runs:
            text += f" Overall {counts_sentence(self.total)}."
        return text

    @cached_property
    def svg(self) -> SafeString:
        width = len(self.bars) * DAY_SLOT
        parts = [
            # Stretched to the card's width and a fixed height by the stylesheet: bars
            # narrow on a phone but keep their height.
            f'<svg class="daily" viewBox="0 0 {width} {ROW_H}" width="{width}" '
            f'height="{ROW_H}" preserveAspectRatio="none" role="img" '
            'aria-labelledby="daily-title" aria-describedby="daily-desc">',
            '<title id="daily-title">Daily health, last 90 days</title>',
            f'<desc id="daily-desc">{escape(self.summary)}</desc>',
        ]
        for n, bar in enumerate(self.bars):
            height = DAY_HEIGHTS[bar.state]
            x = n * DAY_SLOT
            parts.append(
                f'<g class="day-slot"><title>{escape(bar.title)}</title>'
                f'<rect class="hit" x="{x}" y="0" width="{DAY_SLOT}" height="{ROW_H}"/>'
                f'<rect class="day day-{bar.state.value}" x="{x}" y="{ROW_H - height}" '
                f'width="{DAY_BAR}" height="{height}"/></g>'
            )
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text

    @cached_property
    def table(self) -> SafeString:
        rows = [
            _row(
                [
                    f'<time datetime="{bar.day.isoformat()}">{day_text(bar.day)}</time>',
                    DAY_STATE_WORDS[bar.state],
                    f"{bar.counts.runs:,}",
                    f"{bar.counts.failed:,}",
                    escape(percent_text(bar.counts.success_rate)),
                ]
            )
            for bar in reversed(self.bars)
        ]
        return _table(["Day", "State", "Runs", "Failed", "Success rate"], rows)


def daily_bars(*, daily: dict[date, RunCounts], incident_days: set[date], today: date) -> DailyBars:
    days = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    bars = []
    for day in days:
        counts = daily.get(day, RunCounts())
        bars.append(
            DayBar(
                day=day,
                counts=counts,
                state=day_state(counts=counts, incident=day in incident_days),
            )
        )
    return DailyBars(bars=bars, total=run_counts_total(bar.counts for bar in bars))
