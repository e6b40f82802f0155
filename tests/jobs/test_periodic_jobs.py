"""Issue 11.2: reconcile, poll_wrk and the retention prune run on their own schedule; one
instance of each at a time across machines (a PostgreSQL advisory lock per job)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from automations.deploy import automation_version_deploy
from automations.models import Deployment, DeploymentStatus, VersionStatus
from jobs.locks import advisory_key, job_lock
from jobs.models import JobOutcome, JobRun
from jobs.schedule import Attempt, Job, job_run_if_due, scheduled_jobs, seconds_until_due
from tests.automations.test_reconcile import interrupted_claim
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]
RECONCILE = Job("reconcile", "reconcile", 60.0)


def run_of(name: str) -> JobRun:
    return JobRun.objects.get(name=name)


def test_the_schedule_has_the_four_jobs_with_their_settings(settings):
    settings.RUN_EVENTS_RETENTION_DAYS = 45
    jobs = {job.name: job for job in scheduled_jobs()}
    assert set(jobs) == {"reconcile", "poll_wrk", "prune_run_events", "prune_idempotency_keys"}
    assert jobs["reconcile"].every == settings.JOB_RECONCILE_SECONDS == 60
    assert jobs["prune_run_events"].args == ("--older-than", "45")
    assert jobs["prune_run_events"].every == 86400
    assert jobs["prune_idempotency_keys"].every == 86400


def test_a_due_job_runs_once_per_interval_and_its_run_is_recorded(wrk):
    assert job_run_if_due(RECONCILE) == Attempt.RAN
    run = run_of("reconcile")
    assert (run.outcome, run.runs, run.detail.strip()) == (
        JobOutcome.OK,
        1,
        "Nothing to reconcile.",
    )
    assert run.last_success_at is not None
    assert run.finished_at is not None
    # Another scheduler (another machine) finds it done for this interval.
    assert job_run_if_due(RECONCILE) == Attempt.NOT_DUE
    assert 59 < seconds_until_due(RECONCILE) <= 60
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert job_run_if_due(RECONCILE) == Attempt.RAN
    assert run_of("reconcile").runs == 2


def test_a_failing_job_is_recorded_failed_and_tried_again_next_interval(wrk):
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=None, source="command")
    wrk.fail_next(100, status=503, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=None, source="command")

    assert job_run_if_due(RECONCILE) == Attempt.RAN
    run = run_of("reconcile")
    assert run.outcome == JobOutcome.FAILED
    assert "still need WRK" in run.detail
    assert run.last_success_at is None


def test_a_job_whose_command_is_not_installed_is_skipped_with_a_warning(caplog):
    ghost = Job("ghost", "no_such_command", 60.0)
    assert job_run_if_due(ghost) == Attempt.SKIPPED
    run = run_of("ghost")
    assert run.outcome == JobOutcome.SKIPPED
    assert "'no_such_command' is not installed" in run.detail
    assert "Periodic job ghost" in caplog.text


def test_only_one_instance_runs_a_job_at_a_time_across_sessions():
    """Two schedulers (two threads, two database sessions, as two machines would have)."""
    started, release = threading.Event(), threading.Event()
    attempts: list[Attempt] = []

    def slow(job: Job) -> str:
        started.set()
        assert release.wait(10)
        return "done"

    def first() -> None:
        try:
            attempts.append(job_run_if_due(Job("slow", "x", 60.0), run=slow))
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    # The other session finds the lock taken and does not wait for it.
    assert job_run_if_due(Job("slow", "x", 60.0), run=slow) == Attempt.LOCKED
    release.set()
    thread.join(10)
    assert attempts == [Attempt.RAN]
    assert run_of("slow").runs == 1
    # The lock went with the run.
    with job_lock("slow") as held:
        assert held


def test_the_lock_is_a_session_advisory_lock_that_dies_with_its_session():
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [advisory_key("reconcile")])
        with job_lock("reconcile") as held:
            assert not held
        other.close()  # the scheduler holding it died
        # Its server process releases the lock as it exits, a moment after the socket
        # closed: polled, for a bounded time.
        deadline = time.monotonic() + 10
        while True:
            with job_lock("reconcile") as held:
                if held:
                    break
            assert time.monotonic() < deadline, "the dead session's lock was never released"
            time.sleep(0.01)
    finally:
        other.close()


def test_an_interrupted_deploy_is_finished_within_stale_after_plus_60_seconds(wrk, settings):
    """The bound of the README: reconcile every 60 s finds a deploy at most 60 s after it
    turned stale. The worst case: a run started just before it turned stale."""
    ops = make_user(ops=True)
    version = make_version(make_project())
    deployment = interrupted_claim(version, ops)
    wrk.add_workflow(version.workflow_binding.workflow_id, active=True)
    stale_at = deployment.started_at + timedelta(seconds=settings.DEPLOY_STALE_AFTER_SECONDS)

    with time_machine.travel(stale_at - timedelta(seconds=1), tick=False):
        assert job_run_if_due(RECONCILE) == Attempt.RAN
        assert Deployment.objects.get(pk=deployment.pk).status == DeploymentStatus.IN_PROGRESS
        wait = seconds_until_due(RECONCILE)
    with time_machine.travel(stale_at - timedelta(seconds=1) + timedelta(seconds=wait)):
        assert job_run_if_due(RECONCILE) == Attempt.RAN
        finished = timezone.now()
    assert Deployment.objects.get(pk=deployment.pk).status == DeploymentStatus.SUCCEEDED
    assert version.__class__.objects.get(pk=version.pk).status == VersionStatus.LIVE
    assert finished - stale_at <= timedelta(seconds=60)


def test_run_jobs_runs_the_jobs_until_sigterm(tmp_path):
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JOB_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="deployflow.settings.test",
        TEST_DATABASE_URL=url,
        JOB_RECONCILE_SECONDS="0.2",
        LOG_FORMAT="json",
    )
    log = tmp_path / "run_jobs.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_jobs"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not JobRun.objects.filter(name="reconcile", runs__gte=3).exists():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
    assert run_of("reconcile").outcome == JobOutcome.OK
    assert set(JobRun.objects.values_list("name", flat=True)) >= {"reconcile", "poll_wrk"}
