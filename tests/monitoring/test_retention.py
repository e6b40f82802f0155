"""Issue 8 §5: `prune_run_events` deletes old raw events; rollups and incidents stay."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import Incident, RunEvent, RunRollup

from .runs import run, send

pytestmark = pytest.mark.django_db


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_run_events", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def history(binding, webhook, secret):
    """Events from 2026-11-27 09:00 on (runs.BASE): 6 failures then 4 successes."""
    w = binding.workflow_id
    events = [run(w, n, "error") for n in range(6)] + [run(w, n) for n in range(6, 10)]
    assert send(webhook, events, secret).json()["accepted"] == 10
    return binding


def test_it_deletes_old_events_in_batches_and_keeps_rollups_and_incidents(history, time_machine):
    w = history.workflow_id
    # Two days after the first run: runs 0-5 (09:00-09:05) are older than 1 day and 23 h 57 m.
    time_machine.move_to("2026-11-29T09:05:30Z")
    rollups = list(RunRollup.objects.values())
    incidents = list(Incident.objects.values())

    with CaptureQueriesContext(connection) as queries:
        out = prune("--older-than", "2", "--batch-size", "4")

    assert "Deleted 6 run event(s) older than 2 day(s)" in out
    assert sorted(RunEvent.objects.values_list("external_id", flat=True)) == sorted(
        f"{w}-run-{n}" for n in range(6, 10)
    )
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 2  # batches of 4 and 2
    assert list(RunRollup.objects.values()) == rollups
    assert list(Incident.objects.values()) == incidents
    assert prune("--older-than", "2").startswith("Deleted 0 run event(s)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "0"], "at least 1 day"),
        (["--older-than", "30", "--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_deleted(history, args, message):
    with pytest.raises(CommandError, match=message):
        prune(*args)
    assert RunEvent.objects.count() == 10
