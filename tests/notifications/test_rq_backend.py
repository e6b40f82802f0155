"""Issue 11.8: the task queue moved to RQ (django-tasks-rq) by one setting, TASKS_REDIS_URL.
The same task code, `notifications.tasks.deliver_notifications`, is enqueued through the
RQ backend by `deliveries_enqueue` and run by an RQ worker (`manage.py rqworker`, burst
mode) against the local Redis; the email reaches the test's SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from notifications.models import Delivery, DeliveryStatus
from tests.factories import make_delivery

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]
# A database of its own on the local Redis (running here and in CI), emptied by the test.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def manage(*args: str, smtp_port: int) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="deployflow.settings.test",
        TEST_DATABASE_URL=url,
        TEST_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        TASKS_REDIS_URL=REDIS_URL,
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_deliveries_go_out_through_rq_with_the_same_task_code(smtp):
    redis.Redis.from_url(REDIS_URL).flushdb()
    deliveries = [make_delivery(f"ops{n}@agency.example") for n in range(3)]
    ids = [d.pk for d in deliveries]

    enqueue = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.tasks import task_backends; print(type(task_backends['default']).__name__);"
        "from notifications.delivery import deliveries_enqueue;"
        f"deliveries_enqueue(delivery_ids={ids!r})",
        smtp_port=smtp.port,
    )
    assert enqueue.returncode == 0, enqueue.stderr
    assert enqueue.stdout.strip() == "RQBackend"
    assert redis.Redis.from_url(REDIS_URL).llen("rq:queue:default") == 1
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 3

    # django-tasks-rq's job class runs the django.tasks Task the job names.
    worker = manage(
        "rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default", smtp_port=smtp.port
    )
    assert worker.returncode == 0, worker.stderr

    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        f"ops{n}@agency.example" for n in range(3)
    ]
