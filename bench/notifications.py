"""Notifications benchmark (issue 3). Run: `.venv/bin/python -m bench.notifications`.

1. Queries of a deploy to a project with 1 and with 1,000 collaborators: the in-app rows
   must cost a constant number of queries.
2. Worker throughput: deliveries per second sent by the real task worker to a local SMTP
   server (aiosmtpd in its own process, discarding what it receives), recording each
   message's outcome as it is sent. Two baselines to the same server, measured in the
   same run: raw `smtplib` sending the same, already built messages, and `smtplib` building
   each message with Django as it goes (rendering and MIME serialisation, no database).
   Goal: the worker within 2x of the second.
"""

from __future__ import annotations

import argparse
import email.policy
import smtplib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .setup import bench_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--per-task", type=int, default=5, help="deliveries a deploy queues")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_database("deployflow_bench_notifications"):
        run(args.deliveries, args.per_task, args.rounds)


@contextmanager
def smtp_sink() -> Iterator[int]:
    """A real SMTP server in another process, so it does not share this one's GIL."""
    from tests.servers import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(total: int, per_task: int, rounds: int) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from automations.deploy import automation_version_deploy
    from devtools.fake_wrk import FakeWrk
    from notifications.models import Notification
    from tests.factories import make_project, make_user, make_version

    wrk = FakeWrk(token=settings.WRK_API_TOKEN).start()
    settings.WRK_API_BASE_URL = wrk.url
    ops = make_user(ops=True)

    # --- 1. in-app rows: queries per deploy ------------------------------------------------
    print("Queries of a deploy (in-app rows are one bulk insert):")
    for collaborators in (1, 1000):
        project = make_project()
        users = User.objects.bulk_create(
            User(username=f"c{project.pk}-{i}", email=f"c{project.pk}-{i}@x.example")
            for i in range(collaborators)
        )
        project.collaborators.add(*users)
        version = make_version(project)
        actor = User.objects.get(pk=ops.pk)
        with CaptureQueriesContext(connection) as queries:
            automation_version_deploy(version_id=version.pk, actor=actor, source="api")
        rows = Notification.objects.filter(kind="automation_live", title__contains=project.name)
        print(
            f"  {collaborators:>5} collaborator(s): {len(queries):>3} queries, "
            f"{rows.count():>5} in-app rows"
        )
    wrk.stop()

    # --- 2. worker throughput vs raw smtplib ----------------------------------------------
    with smtp_sink() as port:
        throughput(total, per_task, port, rounds)


def throughput(total: int, per_task: int, port: int, rounds: int) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from notifications.channels import EmailTransport
    from notifications.delivery import deliveries_enqueue
    from notifications.models import Delivery

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    template = Delivery.objects.filter(template="deployment_success").first()
    assert template is not None
    Delivery.objects.all().delete()
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            channel="email",
            template=template.template,
            recipient=f"ops{i}@agency.example",
            payload=template.payload,
        )
        for i in range(total)
    )
    ids = [d.pk for d in deliveries]
    transport = EmailTransport()

    def built(delivery: Delivery) -> tuple[str, list[str], bytes]:
        message = transport.message(delivery)
        return message.from_email, message.to, message.message(policy=email.policy.SMTP).as_bytes()

    def raw_rate(messages: Iterator[tuple[str, list[str], bytes]]) -> float:
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            for from_email, to, data in messages:
                client.sendmail(from_email, to, data)
        return total / (time.perf_counter() - start)

    def worker_rate(conn_max_age: int) -> float:
        Delivery.objects.filter(pk__in=ids).update(status="pending", attempts=0, sent_at=None)
        for i in range(0, total, per_task):
            deliveries_enqueue(delivery_ids=ids[i : i + per_task])
        # DATABASE_CONN_MAX_AGE of the worker's process: 0 reconnects for every task.
        connection.settings_dict["CONN_MAX_AGE"] = conn_max_age
        start = time.perf_counter()
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
        rate = total / (time.perf_counter() - start)
        connection.settings_dict["CONN_MAX_AGE"] = 0
        assert Delivery.objects.filter(pk__in=ids, status="sent").count() == total
        return rate

    prebuilt = [built(d) for d in deliveries]
    figures: dict[str, list[float]] = {}
    # Rounds, interleaved, and their medians: one slow moment of the machine then skews
    # neither the worker's figure nor the baselines it is compared with.
    for _ in range(rounds):
        for name, measure in (
            ("raw", lambda: raw_rate(iter(prebuilt))),
            ("building", lambda: raw_rate(built(d) for d in deliveries)),
            ("worker", lambda: worker_rate(0)),
            ("kept", lambda: worker_rate(60)),
        ):
            figures.setdefault(name, []).append(measure())
    median = {name: statistics.median(rates) for name, rates in figures.items()}
    raw, building, worker, kept = (median[n] for n in ("raw", "building", "worker", "kept"))

    print(
        f"\nThroughput to a local SMTP server ({total} messages, {per_task} per task, "
        f"median of {rounds} rounds):"
    )
    print(f"  raw smtplib, prebuilt messages            {raw:8.1f} msg/s")
    print(f"  smtplib, building each message            {building:8.1f} msg/s")
    print("  task worker, recording each message's outcome,")
    print(f"    reconnecting for each task              {worker:8.1f} msg/s")
    print(f"    keeping its connection                  {kept:8.1f} msg/s")
    print("      (DATABASE_CONN_MAX_AGE=60, as the README advises for workers)")
    print(f"  ratio raw / worker                        {raw / kept:8.2f}x")
    print(f"  ratio building each / worker              {building / kept:8.2f}x   (goal <= 2x)")
    print(f"    reconnecting for each task              {building / worker:8.2f}x")


if __name__ == "__main__":
    main()
