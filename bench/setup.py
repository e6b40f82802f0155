"""Shared set-up of the benchmarks: Django on a throw-away PostgreSQL database."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSP_AUDIT = "tests.csp_audit.CspAuditMiddleware"


@contextmanager
def bench_database(name: str) -> Iterator[None]:
    """Set Django up on a fresh `test_<name>` database, dropped afterwards."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "deployflow.settings.test"
    os.environ.setdefault("TEST_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{name}")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # The test suite's CSP audit (tests/csp_audit.py) parses every HTML page it renders, in
    # pure Python; production has no such thing, so the benchmarks measure without it.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CSP_AUDIT]
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], object]) -> float:
    import time

    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_monitored_bindings(count: int, *, prefix: str = "wf-bench") -> list[tuple[int, str]]:
    """`count` Live versions with active, monitored bindings, written in bulk (a deploy per
    binding would spend the benchmark's time on WRK calls). Returns (binding id, workflow id).
    """
    from django.utils import timezone

    from automations.models import AutomationVersion, Client, Project, WorkflowBinding
    from monitoring.models import Monitor

    client = Client.objects.create(name=f"Bench {prefix}", slug=f"bench-{prefix}")
    projects = Project.objects.bulk_create(
        Project(client=client, name=f"{prefix} {i}", slug=f"{prefix}-{i}", status="Live")
        for i in range(count)
    )
    versions = AutomationVersion.objects.bulk_create(
        AutomationVersion(project=project, version="v1", status="Live") for project in projects
    )
    now = timezone.now()
    bindings = WorkflowBinding.objects.bulk_create(
        WorkflowBinding(
            automation_version=version,
            workflow_id=f"{prefix}-{i}",
            status="active",
            monitoring_started_at=now,
        )
        for i, version in enumerate(versions)
    )
    Monitor.objects.bulk_create(Monitor(binding=binding) for binding in bindings)
    return [(binding.pk, binding.workflow_id) for binding in bindings]
