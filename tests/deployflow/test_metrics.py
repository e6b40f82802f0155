"""Issue 11.6: Prometheus metrics at /metrics, for a bearer token or a staff session."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from deployflow.metrics import INCIDENT_MODEL
from jobs.schedule import Job, job_run_if_due
from jobs.services import worker_heartbeat_beat
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-0123456789"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_anonymous_and_wrong_tokens_get_401_and_non_staff_403():
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    client_user = Client()
    client_user.force_login(make_user())
    assert client_user.get("/metrics").status_code == 403
    staff = Client()
    staff.force_login(make_user(staff=True))
    assert staff.get("/metrics").status_code == 200


def test_without_a_token_configured_no_bearer_is_accepted(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_deploys_deliveries_wrk_latency_jobs_and_workers(wrk, ops_user):
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops_user, source="api")
    wrk.fail_next(100, status=500, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops_user, source="api")
    job_run_if_due(Job("reconcile", "reconcile", 60.0))
    worker_heartbeat_beat(worker_id="w1")

    samples = scrape()

    assert samples[("deployflow_deploys_total", (("outcome", "succeeded"),))] == 1
    assert samples[("deployflow_deploys_total", (("outcome", "failed"),))] == 1
    assert samples[("deployflow_deploys_in_progress", ())] == 0
    # The deploy's and the failure's emails wait for the worker, none of it run here.
    assert samples[("deployflow_delivery_backlog", ())] >= 2
    assert samples[("deployflow_delivery_oldest_pending_age_seconds", ())] >= 0
    assert samples[("deployflow_run_events_received_last_hour", ())] == 0
    ok = (("le", "+Inf"), ("op", "activate"), ("outcome", "ok"))
    failed = (("le", "+Inf"), ("op", "activate"), ("outcome", "transient"))
    assert samples[("deployflow_wrk_call_seconds_bucket", ok)] >= 1
    assert samples[("deployflow_wrk_call_seconds_bucket", failed)] >= 3
    assert samples[("deployflow_job_runs_total", (("job", "reconcile"),))] == 1
    assert samples[("deployflow_job_last_outcome", (("job", "reconcile"), ("outcome", "ok")))] == 1
    assert ("deployflow_job_last_success_timestamp_seconds", (("job", "reconcile"),)) in samples
    assert samples[("deployflow_task_workers_alive", ())] == 1


def test_open_incidents_are_reported_once_monitoring_has_them():
    names = {name for name, _ in scrape()}
    try:
        apps.get_model(INCIDENT_MODEL)
    except LookupError:
        assert "deployflow_open_incidents" not in names
    else:
        assert "deployflow_open_incidents" in names
