"""Deploy benchmark (issue 2). Run: `.venv/bin/python -m bench.deploy [--deploys N]`.

1. Queries per deploy, with 1 and 500 collaborators and with 1 and 1,000 archived versions:
   the count must not grow with either (goal: <= 25).
2. Median wall time of the deploy service, WRK answering at once (an in-process stand-in:
   a requests transport adapter, no socket), beside baselines measured in the same run:
   the same rows written with raw SQL in one transaction (the floor of the goal: within
   3x), and in the two transactions the design needs (no transaction may stay open across
   a WRK call). For reference, the same with the `fake_wrk` HTTP server on loopback.
3. Where the time goes: the service's steps timed one by one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import uuid
from functools import partial
from typing import Any

import requests
from requests.adapters import BaseAdapter

from .setup import bench_database, median_ms, timed

INSTANT_WRK = "http://wrk.in-process"


class InstantWrk(BaseAdapter):
    """WRK answering at once, inside this process: every activate/deactivate succeeds."""

    def send(  # type: ignore[override]  # requests passes its options by keyword
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = request.url or ""
        workflow_id = url.split("/wrk-api/workflows/", 1)[1].split("/", 1)[0]
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(
            {"id": workflow_id, "active": not url.endswith("/deactivate")}
        ).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        response.request = request
        return response

    def close(self) -> None:
        pass


_seq = itertools.count(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deploys", type=int, default=200)
    args = parser.parse_args()
    with bench_database("deployflow_bench"):
        run(args.deploys)


def run(deploys: int) -> None:
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from automations.deploy import automation_version_deploy
    from automations.models import AutomationVersion, Client, Project, VersionStatus
    from automations.services import automation_version_stage, workflow_binding_create
    from automations.wrk_config import wrk_session
    from devtools.fake_wrk import FakeWrk

    wrk = FakeWrk(token=settings.WRK_API_TOKEN).start()
    settings.WRK_API_BASE_URL = wrk.url
    ops_group = Group.objects.get(name="Ops")

    def user(ops: bool = False) -> User:
        n = next(_seq)
        u = User.objects.create_user(f"u{n}", f"u{n}@example.com", "pw", is_staff=ops)
        if ops:
            u.groups.add(ops_group)
        return u

    deployer = user(ops=True)

    def project(collaborators: int, archived: int) -> Project:
        n = next(_seq)
        client = Client.objects.create(name=f"C{n}", slug=f"c{n}", contact_email="c@x.example")
        p = Project.objects.create(client=client, name=f"P{n}", slug=f"p{n}")
        users = User.objects.bulk_create(
            User(username=f"collab{n}-{i}", email=f"collab{n}-{i}@x.example")
            for i in range(collaborators)
        )
        p.collaborators.add(*users)
        AutomationVersion.objects.bulk_create(
            AutomationVersion(project=p, version=f"old-{i}", status=VersionStatus.ARCHIVED)
            for i in range(archived)
        )
        return p

    def ready(p: Project) -> AutomationVersion:
        v = AutomationVersion.objects.create(project=p, version=f"v{next(_seq)}")
        workflow_binding_create(version=v, workflow_id=f"wf-{p.slug}-{v.version}")
        automation_version_stage(version_id=v.pk, actor=None, source="command")
        return v

    def deploy(v: AutomationVersion) -> None:
        # A fresh user object: its permission cache is cold, as in a new request.
        actor = User.objects.get(pk=deployer.pk)
        automation_version_deploy(version_id=v.pk, actor=actor, source="api")

    # --- 1. queries per deploy ------------------------------------------------------------
    counts: dict[str, int] = {}
    for label, collaborators, archived in [
        ("1 collaborator, 1 archived", 1, 1),
        ("500 collaborators, 1 archived", 500, 1),
        ("1 collaborator, 1,000 archived", 1, 1000),
        ("500 collaborators, 1,000 archived", 500, 1000),
    ]:
        p = project(collaborators, archived)
        deploy(ready(p))  # a Live version to archive, so every deploy archives one
        v = ready(p)
        with CaptureQueriesContext(connection) as queries:
            deploy(v)
        counts[label] = len(queries)
    print("Queries per deploy (each archives and deactivates a previous Live version):")
    for label, count in counts.items():
        print(f"  {label:<36} {count:>3}")
    flat = len(set(counts.values())) == 1
    print(f"  constant: {'yes' if flat else 'NO'}; goal <= 25: {max(counts.values()) <= 25}")

    # --- 2. time per deploy vs raw SQL -----------------------------------------------------
    collaborators = 10

    def prepared(p: Project) -> list[AutomationVersion]:
        deploy(ready(p))
        return [ready(p) for _ in range(deploys)]

    wrk_session().mount(INSTANT_WRK, InstantWrk())
    settings.WRK_API_BASE_URL = INSTANT_WRK
    service_versions = prepared(project(collaborators, 0))
    p_raw = project(collaborators, 0)
    raw_versions = [ready(p_raw) for _ in range(deploys + 1)]
    collaborator_ids = list(p_raw.collaborators.values_list("pk", flat=True))
    p_raw2 = project(collaborators, 0)
    raw2_versions = [ready(p_raw2) for _ in range(deploys + 1)]
    raw_deploy(raw_versions[0], None, collaborator_ids)
    raw_deploy(raw2_versions[0], None, collaborator_ids, transactions=2)
    # Interleaved, so that all see the same machine: this one has 2 shared cores.
    service_samples: list[float] = []
    raw_samples: list[float] = []
    raw2_samples: list[float] = []
    for i, version in enumerate(service_versions):
        service_samples.append(timed(partial(deploy, version)))
        prev, new = raw_versions[i], raw_versions[i + 1]
        raw_samples.append(timed(partial(raw_deploy, new, prev, collaborator_ids)))
        prev, new = raw2_versions[i], raw2_versions[i + 1]
        raw2_samples.append(timed(partial(raw_deploy, new, prev, collaborator_ids, transactions=2)))
    service = median_ms(service_samples)
    phases = time_phases(prepared(project(collaborators, 0)), deployer.pk)

    settings.WRK_API_BASE_URL = wrk.url
    loopback = median_ms([timed(partial(deploy, v)) for v in prepared(project(collaborators, 0))])

    raw, raw2 = median_ms(raw_samples), median_ms(raw2_samples)
    print(f"\nMedian over {deploys} deploys ({collaborators} collaborators each):")
    print(f"  deploy service, WRK in-process   {service:8.2f} ms")
    print(f"  raw SQL, same rows, 1 txn        {raw:8.2f} ms")
    print(f"  ratio                            {service / raw:8.2f}x   (goal <= 3x)")
    print(f"  raw SQL, same rows, 2 txns       {raw2:8.2f} ms   (the design's two transactions)")
    print(f"  ratio to that                    {service / raw2:8.2f}x")
    print(f"  deploy service, fake_wrk on HTTP {loopback:8.2f} ms   (for reference)")
    print("\nWhere the time goes (median per step, the service's steps called one by one):")
    for label, ms in phases.items():
        print(f"  {label:<44} {ms:6.2f} ms")
    print(f"  {'sum':<44} {sum(phases.values()):6.2f} ms")
    wrk.stop()


def time_phases(versions: list[Any], deployer_id: int) -> dict[str, float]:
    """The steps of `automation_version_deploy`, in its order, each timed."""
    from django.contrib.auth.models import User

    from automations import deploy
    from automations.deactivate import wrk_deactivate
    from automations.plan import require_deploy_permission
    from automations.wrk_config import wrk_client

    samples: dict[str, list[float]] = {
        "permission (1 query)": [],
        "claim: lock, plan, insert (1 txn)": [],
        "WRK activate (in-process)": [],
        "WRK deactivate the previous (in-process)": [],
        "record: Live, archive, audit, notify (1 txn)": [],
    }
    steps = list(samples.values())
    for version in versions:
        actor = User.objects.get(pk=deployer_id)
        steps[0].append(timed(partial(require_deploy_permission, actor=actor)))
        started = time.perf_counter()
        deployment = deploy.deployment_claim(version_id=version.pk, actor=actor, source="api")
        steps[1].append(time.perf_counter() - started)
        steps[2].append(timed(partial(wrk_client().activate, deployment.workflow_id)))
        assert deployment.previous_version is not None  # every deploy here replaces one
        old = deployment.previous_version.workflow_binding
        steps[3].append(timed(partial(wrk_deactivate, binding=old)))
        steps[4].append(
            timed(partial(deploy.deployment_complete, deployment=deployment, attempts=1))
        )
    # The record step above deactivated once more (WRK answers at once): subtract it.
    medians = {label: median_ms(values) for label, values in samples.items()}
    label = "record: Live, archive, audit, notify (1 txn)"
    medians[label] -= medians["WRK deactivate the previous (in-process)"]
    return medians


def raw_deploy(
    version: Any, previous: Any | None, collaborator_ids: list[int], transactions: int = 1
) -> None:
    """The rows a deploy writes, by hand: in one transaction, the floor to compare with; in
    two, what is left of it once the claim must commit before WRK is called."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    project_id = version.project_id
    meta = json.dumps({"source": "api", "workflow_id": f"wf-{version.pk}", "attempts": 1})
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO deployments (project_id, automation_version_id, workflow_id, source,"
            " status, is_rollback, attempts, error, started_at) VALUES"
            " (%s, %s, %s, 'api', 'in_progress', false, 0, '', %s) RETURNING id",
            [project_id, version.pk, f"wf-{version.pk}", now],
        )
        deployment_id = cur.fetchone()[0]
        if transactions == 2:
            cur.execute("COMMIT")
            cur.execute("BEGIN")
        if previous is not None:
            cur.execute(
                "UPDATE automation_versions SET status = 'Archived', updated_at = %s WHERE id = %s",
                [now, previous.pk],
            )
        cur.execute(
            "UPDATE automation_versions SET status = 'Live', updated_at = %s WHERE id = %s",
            [now, version.pk],
        )
        cur.execute(
            "UPDATE projects SET status = 'Live', updated_at = %s WHERE id = %s", [now, project_id]
        )
        cur.execute(
            "UPDATE workflow_bindings SET status = 'active', monitoring_started_at = %s,"
            " updated_at = %s WHERE automation_version_id = %s",
            [now, now, version.pk],
        )
        audit = [("deploy", version.pk)]
        if previous is not None:
            cur.execute(
                "UPDATE workflow_bindings SET status = 'inactive', updated_at = %s"
                " WHERE automation_version_id = %s",
                [now, previous.pk],
            )
            audit += [("archive", previous.pk), ("deactivate", previous.pk)]
        cur.executemany(
            "INSERT INTO audit_logs (actor_id, actor_username, action_type, resource_type,"
            " resource_id, project_id, metadata, created_at)"
            " VALUES (NULL, 'bench', %s, 'automation_version', %s, %s, %s, %s)",
            [(action, str(pk), project_id, meta, now) for action, pk in audit],
        )
        cur.executemany(
            "INSERT INTO notifications (recipient_id, kind, title, body, link, created_at)"
            " VALUES (%s, 'automation_live', 'Live', '', '', %s)",
            [(user_id, now) for user_id in collaborator_ids],
        )
        cur.executemany(
            "INSERT INTO notification_deliveries (channel, template, recipient, payload, status,"
            " attempts, interruptions, last_error, created_at, updated_at)"
            " VALUES ('email', %s, %s, %s, 'pending', 0, 0, '', %s, %s)",
            [
                ("automation_live", "c@x.example", meta, now, now),
                ("deployment_success", "ops@x.example", meta, now, now),
            ],
        )
        cur.execute(
            "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at,"
            " args_kwargs, priority, task_path, worker_ids, queue_name, backend_name,"
            " run_after, exception_class_path, traceback) VALUES (%s, 'READY', %s, %s, 0,"
            " 'notifications.tasks.deliver_notifications', '[]', 'default', 'default', %s,"
            " '', '')",
            [uuid.uuid4(), now, json.dumps({"args": [], "kwargs": {"delivery_ids": [1, 2]}}), now],
        )
        cur.execute(
            "UPDATE deployments SET status = 'succeeded', finished_at = %s WHERE id = %s",
            [now, deployment_id],
        )


if __name__ == "__main__":
    main()
