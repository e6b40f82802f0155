"""`/readyz`: can this process serve? django-health-check runs the checks (each on a thread,
each under a time budget); this module adds the project's own and answers in JSON.

Failing (503): the database does not answer, migrations are not all applied, no task worker
has beaten within WORKER_DEAD_AFTER_SECONDS. Warnings (still 200): WRK is unreachable or
refuses the token (deploys would fail, but everything else works), a periodic job has not
run for two of its intervals (`run_jobs` is not running anywhere).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

from automations.wrk_config import wrk_session
from jobs.models import JobRun
from jobs.schedule import scheduled_jobs
from jobs.selectors import workers_alive
from wrk_client import WrkClient, WrkError, WrkPermanentError

# Looked up on WRK to prove that it answers and takes the token: any id will do, and the
# expected answer is 404.
WRK_PROBE_WORKFLOW = "deployflow-readiness-probe"


def _own_connection[**P, R](check: Callable[P, R]) -> Callable[P, R]:
    """The checks run on executor threads: close the connection each opened, or every
    probe would leave one open on a thread that no request ever cleans up."""

    @functools.wraps(check)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return check(*args, **kwargs)
        finally:
            connection.close()

    return wrapper


_migrations_applied = False


@dataclasses.dataclass
class Migrations(HealthCheck):
    @_own_connection
    def run(self) -> None:
        global _migrations_applied
        # Once all are applied they stay so for this process's code: the graph is not read
        # again on every probe.
        if _migrations_applied:
            return
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise ServiceUnavailable(
                f"{len(pending)} migration(s) not applied, e.g. {pending[0][0]}: "
                "run `manage.py migrate`."
            )
        _migrations_applied = True


@dataclasses.dataclass
class TaskWorker(HealthCheck):
    @_own_connection
    def run(self) -> None:
        within = settings.WORKER_DEAD_AFTER_SECONDS
        if not workers_alive(within_seconds=within).exists():
            raise ServiceUnavailable(
                f"No task worker has written a heartbeat in the last {within:g} s: "
                "notifications are not being sent. Start `manage.py db_worker`."
            )


@dataclasses.dataclass
class PeriodicJobs(HealthCheck):
    @_own_connection
    def run(self) -> None:
        now = timezone.now()
        last = dict(JobRun.objects.values_list("name", "started_at"))
        late = [
            job.name
            for job in scheduled_jobs()
            if (started := last.get(job.name)) is None
            or now - started > datetime.timedelta(seconds=2 * job.every + 60)
        ]
        if late:
            raise ServiceWarning(
                f"Not run lately: {', '.join(late)}. Is `manage.py run_jobs` running?"
            )


@dataclasses.dataclass
class Wrk(HealthCheck):
    timeout = datetime.timedelta(seconds=3)

    def run(self) -> None:
        # Short timeouts (get_workflow never retries): a probe answers within its budget.
        client = WrkClient(
            base_url=settings.WRK_API_BASE_URL,
            token=settings.WRK_API_TOKEN,
            connect_timeout=1.0,
            read_timeout=2.0,
            session=wrk_session(),
        )
        try:
            client.get_workflow(WRK_PROBE_WORKFLOW)
        except WrkPermanentError as exc:
            if exc.status == 404:
                return
            raise ServiceWarning(f"WRK answers but refuses: {exc.message[:200]}") from None
        except WrkError as exc:
            raise ServiceWarning(f"WRK is unreachable: {exc.message[:200]}") from None


class ReadyzView(HealthCheckView):
    checks = (Database, Migrations, TaskWorker, PeriodicJobs, Wrk)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks: dict[str, dict[str, str]] = {}
        failing = warning = False
        for result in results:
            name = type(result.check).__name__.lower()
            if result.error is None:
                checks[name] = {"status": "ok"}
                continue
            is_warning = isinstance(result.error, ServiceWarning)
            failing |= not is_warning
            warning |= is_warning
            checks[name] = {
                "status": "warning" if is_warning else "unavailable",
                "message": result.error.message,
            }
        status = "unavailable" if failing else "warning" if warning else "ok"
        response = JsonResponse(
            {"status": status, "checks": checks}, status=503 if failing else 200
        )
        # Each failing check is already logged as a warning by django-health-check; Django
        # would log the 503 again at ERROR, which is kept for bugs.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
