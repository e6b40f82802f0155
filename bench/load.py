"""The load test of `make serve` (issue 11), printed: `python -m bench.load`.

It starts the production stack exactly as `make serve` does (bin/serve: gunicorn, WhiteNoise,
the task worker, the periodic jobs, production settings) on a throw-away PostgreSQL
database, with a stand-in WRK answering every call in 50 ms and failing 10 % of them
transiently, a local SMTP server and a local Slack webhook. 32 clients (ops scripts on the
API, in several processes) then deploy, restage, approve and read versions across 50
projects for 60 s while the stand-in streams signed run events to the webhook. When the
load stops, the stack is let to finish its deliveries and stopped, and the database is
checked against WRK's call log, the inboxes and what the clients were told
(bench/load_checks.py).

Approval is required (DEPLOY_REQUIRE_APPROVAL=1): one ops user approves, the other deploys.
Each client pauses `--think-ms` on average (exponentially distributed, 500 ms by default)
between two requests, so the 32 clients ask about 57 requests/s: 32 scripts polling twice
a second is already more than an agency's ops team makes. `--think-ms 0` hammers the stack
as fast as it answers, which measures this machine's CPUs (shared here by the stack,
PostgreSQL and the load generator) rather than the app; the README gives both.

Goal: zero violations, and p99 of `GET /v1/automation-versions/{id}` under 50 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import requests

from devtools.fake_wrk import Emitter, FakeWrk
from tests.servers import SlackServer, SmtpServer, free_port

from .load_clients import ACTIONS, ClientPlan, Tally, run_process

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("LOAD_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "deployflow_load"
OPS_EMAILS = "ops-a@agency.example,ops-b@agency.example"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--seconds", type=float, default=60, help="measured")
    parser.add_argument("--warmup", type=float, default=5, help="seconds run before measuring")
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--versions", type=int, default=3, help="versions per project")
    parser.add_argument("--think-ms", type=float, default=500)
    parser.add_argument("--wrk-latency-ms", type=float, default=50)
    parser.add_argument("--wrk-fail-ratio", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.clients % args.processes:
        parser.error("--clients must be a multiple of --processes")

    stack = ExitStack()
    try:
        wrk = FakeWrk(
            token=secrets.token_urlsafe(24),
            latency=args.wrk_latency_ms / 1000,
            call_fail_ratio=args.wrk_fail_ratio,
            seed=args.seed,
            run_interval=2.0,
        ).start()
        stack.callback(wrk.stop)
        smtp = SmtpServer().start()
        stack.callback(smtp.stop)
        slack = SlackServer().start()
        stack.callback(slack.stop)
        env = _stack_environment(wrk, smtp, slack)
        _database_create()
        stack.callback(_database_drop)
        os.environ.update(env)
        base_url = f"http://127.0.0.1:{env['PORT']}"

        say(f"Starting the stack (bin/serve, logs in {env['LOAD_LOG']})...")
        serve = _serve(env)
        stack.callback(_stop, serve)
        _wait_ready(base_url, serve)
        plan = _seed(base_url, args, wrk)

        emitter = _TimedEmitter(
            wrk,
            url=f"{base_url}/v1/webhooks/wrk/run-events",
            secret=env["WRK_WEBHOOK_SECRET"],
            every=1.0,
            batch=1000,
            log=lambda line: say(f"  emitter: {line}"),
        )
        emitter.start()
        say(
            f"Load: {args.clients} clients ({args.processes} processes) for {args.seconds:g} s "
            f"on {args.projects} projects; WRK {args.wrk_latency_ms:g} ms, "
            f"{args.wrk_fail_ratio:.0%} of calls failing..."
        )
        tally, busy = _load(plan, args)
        emitter.stop()
        tally.merge(emitter.tally)

        say("Load stopped; waiting for the worker to send every delivery...")
        settled = _settle(timeout=180)
        _stop(serve)

        from bench.load_checks import run_checks

        checks = run_checks(wrk=wrk, smtp=smtp, slack=slack, tally=tally)
        _report(tally, busy, checks, settled, wrk, args)
        return 0 if all(not check.violations for check in checks) and settled else 1
    finally:
        stack.close()


class _TimedEmitter(Emitter):
    """The stand-in's webhook sender, timing each POST as the clients time theirs."""

    tally: Tally

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tally = Tally()

    def _post(self, body: bytes) -> bool:
        start = time.perf_counter()
        ok = super()._post(body)
        self.tally.add(
            "POST run-events (webhook)",
            time.perf_counter() - start,
            200 if ok else 0,
            "" if ok else "refused",
        )
        return ok


