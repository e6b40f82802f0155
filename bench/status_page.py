"""Status page benchmark (issue 9). Run: `.venv/bin/python -m bench.status_page`.

1,000 Live projects and 1,000,000 run events over the last 90 days, stored through the ingest
service (so the hourly rollups, streaks and incidents are the real ones). The measured project
is the busiest: three versions (two archived), a deploy history, and a tenth of all events.

Printed: the queries of `/status/<slug>/` (and of the trivial view) with 1,000 events stored
and with 1,000,000; then the median and p99 of 200 requests of `/status/<slug>/` beside a
trivial logged-in view of the same project (login, the same visibility check, a template
extending the site's base), interleaved request by request in the same run, through the
whole middleware stack (Django's test client). Goal: the median within 3× of the trivial
view's, and the same number of queries (at most 10) at both sizes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from .setup import bench_database, make_monitored_bindings

PROJECTS = 1_000
EVENTS = 1_000_000
FIRST = 1_000
BATCH = 5_000
# The measured project's share of the events: the busiest of the 1,000.
TARGET_SHARE = 0.1
REQUESTS = 200
WARMUP = 20
ERRORS = ("Node 'HTTP Request' failed: 502", "Node 'Google Sheets' failed: quota exceeded")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=PROJECTS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    with bench_database("deployflow_bench_status"):
        run(args.projects, args.events, args.requests)


def trivial_view(request: Any, slug: str) -> Any:
    """The baseline: what any logged-in page of a project costs (session, user, the
    visibility check, the base template with its bell)."""
    from django.http import Http404
    from django.template import engines

    from status.selectors import visible_project

    project = visible_project(user=request.user, slug=slug)
    if project is None:
        raise Http404
    template = engines["django"].from_string(
        '{% extends "base.html" %}{% block content %}<h1>{{ project.name }}</h1>{% endblock %}'
    )
    from django.http import HttpResponse

    return HttpResponse(template.render({"project": project}, request))


def urlconf() -> types.ModuleType:
    """The site's URLs and the trivial view's."""
    from django.contrib.auth.decorators import login_required
    from django.urls import include, path

    module = types.ModuleType("bench_status_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("trivial/<slug:slug>/", login_required(trivial_view)),
        path("", include("deployflow.urls")),
    ]
    return module


def setup_target(binding_id: int) -> tuple[Any, list[int]]:
    """The measured project gets two archived versions before its Live one, each with a
    monitored binding, and a deploy history: returns the project and its bindings, oldest
    first."""
    from automations.models import (
        AutomationVersion,
        Deployment,
        DeploymentStatus,
        WorkflowBinding,
    )
    from monitoring.models import Monitor

    live = WorkflowBinding.objects.select_related("automation_version__project").get(pk=binding_id)
    project = live.automation_version.project
    old = []
    for label in ("v0.8", "v0.9"):
        version = AutomationVersion.objects.create(project=project, version=label)
        AutomationVersion.objects.filter(pk=version.pk).update(status="Archived")
        binding = WorkflowBinding.objects.create(
            automation_version=version, workflow_id=f"{project.slug}-{label}", status="inactive"
        )
        Monitor.objects.create(binding=binding)
        old.append((version, binding))
    versions = [v for v, _ in old] + [live.automation_version]
    for n, version in enumerate(versions):
        previous = versions[n - 1] if n else None
        Deployment.objects.create(
            project=project,
            automation_version=version,
            previous_version=previous,
            workflow_id="wf",
            source="admin",
            status=DeploymentStatus.SUCCEEDED,
            finished_at=datetime.now(UTC),
        )
    Deployment.objects.create(
        project=project,
        automation_version=versions[1],
        previous_version=versions[0],
        workflow_id="wf",
        source="admin",
        status=DeploymentStatus.FAILED,
    )
    return project, [b.pk for _, b in old] + [binding_id]


def events(
    total: int, workflows: list[str], target: list[str], start: datetime, end: datetime
) -> Iterator[list[Any]]:
    """`total` runs in time order from `start` to `end`, in batches: a tenth of them the
    measured project's (its three workflows one after another, a third of the period each),
    the rest spread over the other workflows; 3 % fail."""
    from monitoring.events import RunEventIn

    rng = random.Random(9)
    step = (end - start) / total
    batch: list[Any] = []
    for i in range(total):
        started = start + step * i
        if rng.random() < TARGET_SHARE:
            workflow = target[min(2, int(3 * i / total))]
        else:
            workflow = workflows[rng.randrange(len(workflows))]
        failed = rng.random() < 0.03
        batch.append(
            RunEventIn(
                id=f"run-{i}",
                workflow_id=workflow,
                status="error" if failed else "success",
                started_at=started,
                finished_at=started + timedelta(seconds=rng.uniform(0.4, 40)),
                error=rng.choice(ERRORS) if failed else "",
            )
        )
        # The first batch is the first FIRST events, measured on their own.
        if len(batch) == (FIRST if i < FIRST else BATCH):
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(batches: Iterator[list[Any]], count: int) -> int:
    from monitoring.ingest import run_events_ingest

    stored = 0
    for batch in batches:
        stored += run_events_ingest(events=batch, received_via="poll").accepted
        if stored >= count:
            break
    return stored


def queries(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured)


def timed_get(client: Any, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] * 1000


def failures_plan(binding_ids: list[int]) -> str:
    """How PostgreSQL reads the page's latest failures (the one query on run events)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.selectors import latest_failures

    with CaptureQueriesContext(connection) as captured:
        latest_failures(binding_ids=binding_ids, limit=20)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan


