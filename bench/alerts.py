"""Alert latency benchmark (issue 8). Run: `.venv/bin/python -m bench.alerts`.

With the real task worker running (`manage.py db_worker` in its own process, default
settings: it looks for tasks every second when idle), 50 incidents one after another, at
random moments: for
each, the webhook accepts a batch with the third failure in a row, and the clock runs until
the alert has reached both a local SMTP server and a local Slack webhook. Prints p50 and
p95 of that latency per channel and for both. Goal: p95 under 5 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from .setup import ROOT, bench_database, make_monitored_bindings

WAIT_SECONDS = 30


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=50)
    args = parser.parse_args()
    with bench_database("deployflow_bench_alerts"):
        run(args.incidents)


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[round(q * 100) - 1]


def run(count: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient

    from tests.factories import make_user
    from tests.servers import SlackServer, SmtpServer

    from .ingest import post

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    smtp, slack = SmtpServer().start(), SlackServer().start()
    settings.SLACK_WEBHOOK_URL = slack.url
    settings.OPS_EMAILS = []
    make_user(ops=True, email="oncall@agency.example")
    bindings = make_monitored_bindings(count, prefix="wf-alert")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "deployflow.settings.dev",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "SLACK_WEBHOOK_URL": slack.url,
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
    )
    client = HttpClient()
    secret = str(settings.WRK_WEBHOOK_SECRET).split(",")[0]
    email_s: list[float] = []
    slack_s: list[float] = []
    both_s: list[float] = []
    try:
        time.sleep(2)  # the worker's start-up
        rng = random.Random(8)
        start = datetime.now(UTC) - timedelta(minutes=10)
        for n, (_, workflow_id) in enumerate(bindings):
            events = [
                {
                    "id": f"{workflow_id}-run-{k}",
                    "workflow_id": workflow_id,
                    "status": "error",
                    "started_at": (start + timedelta(minutes=k)).isoformat(),
                    "finished_at": (start + timedelta(minutes=k, seconds=3)).isoformat(),
                    "error": "Node 'HTTP Request' failed: 502",
                }
                for k in range(3)
            ]
            body = json.dumps({"events": events}).encode()
            # Incidents come at random moments, not in step with the worker's polling.
            time.sleep(rng.uniform(0, 1.5))
            mails, posts = len(smtp.messages), len(slack.requests)
            assert post(client, secret, body)["accepted"] == 3
            accepted = time.perf_counter()
            got_mail = got_slack = None
            while got_mail is None or got_slack is None:
                now = time.perf_counter()
                if now - accepted > WAIT_SECONDS:
                    raise SystemExit(f"incident {n}: no alert within {WAIT_SECONDS} s")
                if got_mail is None and len(smtp.messages) > mails:
                    got_mail = now - accepted
                if got_slack is None and len(slack.requests) > posts:
                    got_slack = now - accepted
                time.sleep(0.005)
            email_s.append(got_mail)
            slack_s.append(got_slack)
            both_s.append(max(got_mail, got_slack))
    finally:
        worker.terminate()
        worker.wait(10)
        smtp.stop()
        slack.stop()

    print(f"Alert latency over {count} incidents, from the webhook accepting the third failure")
    print("to the alert leaving the worker (received by local SMTP / Slack servers):")
    for label, samples in (("email", email_s), ("Slack", slack_s), ("both", both_s)):
        print(
            f"  {label:<6} p50 {statistics.median(samples):5.2f} s   "
            f"p95 {percentile(samples, 0.95):5.2f} s   max {max(samples):5.2f} s"
        )
    print("  goal: p95 under 5 s")


if __name__ == "__main__":
    main()
