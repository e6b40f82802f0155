"""The rules the pages state, one by one: project and day states, the median from duration
buckets, the wording of deploys, figures, and feed tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring import durations
from monitoring.selectors import RunCounts
from status.health import State, day_state, project_state
from status.tokens import feed_token, feed_token_matches, feed_token_user_id
from status.wording import duration_text, milliseconds_text, percent_text


def counts(success: int, failed: int = 0, canceled: int = 0) -> RunCounts:
    return RunCounts(success=success, failed=failed, canceled=canceled)


@pytest.mark.parametrize(
    ("incident_open", "ever_ran", "last_day", "latest_run_failed", "state"),
    [
        (True, False, counts(0), False, State.FAILING),  # a drift before any run
        (True, True, counts(100), False, State.FAILING),
        (False, False, counts(0), False, State.NO_RUNS),
        (False, True, counts(0), False, State.OPERATIONAL),  # a quiet day is no failure
        (False, True, counts(95, 5), False, State.OPERATIONAL),  # 95 % is not below 95 %
        (False, True, counts(94, 6), False, State.DEGRADED),
        (False, True, counts(100), True, State.DEGRADED),  # the latest run failed
        (False, True, counts(0, 0, 10), False, State.OPERATIONAL),  # canceled say nothing
    ],
)
def test_project_state(incident_open, ever_ran, last_day, latest_run_failed, state):
    assert (
        project_state(
            incident_open=incident_open,
            ever_ran=ever_ran,
            last_day=last_day,
            latest_run_failed=latest_run_failed,
        )
        == state
    )


def test_the_threshold_is_a_setting(settings):
    settings.STATUS_DEGRADED_BELOW_PERCENT = 99
    assert day_state(counts=counts(98, 2), incident=False) == State.DEGRADED
    settings.STATUS_DEGRADED_BELOW_PERCENT = 90
    assert day_state(counts=counts(91, 9), incident=False) == State.OPERATIONAL


def test_day_state():
    assert day_state(counts=None, incident=False) == State.NO_RUNS
    assert day_state(counts=counts(0), incident=True) == State.FAILING
    assert day_state(counts=counts(50, 50), incident=False) == State.DEGRADED
    assert day_state(counts=counts(100), incident=False) == State.OPERATIONAL


@pytest.mark.parametrize(
    ("duration_ms", "field"),
    [
        (0, "dur_lt_250ms"),
        (249, "dur_lt_250ms"),
        (250, "dur_lt_500ms"),
        (3_000, "dur_lt_5s"),
        (3_599_999, "dur_lt_1h"),
        (3_600_000, "dur_ge_1h"),
        (-5, "dur_lt_250ms"),  # a clock skew on WRK's side
    ],
)
def test_duration_buckets(duration_ms, field):
    assert durations.FIELDS[durations.bucket_of(duration_ms)] == field


def test_the_median_is_estimated_inside_its_bucket_and_never_beyond_the_longest_run():
    histogram = [0] * len(durations.FIELDS)
    histogram[durations.bucket_of(3_000)] = 10  # ten runs of 2 s to 5 s, the longest 3 s
    assert durations.median_ms(histogram, longest_ms=3_000) == 2_500
    histogram[durations.bucket_of(100)] = 30  # most runs under 250 ms
    assert durations.median_ms(histogram, longest_ms=3_000) == 167
    assert durations.median_ms([0] * len(durations.FIELDS), longest_ms=0) is None
    overflow = [0] * len(durations.FIELDS)
    overflow[-1] = 1
    assert durations.median_ms(overflow, longest_ms=7_200_000) == 5_400_000


def test_figures_in_words():
    assert percent_text(None) == "—"
    assert percent_text(1.0) == "100 %"
    assert percent_text(0.9999) == "99.9 %"  # one failure never rounds up to 100 %
    assert percent_text(0.986) == "98.6 %"
    assert milliseconds_text(850) == "850 ms"
    assert milliseconds_text(4_200) == "4.2 s"
    assert milliseconds_text(125_000) == "2 min 5 s"
    assert milliseconds_text(4_200_000) == "1 h 10 min"
    assert duration_text(timedelta(days=2, hours=3, minutes=4)) == "2 d 3 h"


@pytest.mark.django_db
def test_feed_tokens_depend_on_the_user_the_generation_and_the_project(settings):
    token = feed_token(user_id=7, generation=0, project_id=3)
    assert feed_token_user_id(token) == 7
    assert feed_token_matches(token, user_id=7, generation=0, project_id=3)
    assert not feed_token_matches(token, user_id=7, generation=1, project_id=3)
    assert not feed_token_matches(token, user_id=7, generation=0, project_id=4)
    assert not feed_token_matches(token, user_id=8, generation=0, project_id=3)
    assert feed_token_user_id("x-" + "0" * 32) is None
    assert feed_token_user_id("7-short") is None
    # Rotating the SECRET_KEY the documented way keeps addresses working.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    assert feed_token_matches(token, user_id=7, generation=0, project_id=3)
    settings.SECRET_KEY_FALLBACKS = []
    assert not feed_token_matches(token, user_id=7, generation=0, project_id=3)
