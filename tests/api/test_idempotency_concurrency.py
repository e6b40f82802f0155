"""SPEC §5 / issue 11.4: concurrent requests with one Idempotency-Key have one effect.
Real threads, each with its own PostgreSQL connection, through the whole API; the stand-in
WRK holds the winner's activation until every other request has its answer."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from django.db import connections
from django.test import Client as HttpClient

from audit.models import AuditLog
from automations.models import AutomationVersion, VersionStatus
from tests.factories import make_project, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 10


def test_concurrent_requests_with_one_key_deploy_once(api_token, wrk, ops_user, settings):
    settings.WRK_READ_TIMEOUT = 20  # the held activation must not time out
    version = make_version(make_project())
    path = f"/v1/automation-versions/{version.pk}/status"
    headers = {"Authorization": f"Bearer {api_token}", "Idempotency-Key": "deploy-once"}
    gate = wrk.hold(op="activate")
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, str, str | None]] = []
    lock = threading.Lock()
    losers_done = threading.Semaphore(0)

    def run() -> None:
        try:
            barrier.wait()
            response = HttpClient(headers=headers).patch(
                path, data=json.dumps({"status": "Live"}), content_type="application/json"
            )
            code = response.json().get("error", {}).get("code", "ok")
            with lock:
                answers.append((response.status_code, code, response.get("Retry-After")))
            if response.status_code != 200:
                losers_done.release()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    gate.wait_arrived()
    for _ in range(THREADS - 1):
        assert losers_done.acquire(timeout=30), "a duplicate request never answered"
    gate.release()
    for thread in threads:
        thread.join(timeout=60)

    # The key's row decided: every duplicate was refused before reaching the deploy.
    assert Counter(answers) == {
        (200, "ok", None): 1,
        (409, "idempotency_key_in_use", "2"): THREADS - 1,
    }
    assert len(wrk.calls_for("activate")) == 1
    assert AuditLog.objects.filter(action_type="deploy").count() == 1
    assert AutomationVersion.objects.get(pk=version.pk).status == VersionStatus.LIVE
    # Retried once the first has answered, a duplicate gets that answer.
    replay = HttpClient(headers=headers).patch(
        path, data=json.dumps({"status": "Live"}), content_type="application/json"
    )
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (200, "true")
    assert len(wrk.calls_for("activate")) == 1
