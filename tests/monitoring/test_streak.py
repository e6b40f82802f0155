"""The streak rule (monitoring/incidents.py) and monitoring's lifecycle (issue 8 §4, §7)."""

from __future__ import annotations

import pytest

from automations.deploy import automation_version_deploy
from automations.services import automation_version_stage
from monitoring.events import run_event_parse
from monitoring.ingest import run_events_ingest
from monitoring.models import Incident, Monitor, RunEvent

from .runs import run, send

pytestmark = pytest.mark.django_db

F, S, C = "error", "success", "canceled"


def ingest(binding, *runs: tuple[int, str]) -> None:
    events = [run_event_parse(run(binding.workflow_id, n, status)) for n, status in runs]
    run_events_ingest(events=events, received_via="poll")


def incidents(binding) -> list[tuple[bool, int]]:
    return [
        (i.is_open, i.failure_count)
        for i in Incident.objects.filter(binding=binding).order_by("id")
    ]


def test_crashed_counts_as_a_failure(binding):
    ingest(binding, (1, "crashed"), (2, F), (3, "crashed"))
    assert incidents(binding) == [(True, 3)]


def test_canceled_neither_breaks_nor_extends_a_streak(binding):
    ingest(binding, (1, F), (2, F), (3, C))
    assert incidents(binding) == []
    ingest(binding, (4, F))
    assert incidents(binding) == [(True, 3)]
    ingest(binding, (5, C))
    assert incidents(binding) == [(True, 3)]


def test_runs_count_in_the_order_wrk_started_them_within_a_batch(binding):
    ingest(binding, (12, F), (5, S), (10, F), (11, F))
    assert incidents(binding) == [(True, 3)]


def test_a_late_run_leaves_the_streak_alone(binding):
    ingest(binding, (10, F), (11, F))
    ingest(binding, (5, S))  # started before runs already counted: late
    assert Monitor.objects.get(binding=binding).streak == 2
    ingest(binding, (12, F))
    assert incidents(binding) == [(True, 3)]
    ingest(binding, (6, S))  # late too: it does not resolve the incident
    assert incidents(binding) == [(True, 3)]
    assert RunEvent.objects.count() == 5  # stored all the same


def test_a_running_run_counts_once_it_is_final(binding):
    ingest(binding, (1, F), (2, F), (3, "running"))
    assert incidents(binding) == []
    ingest(binding, (3, F))
    assert incidents(binding) == [(True, 3)]


def test_a_batch_can_open_resolve_and_open_again(binding):
    ingest(binding, (1, F), (2, F), (3, F), (4, F), (5, S), (6, F), (7, F), (8, F))
    assert incidents(binding) == [(False, 4), (True, 3)]


def test_the_threshold_is_a_setting(binding, settings):
    settings.WRK_ALERT_CONSECUTIVE_FAILURES = 1
    ingest(binding, (1, F))
    assert incidents(binding) == [(True, 1)]


def test_monitoring_starts_when_a_version_goes_live(binding):
    assert binding.monitoring_started_at is not None
    assert binding.monitor.stopped_at is None


def test_monitoring_stops_once_wrk_confirms_the_archived_version_is_off(
    webhook, secret, binding, live_project, ops_user, wrk
):
    _, _, v2 = live_project
    ingest(binding, (1, F), (2, F), (3, F))
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")

    monitor = Monitor.objects.get(binding=binding)
    assert monitor.stopped_at is not None
    incident = Incident.objects.get(binding=binding)
    assert not incident.is_open
    assert "archived" in incident.resolution
    # The archived workflow's events are no longer taken; the new Live one's are.
    response = send(
        webhook, [run(binding.workflow_id, 9), run(v2.workflow_binding.workflow_id, 1)], secret
    )
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 1}


def test_a_failed_deactivation_keeps_the_archived_workflow_monitored(
    binding, live_project, ops_user, wrk
):
    _, _, v2 = live_project
    wrk.fail_next(10, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    assert Monitor.objects.get(binding=binding).stopped_at is None


def test_a_rollback_starts_monitoring_again_after_the_stop_zeroed_the_streak(
    binding, live_project, ops_user, wrk
):
    _, v1, v2 = live_project
    ingest(binding, (1, F), (2, F))
    automation_version_deploy(version_id=v2.pk, actor=ops_user, source="admin")
    automation_version_stage(version_id=v1.pk, actor=ops_user, source="admin")
    automation_version_deploy(version_id=v1.pk, actor=ops_user, source="admin")

    monitor = Monitor.objects.get(binding=binding)
    assert (monitor.stopped_at, monitor.streak) == (None, 0)
    assert Monitor.objects.get(binding=v2.workflow_binding).stopped_at is not None
