"""Notifications benchmark (issue 3). Run: `.venv/bin/python -m bench.notifications`.

1. Queries of a deploy to a project with 1 and with 1,000 collaborators: the in-app rows
   must cost a constant number of queries.
2. Worker throughput: deliveries per second sent by the real task worker to a local SMTP
   server (aiosmtpd in its own process, discarding what it receives), beside the raw
   `smtplib` send rate of the same, already built messages to the same server, measured in
   the same run. Goal: within 2x of raw. A third figure, smtplib building each message
   with Django as it goes, shows how much of the gap is rendering and MIME serialisation.
"""

from __future__ import annotations

import argparse
import email.policy
import smtplib
import socket
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
    args = parser.parse_args()
    with bench_database("deployflow_bench_notifications"):
        run(args.deliveries, args.per_task)


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


def run(total: int, per_task: int) -> None:
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
        throughput(total, per_task, port)


def throughput(total: int, per_task: int, port: int) -> None:
    from django.conf import settings
    from django.core.management import call_command

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

    prebuilt = [built(d) for d in deliveries]
    raw = raw_rate(iter(prebuilt))
    raw_building = raw_rate(built(d) for d in deliveries)

    ids = [d.pk for d in deliveries]
    for i in range(0, total, per_task):
        deliveries_enqueue(delivery_ids=ids[i : i + per_task])
    start = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    worker = total / (time.perf_counter() - start)

    sent = Delivery.objects.filter(status="sent").count()
    print(f"\nThroughput to a local SMTP server ({total} messages, {per_task} per task):")
    print(f"  raw smtplib, prebuilt messages     {raw:8.1f} msg/s")
    print(f"  smtplib, building each message     {raw_building:8.1f} msg/s")
    print(f"  task worker (claim, render, send,  {worker:8.1f} msg/s   ({sent} sent)")
    print("   record)")
    print(f"  ratio raw / worker                 {raw / worker:8.2f}x   (goal <= 2x)")


if __name__ == "__main__":
    main()
