"""Issue 11.3: /healthz (the process answers; no database) and /readyz (database,
migrations, a live task worker; WRK and the periodic jobs as warnings).

The checks run on threads of their own, with their own database sessions: the tests that
read data commit it (transaction=True)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.schedule import Job, job_run_if_due, scheduled_jobs
from jobs.services import worker_heartbeat_beat


def test_healthz_answers_without_the_database_or_an_allowed_host():
    # No database mark: pytest-django fails any query this test would make.
    response = Client().get("/healthz", headers={"Host": "10.1.2.3:8000"})
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


READS = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def all_jobs_ran(transactional_db):
    for job in scheduled_jobs():
        job_run_if_due(job, run=lambda job: "done")


@READS
def test_readyz_is_ok_with_a_worker_the_jobs_and_wrk(client, wrk, all_jobs_ran):
    worker_heartbeat_beat(worker_id="w1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {
            name: {"status": "ok"}
            for name in ("database", "migrations", "taskworker", "periodicjobs", "wrk")
        },
    }


@READS
def test_readyz_fails_without_a_live_worker_and_warns_of_wrk_and_the_jobs(client, settings):
    settings.WRK_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["taskworker"]["status"] == "unavailable"
    assert "db_worker" in body["checks"]["taskworker"]["message"]
    assert body["checks"]["wrk"]["status"] == "warning"
    assert "unreachable" in body["checks"]["wrk"]["message"]
    assert body["checks"]["periodicjobs"]["status"] == "warning"
    assert "run_jobs" in body["checks"]["periodicjobs"]["message"]


@READS
def test_wrk_refusing_the_token_is_only_a_warning(client, wrk, settings, all_jobs_ran):
    worker_heartbeat_beat(worker_id="w1")
    settings.WRK_API_TOKEN = "wrong"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "warning"
    assert "refuses" in response.json()["checks"]["wrk"]["message"]


@READS
def test_a_job_not_run_for_two_intervals_is_a_warning(client, wrk, all_jobs_ran, time_machine):
    worker_heartbeat_beat(worker_id="w1")
    job_run_if_due(Job("reconcile", "reconcile", 60.0), run=lambda job: "done")
    time_machine.move_to(timezone.now() + timedelta(seconds=181))
    worker_heartbeat_beat(worker_id="w1")
    body = client.get("/readyz").json()
    assert body["checks"]["periodicjobs"]["status"] == "warning"
    assert "reconcile" in body["checks"]["periodicjobs"]["message"]
