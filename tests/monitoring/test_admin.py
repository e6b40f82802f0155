"""Issue 8 §6: read-only run events and incidents in the admin; the last 24 h of runs on the
version and project pages."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from monitoring.models import Incident, RunEvent
from monitoring.selectors import health

from .runs import run, send

pytestmark = pytest.mark.django_db


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


@pytest.fixture
def recent(binding, webhook, secret, time_machine):
    """Four runs in the last hour (3 failed in a row: an open incident), one 2 days ago."""
    time_machine.move_to("2026-11-27T09:30:00Z", tick=True)
    w = binding.workflow_id
    events = [run(w, -2 * 24 * 60), run(w, 1, "error"), run(w, 2, "crashed"), run(w, 3, "error")]
    events.append(run(w, 4, "canceled"))
    assert send(webhook, events, secret).json()["accepted"] == 5
    return binding


def test_the_version_page_shows_the_last_24_hours(recent, ops_user):
    version = recent.automation_version
    page = logged_in(ops_user).get(
        reverse("admin:automations_automationversion_change", args=[version.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="df-run-count">4<' in html  # the run 2 days ago is outside
    assert 'id="df-success-rate">0.0%<' in html
    incident = Incident.objects.get()
    assert reverse("admin:monitoring_incident_change", args=[incident.pk]) in html
    assert "Monitoring:\n    on" in html


def test_the_project_page_shows_the_last_24_hours(recent, ops_user):
    project = recent.automation_version.project
    page = logged_in(ops_user).get(reverse("admin:automations_project_change", args=[project.pk]))
    assert 'id="df-run-count">4<' in page.content.decode()
    assert "open incident" in page.content.decode()


def test_a_version_never_live_says_so(live_project, ops_user):
    _, _, v2 = live_project
    page = logged_in(ops_user).get(
        reverse("admin:automations_automationversion_change", args=[v2.pk])
    )
    html = page.content.decode()
    assert 'id="df-run-count">0<' in html
    assert 'id="df-success-rate">—<' in html
    assert "not started" in html


def test_health_reads_the_rollups(recent):
    result = health(binding_ids=[recent.pk], hours=24)
    assert (result.runs, result.success, result.failed, result.canceled) == (4, 0, 3, 1)
    assert result.success_rate == 0.0
    week = health(binding_ids=[recent.pk], hours=7 * 24)
    assert (week.runs, week.success_rate) == (5, 0.25)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=error",
        "?project={project}",
        "?started_at__gte=2026-11-27+00%3A00%3A00%2B00%3A00",
        "?q={run}",
    ],
)
def test_the_run_events_list_filters_by_project_status_and_date(recent, ops_user, query):
    project = recent.automation_version.project
    url = reverse("admin:monitoring_runevent_changelist") + query.format(
        project=project.pk, run=f"{recent.workflow_id}-run-1"
    )
    page = logged_in(ops_user).get(url)
    assert page.status_code == 200
    assert f"{recent.workflow_id}-run-1" in page.content.decode()


def test_the_incident_list_filters_open_ones(recent, ops_user):
    page = logged_in(ops_user).get(reverse("admin:monitoring_incident_changelist") + "?state=open")
    assert page.status_code == 200
    assert "3 runs failed in a row" not in page.content.decode()  # the detail is on its page
    assert "failing" in page.content.decode()


def test_run_events_and_incidents_are_read_only_even_for_a_superuser(recent, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = logged_in(admin)
    event = RunEvent.objects.earliest("pk")
    incident = Incident.objects.get()
    assert client.get(reverse("admin:monitoring_runevent_add")).status_code == 403
    change = reverse("admin:monitoring_incident_change", args=[incident.pk])
    assert client.post(change, {"kind": "drift"}).status_code == 403
    delete = reverse("admin:monitoring_runevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RunEvent.objects.count() == 5