def _stack_environment(wrk: FakeWrk, smtp: SmtpServer, slack: SlackServer) -> dict[str, str]:
    log = ROOT / "var" / "log" / "load-serve.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return {
        "DATABASE_URL": f"{ADMIN_URL.rsplit('/', 1)[0]}/{DATABASE}",
        "DJANGO_SETTINGS_MODULE": "deployflow.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback, no TLS proxy in front: what bin/serve's try-out does.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "SERVE_TRYOUT": "1",
        "PORT": str(free_port()),
        "WRK_API_BASE_URL": wrk.url,
        "WRK_API_TOKEN": str(wrk.token),
        "WRK_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "SLACK_WEBHOOK_URL": slack.url,
        "OPS_EMAILS": OPS_EMAILS,
        "DEPLOY_REQUIRE_APPROVAL": "1",
        "LOG_FORMAT": "json",
        "LOAD_LOG": str(log),
    }


def _database_create() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def _database_drop() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def _serve(env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(env["LOAD_LOG"], "wb")  # noqa: SIM115 - the child writes it until it stops
    return subprocess.Popen(
        [str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(serve: subprocess.Popen[bytes]) -> None:
    """bin/serve stops gunicorn, the worker and the jobs on SIGTERM."""
    if serve.poll() is None:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def _wait_ready(base_url: str, serve: subprocess.Popen[bytes]) -> None:
    """Until /readyz says the database, the migrations and the worker's heartbeat are there."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise SystemExit(f"bin/serve stopped (exit {serve.returncode}); see its log")
        try:
            if requests.get(f"{base_url}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("the stack was not ready within 180 s; see its log")


def _seed(base_url: str, args: argparse.Namespace, wrk: FakeWrk) -> ClientPlan:
    """Three ops users (a build bot registering versions, an approver, a deployer), the
    projects, and their versions registered and marked ready through the API itself."""
    import logging

    import django

    django.setup()
    # The local SMTP server (aiosmtpd) logs every command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from django.contrib.auth.models import Group, User

    from api.services import api_token_create
    from automations.models import Client, Project
    from automations.selectors import OPS_GROUP

    ops = Group.objects.get(name=OPS_GROUP)
    tokens = {}
    for name in ("build-bot", "ops-a", "ops-b"):
        user = User.objects.create_user(name, f"{name}@agency.example", is_staff=True)
        user.groups.add(ops)
        tokens[name] = api_token_create(user=user, name="load")[1]
    client = Client.objects.create(name="Load Co", slug="load-co", contact_email="it@load.example")
    projects = Project.objects.bulk_create(
        Project(client=client, name=f"Load {i}", slug=f"load-{i}") for i in range(args.projects)
    )
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tokens['build-bot']}"
    plan_projects = []
    for project in projects:
        ids = []
        for n in range(1, args.versions + 1):
            answer = session.post(
                f"{base_url}/v1/automation-versions",
                json={
                    "project": project.pk,
                    "version": f"v{n}",
                    "workflow_id": f"wf-{project.slug}-v{n}",
                },
                timeout=30,
            )
            answer.raise_for_status()
            version_id = answer.json()["id"]
            session.patch(
                f"{base_url}/v1/automation-versions/{version_id}/status",
                json={"status": "Ready to Launch"},
                timeout=30,
            ).raise_for_status()
            ids.append(version_id)
        plan_projects.append((project.pk, ids))
    wrk.reset()  # the load's calls only, in the log the checks read
    return ClientPlan(
        base_url=base_url,
        approver_token=tokens["ops-a"],
        deployer_token=tokens["ops-b"],
        projects=plan_projects,
        seconds=args.seconds,
        warmup=args.warmup,
        threads=args.clients // args.processes,
        think_ms=args.think_ms,
        seed=args.seed,
    )


def _load(plan: ClientPlan, args: argparse.Namespace) -> tuple[Tally, float]:
    """The clients' tally, and how busy the machine's CPUs were while it was measured."""
    plans = [dataclasses.replace(plan, seed=plan.seed * 100 + i) for i in range(args.processes)]
    # spawn: the clients need none of this process's Django, servers or threads.
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        pending = pool.map_async(run_process, plans)
        time.sleep(args.warmup)
        cpu_before = _cpu_ticks()
        tallies = pending.get()
        busy = _busy_share(cpu_before, _cpu_ticks())
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, busy


def _settle(*, timeout: float) -> bool:
    """Until no delivery is pending or being sent (the outbox drained), or the timeout."""
    from notifications.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = Delivery.objects.filter(
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING)
        ).count()
        if not waiting:
            return True
        time.sleep(1)
    say(f"  {waiting} deliveries still waiting after {timeout:g} s")
    return False


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (Linux)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def _report(
    tally: Tally,
    busy: float,
    checks: list[Any],
    settled: bool,
    wrk: FakeWrk,
    args: argparse.Namespace,
) -> None:
    timed = sum(len(samples) for samples in tally.latencies.values())
    print(
        f"\n{timed} requests in {args.seconds:g} s (after {args.warmup:g} s of warm-up): "
        f"{timed / args.seconds:.0f} requests/s; the "
        f"machine's {os.cpu_count()} CPUs (stack, PostgreSQL and load generator) "
        f"{busy:.0%} busy"
    )
    print(f"{'endpoint':34} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}  answers (warm-up included)")
    order = [label for label, _ in ACTIONS] + ["POST run-events (webhook)"]
    for label in order:
        samples = sorted(tally.latencies.get(label, []))
        if not samples:
            continue
        answers = ", ".join(
            f"{n} {status}{' ' + code if code else ''}"
            for (lab, status, code), n in sorted(tally.answers.items())
            if lab == label
        )
        print(
            f"{label:34} {len(samples):6} {_pct(samples, 50):8.1f} {_pct(samples, 99):8.1f}  "
            f"{answers}"
        )
    calls = wrk.calls
    failed = sum(1 for call in calls if call.status >= 500)
    print(f"WRK: {len(calls)} calls, {failed} answered 5xx ({failed / max(1, len(calls)):.1%})")
    from monitoring.models import RunEvent

    print(f"Run events stored: {RunEvent.objects.count()}")
    print("\nInvariants:")
    for check in checks:
        verdict = "ok" if not check.violations else f"{len(check.violations)} VIOLATIONS"
        print(f"  {check.name}: {verdict}{' (' + check.detail + ')' if check.detail else ''}")
        for line in check.violations[:10]:
            print(f"    - {line}")
    if not settled:
        print("  the outbox did not drain: see above")
    p99 = _pct(sorted(tally.latencies.get("GET version", [0.0])), 99)
    print(
        f"\nGoal: p99 of GET /v1/automation-versions/{{id}} under 50 ms: {p99:.1f} ms "
        f"({'met' if p99 < 50 else 'NOT met'}); think time {args.think_ms:g} ms"
    )


def _pct(sorted_seconds: list[float], pct: float) -> float:
    if len(sorted_seconds) == 1:
        return sorted_seconds[0] * 1000
    return statistics.quantiles(sorted_seconds, n=100, method="inclusive")[int(pct) - 1] * 1000


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
