"""Issue 9: the reads the status pages make of monitoring: hours and days from the rollups in
one query, and the latest failures of several workflows through their partial index."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.deploy import automation_version_deploy
from monitoring.events import run_event_parse
from monitoring.ingest import run_events_ingest
from monitoring.selectors import latest_failures, rollup_series

from .runs import BASE, run

pytestmark = pytest.mark.django_db


def ingest(events) -> None:
    run_events_ingest(events=[run_event_parse(e) for e in events], received_via="poll")


def test_hours_and_days_in_one_query(binding):
    w = binding.workflow_id
    # Runs at 09:00 to 11:20 UTC on 27 Nov, and one the day before at 20:00 UTC.
    ingest([run(w, n * 20, "error" if n == 3 else "success", seconds=n + 1) for n in range(8)])
    ingest([run(w, -13 * 60, prefix="eve")])
    paris, kolkata = ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata")
    now = BASE + timedelta(hours=3, minutes=5)
    with CaptureQueriesContext(connection) as captured:
        series = rollup_series(binding_ids=[binding.pk], hours=24, days=90, zone=paris, now=now)
    assert len(captured) == 1
    assert {hour.hour: (c.success, c.failed) for hour, c in series.hourly.items()} == {
        20: (1, 0),
        9: (3, 0),
        10: (2, 1),
        11: (2, 0),
    }
    assert {str(day): c.runs for day, c in series.daily.items()} == {
        "2026-11-26": 1,
        "2026-11-27": 8,
    }
    # In India 20:00 UTC is 01:30 the next day: the evening run belongs to the 27th.
    in_india = rollup_series(binding_ids=[binding.pk], hours=24, days=90, zone=kolkata, now=now)
    assert {str(day): c.runs for day, c in in_india.daily.items()} == {"2026-11-27": 9}
    # Hours outside the window are left out.
    assert rollup_series(
        binding_ids=[binding.pk], hours=2, days=1, zone=paris, now=now
    ).hourly.keys() == {
        BASE + timedelta(hours=2),
    }


def test_latest_failures_merge_each_workflows_newest(live_project, ops_user):
    _, v1, v2 = live_project
    b1, b2 = v1.workflow_binding, v2.workflow_binding
    ingest([run(b1.workflow_id, n, "error", error=f"one {n}") for n in range(0, 60, 2)])
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    ingest([run(b2.workflow_id, n, "crashed", error=f"two {n}") for n in range(61, 90, 2)])
    ingest([run(b2.workflow_id, 100)])
    with CaptureQueriesContext(connection) as captured:
        failures = latest_failures(binding_ids=[b1.pk, b2.pk], limit=20)
    assert len(captured) == 1
    errors = [f.error for f in failures]
    assert errors == [f"two {n}" for n in range(89, 60, -2)] + [
        "one 58",
        "one 56",
        "one 54",
        "one 52",
        "one 50",
    ]
    assert {f.status for f in failures} == {"crashed", "error"}
    assert latest_failures(binding_ids=[], limit=20) == []
