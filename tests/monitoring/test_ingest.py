"""Issue 8 §1, §3: each run stored once, whatever replays; hourly rollups kept exact."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client as HttpClient

from automations.models import WorkflowBinding
from monitoring.models import RunEvent, RunRollup
from tests.factories import make_project, make_version

from .runs import BASE, run, send

pytestmark = pytest.mark.django_db


def stored(binding: WorkflowBinding) -> dict[str, str]:
    return dict(binding.run_events.values_list("external_id", "status"))


def test_a_replayed_batch_stores_nothing_twice(webhook, binding, secret):
    events = [run(binding.workflow_id, n) for n in range(5)]
    assert send(webhook, events, secret).json() == {"accepted": 5, "duplicates": 0, "ignored": 0}
    assert send(webhook, events, secret).json() == {"accepted": 0, "duplicates": 5, "ignored": 0}
    assert RunEvent.objects.count() == 5


def test_an_overlapping_batch_stores_only_what_is_new(webhook, binding, secret):
    send(webhook, [run(binding.workflow_id, n) for n in range(5)], secret)
    response = send(webhook, [run(binding.workflow_id, n) for n in range(3, 8)], secret)
    assert response.json() == {"accepted": 3, "duplicates": 2, "ignored": 0}
    assert RunEvent.objects.count() == 8


def test_the_same_id_twice_in_a_batch_is_stored_once(webhook, binding, secret):
    w = binding.workflow_id
    response = send(webhook, [run(w, 1, "running"), run(w, 1, "error"), run(w, 1)], secret)
    assert response.json() == {"accepted": 1, "duplicates": 2, "ignored": 0}
    # The final status wins over running; the first final one stays.
    assert stored(binding) == {f"{w}-run-1": "error"}


def test_events_of_unknown_or_unmonitored_workflows_are_ignored(
    webhook, binding, live_project, secret
):
    _, _, v2 = live_project  # Ready to Launch: never deployed, so not monitored
    events = [
        run(binding.workflow_id, 1),
        run("wf-nobody-knows", 1),
        run(v2.workflow_binding.workflow_id, 1),
    ]
    assert send(webhook, events, secret).json() == {"accepted": 1, "duplicates": 0, "ignored": 2}
    assert RunEvent.objects.count() == 1


def test_running_moves_to_a_final_status_once_and_never_back(webhook, binding, secret):
    w = binding.workflow_id
    send(webhook, [run(w, 1, "running")], secret)
    assert not RunRollup.objects.exists()  # a running run is rolled up once it ends

    assert send(webhook, [run(w, 1, "error")], secret).json()["accepted"] == 1
    assert send(webhook, [run(w, 1, "running")], secret).json()["duplicates"] == 1
    assert send(webhook, [run(w, 1, "success")], secret).json()["duplicates"] == 1

    event = RunEvent.objects.get()
    assert (event.status, event.error) == ("error", "boom")
    assert event.finished_at is not None
    rollup = RunRollup.objects.get()
    assert (rollup.error, rollup.success, rollup.runs) == (1, 0, 1)


def test_rollups_count_by_status_per_binding_and_hour_with_durations(webhook, binding, secret):
    w = binding.workflow_id
    events = [
        run(w, 0, seconds=1.5),
        run(w, 10, "error", seconds=4),
        run(w, 20, "crashed", seconds=0.25),
        run(w, 30, "canceled", seconds=2),
        run(w, 61, seconds=3),  # the next hour
    ]
    send(webhook, events, secret)

    first, second = RunRollup.objects.filter(binding=binding).order_by("hour")
    assert first.hour == BASE
    assert (first.success, first.error, first.crashed, first.canceled) == (1, 1, 1, 1)
    assert (first.timed, first.duration_total_ms, first.duration_max_ms) == (4, 7750, 4000)
    # The durations' histogram (a status page's median comes from it): a bucket holds its
    # lower bound, so 250 ms is under 500 ms, 1.5 s under 2 s, and 2 s and 4 s under 5 s.
    assert (first.dur_lt_500ms, first.dur_lt_2s, first.dur_lt_5s) == (1, 1, 2)
    assert (second.hour.hour, second.success, second.duration_max_ms) == (10, 1, 3000)

    # More runs of the same hour add to its row.
    send(webhook, [run(w, 40, seconds=9)], secret)
    first.refresh_from_db()
    assert (first.success, first.timed, first.duration_max_ms) == (2, 5, 9000)
    assert (first.dur_lt_2s, first.dur_lt_10s) == (1, 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overlapping_batches_from_threads_store_each_event_once_with_exact_rollups(
    webhook, secret, wrk, ops_user
):
    from automations.deploy import automation_version_deploy

    workflows = []
    for _ in range(3):
        version = make_version(make_project())
        automation_version_deploy(version_id=version.pk, actor=ops_user, source="command")
        workflows.append(version.workflow_binding.workflow_id)
    statuses = ["success", "error", "crashed", "canceled", "success"]
    everything = [
        run(w, n, statuses[n % len(statuses)], seconds=1 + n % 7)
        for w in workflows
        for n in range(120)
    ]
    rng = random.Random(8)
    # Twelve batches, each a random window of half of all events: every event comes in
    # several batches at once.
    batches = []
    for _ in range(12):
        start = rng.randrange(len(everything) // 2)
        batch = everything[start : start + len(everything) // 2]
        batches.append(rng.sample(batch, len(batch)))
    batches.append(everything[: len(everything) // 2])
    batches.append(everything[len(everything) // 2 :])
    answers: list[dict[str, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(batches))

    def post(batch):
        try:
            barrier.wait(timeout=10)
            # A client per thread, as each WRK sender would be.
            response = send(HttpClient(), batch, secret)
            assert response.status_code == 200, response.content
            answers.append(response.json())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(a["accepted"] for a in answers) == len(everything)
    assert sum(a["accepted"] + a["duplicates"] for a in answers) == sum(map(len, batches))
    assert RunEvent.objects.count() == len(everything)

    totals = RunRollup.objects.aggregate(
        success=Sum("success"),
        error=Sum("error"),
        crashed=Sum("crashed"),
        canceled=Sum("canceled"),
        ms=Sum("duration_total_ms"),
    )
    expected = {s: sum(1 for e in everything if e["status"] == s) for s in statuses}
    assert totals == {
        **expected,
        "ms": sum((1 + n % 7) * 1000 for _ in workflows for n in range(120)),
    }
