"""Projects in each state a status page must tell apart, built through the services: deploys
through the deploy service against the stand-in WRK, runs through the ingest (so rollups and
incidents are the real ones), the clock moved by time-machine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from automations.deploy import automation_version_deploy
from automations.models import AutomationVersion, Project
from monitoring.events import run_event_parse
from monitoring.ingest import run_events_ingest
from tests.factories import make_project, make_user, make_version

# The tests' "now": a Friday afternoon, far enough from midnight in the zones they use.
NOW = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
ERROR = "Node 'Google Sheets' failed: quota exceeded"


def logged_in(user: User) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def ingest(
    workflow_id: str,
    statuses: list[str],
    *,
    first: datetime,
    every: timedelta = timedelta(minutes=10),
    seconds: float = 3.0,
    error: str = ERROR,
    prefix: str = "run",
) -> None:
    """Runs of a workflow as WRK reports them: one every `every` from `first`."""
    events: list[dict[str, Any]] = []
    for n, status in enumerate(statuses):
        started = first + every * n
        events.append(
            {
                "id": f"{workflow_id}-{prefix}-{n}",
                "workflow_id": workflow_id,
                "status": status,
                "started_at": started.isoformat(),
                "finished_at": (started + timedelta(seconds=seconds)).isoformat(),
                "error": error if status in ("error", "crashed") else None,
            }
        )
    run_events_ingest(events=[run_event_parse(e) for e in events], received_via="webhook")


@dataclass
class Scenario:
    project: Project
    member: User
    live: AutomationVersion | None

    @property
    def workflow_id(self) -> str:
        assert self.live is not None
        return self.live.workflow_binding.workflow_id

    def page(self) -> str:
        response = logged_in(self.member).get(f"/status/{self.project.slug}/")
        assert response.status_code == 200
        return response.content.decode()


@pytest.fixture
def now(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=True)
    return NOW


@pytest.fixture
def scenario(wrk, ops_user, now) -> Callable[..., Scenario]:
    """make(deployed=True): a client with one member and a project whose v1 is Live."""

    def make(*, deployed: bool = True) -> Scenario:
        member = make_user()
        project = make_project()
        project.client.members.add(member)
        v1 = make_version(project, "v1")
        if deployed:
            automation_version_deploy(version_id=v1.pk, actor=ops_user, source="admin")
            v1.refresh_from_db()
        return Scenario(project=project, member=member, live=v1 if deployed else None)

    return make


def healthy_day(workflow_id: str, *, until: datetime = NOW, prefix: str = "ok") -> None:
    """Successful runs every 10 minutes from 15:05 yesterday (the first of the 24 hours a
    page shows: the current hour and the 23 before it) until `until` (140 runs until now)."""
    first = NOW - timedelta(hours=23, minutes=25)
    count = int((until - first) / timedelta(minutes=10))
    ingest(workflow_id, ["success"] * count, first=first, prefix=prefix)
