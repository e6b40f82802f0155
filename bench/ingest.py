"""Ingest benchmark (issue 8). Run: `.venv/bin/python -m bench.ingest`.

200,000 run events in batches of 500 go through the webhook view (Django's test client:
middleware, signature check, JSON parsing and validation, dedupe, rollup upserts and the
failing-streak check, with incidents opening and their alerts queued), beside raw psycopg
`executemany` of the same rows into a scratch table made `LIKE run_events INCLUDING ALL`
plus its foreign key (same columns, keys, indexes and checks), one commit per batch on both
sides. Goal: the
webhook at 50 % or more of the raw rate. Also prints the peak memory.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from .setup import bench_database, make_monitored_bindings

STATUSES = ["success"] * 90 + ["error"] * 7 + ["crashed", "canceled", "canceled"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--bindings", type=int, default=200)
    args = parser.parse_args()
    with bench_database("deployflow_bench_ingest"):
        run(args.events, args.batch, args.bindings)


def make_events(total: int, workflows: list[str]) -> list[dict[str, Any]]:
    """Runs of every workflow over the last few days, in time order, 10 % failing."""
    rng = random.Random(8)
    start = datetime.now(UTC) - timedelta(days=3)
    step = timedelta(days=3) / total
    events = []
    for i in range(total):
        started = start + step * i
        status = rng.choice(STATUSES)
        events.append(
            {
                "id": f"run-{i}",
                "workflow_id": workflows[i % len(workflows)],
                "status": status,
                "started_at": started.isoformat(),
                "finished_at": (started + timedelta(seconds=rng.uniform(0.5, 30))).isoformat(),
                "error": "Node 'HTTP Request' failed: 502"
                if status in ("error", "crashed")
                else None,
            }
        )
    return events


ROUNDS = 10


def post(client: Any, secret: str, body: bytes) -> dict[str, int]:
    from api.signatures import wrk_signature

    timestamp = int(time.time())
    response = client.post(
        "/v1/webhooks/wrk/run-events",
        body,
        content_type="application/json",
        headers={
            "X-WRK-Timestamp": str(timestamp),
            "X-WRK-Signature": wrk_signature(secret, timestamp, body),
        },
    )
    assert response.status_code == 200, response.content[:300]
    result: dict[str, int] = response.json()
    return result


def run(total: int, batch: int, binding_count: int) -> None:
    import psycopg
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient

    from monitoring.events import run_event_parse
    from monitoring.models import Incident, RunEvent, RunRollup
    from notifications.models import Delivery
    from tests.factories import make_user

    make_user(ops=True, email="ops@agency.example")  # incidents alert someone
    bindings = make_monitored_bindings(binding_count)
    binding_of = {workflow_id: pk for pk, workflow_id in bindings}
    events = make_events(total, [w for _, w in bindings])
    bodies = [
        json.dumps({"events": events[i : i + batch]}).encode() for i in range(0, total, batch)
    ]
    body_mb = sum(map(len, bodies)) / 1e6

    # --- raw psycopg executemany into a scratch table, the same rows -----------------------
    now = datetime.now(UTC)
    rows = []
    for event in events:
        parsed = run_event_parse(event)
        rows.append(
            (
                binding_of[parsed.workflow_id],
                parsed.id,
                parsed.status,
                parsed.started_at,
                parsed.finished_at,
                parsed.error,
                now,
                "webhook",
            )
        )
    del events
    db = connection.settings_dict
    dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"
    client = HttpClient()
    secret = str(settings.WRK_WEBHOOK_SECRET).split(",")[0]
    insert = (
        "INSERT INTO bench_scratch (workflow_binding_id, external_id, status, started_at, "
        "finished_at, error, received_at, received_via) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )
    accepted = 0
    raw_seconds = ours_seconds = 0.0
    with psycopg.connect(dsn) as raw, raw.cursor() as cursor:
        # The same definition as run_events: columns, defaults, keys, indexes, and the
        # foreign key to workflow_bindings, deferred like Django's.
        raw.execute("CREATE TABLE bench_scratch (LIKE run_events INCLUDING ALL)")
        raw.execute(
            "ALTER TABLE bench_scratch ADD FOREIGN KEY (workflow_binding_id) "
            "REFERENCES workflow_bindings (id) DEFERRABLE INITIALLY DEFERRED"
        )
        raw.commit()
        # Ten rounds, each raw then webhook over a tenth of the events: both sides see the
        # same load on a shared machine and the same table sizes.
        per_round = max(1, len(bodies) // ROUNDS)
        for first in range(0, len(bodies), per_round):
            started = time.perf_counter()
            for i in range(first * batch, min((first + per_round) * batch, total), batch):
                cursor.executemany(insert, rows[i : i + batch])
                raw.commit()
            raw_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for body in bodies[first : first + per_round]:
                accepted += post(client, secret, body)["accepted"]
            ours_seconds += time.perf_counter() - started
        raw.execute("DROP TABLE bench_scratch")
        raw.commit()
    del rows
    assert accepted == total == RunEvent.objects.count()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # --- a replay (everything a duplicate), and Python's own peak for one batch ------------
    replay = bodies[: len(bodies) // 10]
    tracemalloc.start()
    started = time.perf_counter()
    for body in replay:
        assert post(client, secret, body)["duplicates"] == batch
    replay_seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    raw_rate = total / raw_seconds
    ours_rate = total / ours_seconds
    print(f"{total:,} run events in batches of {batch} over {binding_count} bindings:")
    raw_label, ours_label = "raw psycopg executemany (scratch table)", "webhook view, full path"
    print(f"  {raw_label:<40} {raw_rate:10,.0f} events/s  ({raw_seconds:.1f} s)")
    print(f"  {ours_label:<40} {ours_rate:10,.0f} events/s  ({ours_seconds:.1f} s)")
    print(
        f"  ratio webhook / raw                      {ours_rate / raw_rate:10.0%}   (goal >= 50 %)"
    )
    print(
        f"  replayed batches (all duplicates)        "
        f"{len(replay) * batch / replay_seconds:10,.0f} events/s"
    )
    print(
        f"  rollup rows {RunRollup.objects.count():,}, incidents {Incident.objects.count()}, "
        f"alert deliveries {Delivery.objects.count()}"
    )
    print(
        f"  peak memory: process RSS {peak_rss_mb:,.0f} MB (of which the {len(bodies)} "
        f"prepared request bodies {body_mb:,.0f} MB); Python allocations during the "
        f"replay, tracemalloc peak {traced_peak / 1e6:,.1f} MB"
    )


if __name__ == "__main__":
    main()