def run(projects: int, total: int, requests: int) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import override_settings
    from django.urls import clear_url_caches

    from automations.models import Client
    from monitoring.models import Incident, Monitor, RunEvent, RunRollup
    from status.models import StatusProfile

    print(f"Setting up {projects:,} Live projects...")
    bindings = make_monitored_bindings(projects)
    project, target_bindings = setup_target(bindings[0][0])
    target_workflows = [
        f"{project.slug}-v0.8",
        f"{project.slug}-v0.9",
        bindings[0][1],
    ]
    others = [workflow for _, workflow in bindings[1:]]
    member = User.objects.create_user("bench-client", password="pw")
    Client.objects.get(pk=project.client_id).members.add(member)
    StatusProfile.objects.create(user=member, time_zone="Europe/Paris")
    client = HttpClient()
    client.force_login(member)
    page, trivial = f"/status/{project.slug}/", f"/trivial/{project.slug}/"

    end = datetime.now(UTC) - timedelta(minutes=1)
    batches = events(total, others, target_workflows, end - timedelta(days=90), end)
    with override_settings(ROOT_URLCONF=urlconf()):
        clear_url_caches()
        stored = ingest(batches, FIRST)
        few = (queries(client, page), queries(client, trivial))
        print(f"  {stored:,} events stored: the page {few[0]} queries, the trivial view {few[1]}")
        started = time.perf_counter()
        stored += ingest(batches, total)
        # The archived versions' workflows were deactivated: their monitoring stopped.
        Monitor.objects.filter(binding_id__in=target_bindings[:2]).update(stopped_at=end)
        # The tables as autovacuum keeps them in production: visibility map and statistics.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"  {stored:,} events stored in {time.perf_counter() - started:.0f} s "
            f"({RunEvent.objects.count():,} run events, {RunRollup.objects.count():,} rollup "
            f"rows, {Incident.objects.count()} incidents; the measured project has "
            f"{RunEvent.objects.filter(workflow_binding_id__in=target_bindings).count():,})"
        )
        many = (queries(client, page), queries(client, trivial))
        print(f"  the page {many[0]} queries, the trivial view {many[1]}")

        for _ in range(WARMUP):
            timed_get(client, page)
            timed_get(client, trivial)
        page_times, trivial_times = [], []
        for _ in range(requests):
            page_times.append(timed_get(client, page))
            trivial_times.append(timed_get(client, trivial))
        clear_url_caches()

    page_median = statistics.median(page_times) * 1000
    trivial_median = statistics.median(trivial_times) * 1000
    print()
    print(f"GET {page} over {requests} requests, interleaved with the trivial view:")
    print(f"  status page   median {page_median:6.2f} ms   p99 {p99(page_times):6.2f} ms")
    print(f"  trivial view  median {trivial_median:6.2f} ms   p99 {p99(trivial_times):6.2f} ms")
    print(f"  ratio of medians {page_median / trivial_median:.2f}x (goal: at most 3x)")
    print(
        f"  queries: the page {few[0]} at {FIRST:,} events and {many[0]} at {total:,} "
        f"(goal: the same, at most 10); the trivial view {few[1]} and {many[1]}"
    )
    plan = failures_plan(target_bindings)
    uses = "run_binding_failed" in plan
    print(f"  latest failures read through the partial index run_binding_failed: {uses}")
    for line in plan.splitlines():
        if "Execution Time" in line:
            print(f"  latest failures: {line.strip()}")


if __name__ == "__main__":
    main()
