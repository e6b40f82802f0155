"""`/metrics` for Prometheus, protected: `Authorization: Bearer <METRICS_TOKEN>` or a staff
session.

What the database knows is read from it at scrape time (deploys by outcome, the delivery
backlog and its age, run events, open incidents, the periodic jobs, live workers): the
numbers are then the same whichever process, or machine, is scraped, they survive restarts,
and no counter has to be shared between processes. Only what a process alone sees, the
latency of its WRK calls, is kept in the process, and meets the other processes' values
through prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
`bin/serve`) so that any gunicorn worker answers for the whole machine.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from automations.models import Deployment, DeploymentStatus
from jobs.models import JobOutcome, JobRun
from jobs.selectors import workers_alive
from monitoring.models import RunEvent
from notifications.models import Delivery, DeliveryStatus

# Named in a variable: the type checker would insist on finding the model today.
INCIDENT_MODEL: str = "monitoring.Incident"


class DatabaseCollector:
    """Metrics read from the database at each scrape, a handful of aggregate queries."""

    def collect(self) -> Iterator[Metric]:
        yield from self._deploys()
        yield from self._deliveries()
        yield from self._run_events()
        yield from self._incidents()
        yield from self._jobs()
        alive = GaugeMetricFamily(
            "deployflow_task_workers_alive",
            "Task workers whose heartbeat is fresher than WORKER_DEAD_AFTER_SECONDS.",
        )
        alive.add_metric(
            [], workers_alive(within_seconds=settings.WORKER_DEAD_AFTER_SECONDS).count()
        )
        yield alive

    def _deploys(self) -> Iterator[Metric]:
        counts = dict(Deployment.objects.order_by().values_list("status").annotate(n=Count("pk")))
        # Deployments are never deleted, so their counts only grow: a counter.
        total = CounterMetricFamily(
            "deployflow_deploys", "Deploys finished, by outcome.", labels=["outcome"]
        )
        for outcome in (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED):
            total.add_metric([outcome.value], counts.get(outcome, 0))
        yield total
        running = GaugeMetricFamily("deployflow_deploys_in_progress", "Deploys running now.")
        running.add_metric([], counts.get(DeploymentStatus.IN_PROGRESS, 0))
        yield running

    def _deliveries(self) -> Iterator[Metric]:
        waiting = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        row = Delivery.objects.aggregate(
            backlog=Count("pk", filter=waiting),
            oldest=Min("created_at", filter=waiting),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        )
        backlog = GaugeMetricFamily(
            "deployflow_delivery_backlog", "Email and Slack deliveries not sent yet."
        )
        backlog.add_metric([], row["backlog"])
        yield backlog
        age = GaugeMetricFamily(
            "deployflow_delivery_oldest_pending_age_seconds",
            "Age of the oldest delivery not sent yet (0 when none waits).",
        )
        oldest = row["oldest"]
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield age
        failed = GaugeMetricFamily(
            "deployflow_deliveries_failed", "Deliveries failed for good, waiting for a resend."
        )
        failed.add_metric([], row["failed"])
        yield failed

    def _run_events(self) -> Iterator[Metric]:
        # One scan for both; pruning (RUN_EVENTS_RETENTION_DAYS) keeps the table bounded.
        row = RunEvent.objects.aggregate(
            stored=Count("pk"),
            last_hour=Count("pk", filter=Q(received_at__gte=timezone.now() - timedelta(hours=1))),
        )
        received = GaugeMetricFamily(
            "deployflow_run_events_received_last_hour",
            "Run events ingested (webhook or poll) in the last hour.",
        )
        received.add_metric([], row["last_hour"])
        yield received
        stored = GaugeMetricFamily(
            "deployflow_run_events_stored", "Run events kept (older ones are pruned)."
        )
        stored.add_metric([], row["stored"])
        yield stored

    def _incidents(self) -> Iterator[Metric]:
        # Read by name: the incidents table comes with the monitoring app's next version,
        # and until then there is nothing to report.
        try:
            incident = apps.get_model(INCIDENT_MODEL)
        except LookupError:
            return
        counts = dict(
            incident.objects.filter(resolved_at__isnull=True)
            .order_by()
            .values_list("kind")
            .annotate(n=Count("pk"))
        )
        gauge = GaugeMetricFamily(
            "deployflow_open_incidents", "Monitoring incidents still open.", labels=["kind"]
        )
        for kind, n in sorted(counts.items()):
            gauge.add_metric([kind], n)
        if not counts:
            gauge.add_metric(["any"], 0)
        yield gauge

    def _jobs(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "deployflow_job_runs", "Runs of each periodic job, cluster-wide.", labels=["job"]
        )
        started = GaugeMetricFamily(
            "deployflow_job_last_started_timestamp_seconds",
            "When each periodic job last started.",
            labels=["job"],
        )
        success = GaugeMetricFamily(
            "deployflow_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded.",
            labels=["job"],
        )
        outcome = GaugeMetricFamily(
            "deployflow_job_last_outcome",
            "1 for the outcome of each periodic job's last run.",
            labels=["job", "outcome"],
        )
        for row in JobRun.objects.all():
            runs.add_metric([row.name], row.runs)
            started.add_metric([row.name], row.started_at.timestamp())
            if row.last_success_at is not None:
                success.add_metric([row.name], row.last_success_at.timestamp())
            for value in JobOutcome.values:
                outcome.add_metric([row.name, value], 1.0 if row.outcome == value else 0.0)
        yield from (runs, started, success, outcome)


class _ThisProcess:
    """The default registry (this process's WRK latency, CPU, memory), when each process
    is scraped on its own."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return registry


def _authorized(request: HttpRequest) -> int | None:
    """None when the scraper may read the metrics, else the status to answer."""
    token: str = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        ok = bool(token) and scheme.lower() == "bearer"
        return None if ok and hmac.compare_digest(secret.strip(), token) else 401
    if request.user.is_authenticated:
        return None if request.user.is_staff else 403
    return 401


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refused = _authorized(request)
    if refused is not None:
        response = HttpResponse(
            "Send 'Authorization: Bearer <METRICS_TOKEN>', or log in as staff.\n"
            if refused == 401
            else "Only staff may read the metrics.\n",
            status=refused,
            content_type="text/plain; charset=utf-8",
        )
        if refused == 401:
            response["WWW-Authenticate"] = 'Bearer realm="deployflow-metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
