"""Run durations in the hourly rollups, as a histogram: so that a median over 24 hours or 7
days is read from the rollups alone, never from the raw events.

A rollup row counts its timed runs per bucket: `dur_lt_250ms` holds runs under 250 ms,
`dur_lt_500ms` those from 250 ms to under 500 ms, and so on; `dur_ge_1h` those of an hour
or more. Buckets add up across hours and bindings, so any period's histogram is a sum. The
median is then estimated inside its bucket (runs assumed spread evenly across it, and never
beyond the period's longest run): within a factor of the bucket's width (at most 3×, from
10 s to 30 s), which is what a status page needs to say "about 4 s".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

# Upper bounds of the buckets, in ms; the last bucket is open-ended.
BOUNDS_MS = (
    250,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
)
FIELDS = (
    "dur_lt_250ms",
    "dur_lt_500ms",
    "dur_lt_1s",
    "dur_lt_2s",
    "dur_lt_5s",
    "dur_lt_10s",
    "dur_lt_30s",
    "dur_lt_1m",
    "dur_lt_2m",
    "dur_lt_5m",
    "dur_lt_10m",
    "dur_lt_30m",
    "dur_lt_1h",
    "dur_ge_1h",
)
assert len(FIELDS) == len(BOUNDS_MS) + 1


def bucket_of(duration_ms: int) -> int:
    """The index in FIELDS of the bucket a duration falls in."""
    return bisect_right(BOUNDS_MS, max(duration_ms, 0))


def median_ms(counts: Sequence[int], *, longest_ms: int) -> int | None:
    """The median duration estimated from a histogram (counts in FIELDS' order) and the
    longest run of the same period; None without any timed run."""
    total = sum(counts)
    if total == 0:
        return None
    half = total / 2
    below = 0
    for index, count in enumerate(counts):
        if count and below + count >= half:
            low = 0 if index == 0 else BOUNDS_MS[index - 1]
            high = BOUNDS_MS[index] if index < len(BOUNDS_MS) else max(longest_ms, low)
            if low <= longest_ms < high:
                high = longest_ms
            return round(low + (high - low) * (half - below) / count)
        below += count
    raise AssertionError("unreachable: the counts add up to total")
