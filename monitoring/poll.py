"""`manage.py poll_wrk`: pull run events from WRK and check that WRK runs exactly what the
database says (SPEC §5).

For every binding with a `Monitor` row:

- monitored (not stopped): `GET …/runs?since=<cursor>&limit=<n>`, page after page up to
  WRK_POLL_MAX_PAGES, then the runs go through the same ingest as the webhook's;
- whose database state says what WRK should do (a Live version's workflow is active, an
  archived version's confirmed-inactive workflow is not), or with a drift incident open:
  `GET …/workflows/{id}`, and a disagreement opens a `drift` incident (audited
  `drift_detected`), an agreement resolves the open one.

All WRK calls come first, from a bounded pool of threads (each with its own HTTP session),
with no database connection held; then the database work runs in short transactions. A
failed WRK call leaves that binding's cursor and drift state as they were.

A drift is only decided under the binding's `Monitor` lock, and not while the binding or its
version changed after WRK was asked, nor while a deploy of its project is in flight: a
deploy switches WRK before it records it, and that window is no drift.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import Deployment, DeploymentStatus
from automations.wrk_config import wrk_client
from wrk_client import WrkError

from .events import InvalidRunEventError, RunEventIn, run_event_parse
from .incidents import incident_open, incident_resolve
from .ingest import INSERT_CHUNK, run_events_ingest
from .models import Incident, IncidentKind, Monitor, ReceivedVia
from .selectors import PollTarget, expected_active, poll_targets

logger = logging.getLogger(__name__)


@dataclass
class Fetched:
    target: PollTarget
    runs: list[dict[str, Any]] = field(default_factory=list)
    cursor: str = ""
    active: bool | None = None
    # When WRK was asked for the workflow's state: later database changes make it stale.
    asked_at: datetime | None = None
    requests: int = 0
    error: str = ""


@dataclass
class PollReport:
    bindings: int = 0
    requests: int = 0
    seconds: float = 0.0
    # Of which the WRK calls (the pool's wall time); the rest is the database's.
    wrk_seconds: float = 0.0
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    invalid: int = 0
    wrk_errors: int = 0
    drift_opened: list[str] = field(default_factory=list)
    drift_resolved: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Polled {self.bindings} binding(s) with {self.requests} WRK request(s) in "
            f"{self.seconds:.2f} s ({self.wrk_seconds:.2f} s of WRK calls): "
            f"{self.accepted} run event(s) accepted, {self.duplicates} "
            f"duplicate(s), {self.ignored} ignored, {self.invalid} invalid; "
            f"{self.wrk_errors} WRK error(s); drift opened {len(self.drift_opened)}, "
            f"resolved {len(self.drift_resolved)}."
        )


def wrk_poll(*, concurrency: int, page_size: int, max_pages: int) -> PollReport:
    started = time.perf_counter()
    targets = poll_targets()
    report = PollReport(bindings=len(targets))
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        fetched = list(
            pool.map(lambda t: _fetch(t, page_size=page_size, max_pages=max_pages), targets)
        )
    report.wrk_seconds = time.perf_counter() - started
    report.requests = sum(f.requests for f in fetched)
    report.wrk_errors = sum(1 for f in fetched if f.error)
    _store_runs(fetched, report)
    _store_cursors(fetched)
    _settle_drift(fetched, report)
    report.seconds = time.perf_counter() - started
    return report


def _fetch(target: PollTarget, *, page_size: int, max_pages: int) -> Fetched:
    """WRK calls only, in a pool thread: no database access here."""
    client = wrk_client()
    result = Fetched(target=target, cursor=target.cursor)
    try:
        if target.check_state:
            result.asked_at = timezone.now()
            result.requests += 1
            result.active = client.get_workflow(target.workflow_id).active
        if target.poll_runs:
            for _ in range(max_pages):
                result.requests += 1
                page = client.list_runs(
                    target.workflow_id, since=result.cursor or None, limit=page_size
                )
                result.runs.extend(page.runs)
                moved = page.next_cursor is not None and page.next_cursor != result.cursor
                if page.next_cursor is not None:
                    result.cursor = page.next_cursor
                if len(page.runs) < page_size or not moved:
                    break
    except WrkError as exc:
        # What was fetched before the failure is kept, with the cursor that goes with it.
        result.error = exc.message
        logger.warning("poll_wrk: WRK failed for workflow %s: %s", target.workflow_id, exc.message)
    return result


def _parse(fetched: Fetched, report: PollReport) -> list[RunEventIn]:
    events = []
    workflow_id = fetched.target.workflow_id
    for i, raw in enumerate(fetched.runs):
        try:
            event = run_event_parse(raw, where=f"run {i} of {workflow_id}")
        except InvalidRunEventError as exc:
            report.invalid += 1
            logger.warning("poll_wrk: WRK sent an invalid run, skipped: %s", exc.message)
            continue
        if event.workflow_id != workflow_id:
            report.invalid += 1
            logger.warning("poll_wrk: WRK listed run %s of another workflow, skipped.", event.id)
            continue
        events.append(event)
    return events


def _store_runs(fetched: list[Fetched], report: PollReport) -> None:
    # Each binding's runs stay in WRK's order, so chunks keep the streak's order.
    events = [event for f in fetched for event in _parse(f, report)]
    for start in range(0, len(events), INSERT_CHUNK):
        result = run_events_ingest(
            events=events[start : start + INSERT_CHUNK], received_via=ReceivedVia.POLL
        )
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.ignored += result.ignored


def _store_cursors(fetched: list[Fetched]) -> None:
    """After the runs are stored: a crash in between makes the next poll fetch them again,
    and the ingest stores nothing twice."""
    now = timezone.now()
    monitors = [
        Monitor(
            binding_id=f.target.binding_id, poll_cursor=f.cursor, polled_at=now, poll_error=f.error
        )
        for f in fetched
        if f.target.poll_runs
    ]
    if monitors:
        with transaction.atomic(durable=True):
            Monitor.objects.bulk_update(monitors, ["poll_cursor", "polled_at", "poll_error"])


def _settle_drift(fetched: list[Fetched], report: PollReport) -> None:
    for f in fetched:
        target = f.target
        if f.active is None or f.asked_at is None:
            continue
        disagrees = target.expect_active is not None and f.active != target.expect_active
        if disagrees or target.drift_open:
            outcome = binding_drift_decide(
                binding_id=target.binding_id, active=f.active, asked_at=f.asked_at
            )
            if outcome == "opened":
                report.drift_opened.append(target.workflow_id)
            elif outcome == "resolved":
                report.drift_resolved.append(target.workflow_id)


def _drift_detail(active: bool) -> str:
    if active:
        return "WRK reports the workflow of this archived version active: it runs unasked."
    return "WRK reports the workflow inactive, but the version is Live: its runs have stopped."


def binding_drift_decide(*, binding_id: int, active: bool, asked_at: datetime) -> str | None:
    """Open or resolve the binding's drift incident, re-reading the database under the
    binding's lock; None when there is nothing to do or it is not the time to decide."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        monitor = (
            Monitor.objects.select_for_update(of=("self",))
            .select_related("binding__automation_version")
            .get(pk=binding_id)
        )
        binding = monitor.binding
        version = binding.automation_version
        if max(binding.updated_at, version.updated_at) > asked_at:
            return None  # changed since WRK was asked: the next poll decides
        if Deployment.objects.filter(
            project_id=version.project_id, status=DeploymentStatus.IN_PROGRESS
        ).exists():
            return None
        expected = expected_active(version_status=version.status, binding_status=binding.status)
        incident = Incident.objects.filter(
            binding_id=binding_id, kind=IncidentKind.DRIFT, resolved_at__isnull=True
        ).first()
        if expected is not None and active != expected and incident is None:
            incident_open(
                binding_id=binding_id,
                kind=IncidentKind.DRIFT,
                detail=_drift_detail(active),
                now=now,
            )
            return "opened"
        if expected is not None and active == expected and incident is not None:
            state = "active" if active else "inactive"
            incident_resolve(
                incident=incident,
                resolution=f"WRK and deployflow agree again: the workflow is {state}.",
                now=now,
            )
            return "resolved"
    return None
