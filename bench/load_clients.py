"""The clients of bench/load.py: ops scripts driving the API, in processes of their own.

Each process runs several threads, each one client with its own keep-alive connection, so
that the clients' own Python (the GIL) does not queue their requests and inflate what they
measure. A client picks a project and one of its versions at random, then an action; what
it records is the answer's status and error code, and how long it took.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

# (label, share of the actions); the rest of a draw falls to the last one.
ACTIONS = (
    ("GET version", 0.55),
    ("GET versions of a project", 0.10),
    ("POST approval", 0.12),
    ("PATCH status Live", 0.15),
    ("PATCH status Ready to Launch", 0.08),
)


@dataclass(frozen=True)
class ClientPlan:
    base_url: str
    approver_token: str
    deployer_token: str
    # Per project: its id and its versions' ids.
    projects: list[tuple[int, list[int]]]
    seconds: float
    # Run but not measured first: each gunicorn thread opens its database connection on
    # its first request, and the clients' processes start; a running service is past both.
    warmup: float
    threads: int
    think_ms: float
    seed: int


@dataclass
class Tally:
    """What one process saw: latencies per action, and answers by (action, status, code)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    answers: Counter[tuple[str, int, str]] = field(default_factory=Counter)

    def add(self, label: str, seconds: float | None, status: int, code: str) -> None:
        if seconds is not None:
            self.latencies.setdefault(label, []).append(seconds)
        self.answers[(label, status, code)] += 1

    def merge(self, other: Tally) -> None:
        for label, samples in other.latencies.items():
            self.latencies.setdefault(label, []).extend(samples)
        self.answers.update(other.answers)


def run_process(plan: ClientPlan) -> Tally:
    """A process's clients, until the plan's time is up (the entry point of each process)."""
    measured_from = time.monotonic() + plan.warmup
    tallies = [Tally() for _ in range(plan.threads)]
    threads = [
        threading.Thread(target=_client, args=(plan, measured_from, plan.seed * 1000 + i, tally))
        for i, tally in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def _client(plan: ClientPlan, measured_from: float, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    as_approver = {"Authorization": f"Bearer {plan.approver_token}"}
    as_deployer = {"Authorization": f"Bearer {plan.deployer_token}"}
    api = f"{plan.base_url}/v1"
    deadline = measured_from + plan.seconds
    while time.monotonic() < deadline:
        project_id, version_ids = rng.choice(plan.projects)
        version = f"{api}/automation-versions/{rng.choice(version_ids)}"
        label = _draw(rng.random())
        method, url, headers = "GET", version, as_deployer
        body: dict[str, str] | None = None
        if label == "GET versions of a project":
            url = f"{api}/automation-versions?project={project_id}"
        elif label == "POST approval":
            method, url, headers = "POST", f"{version}/approval", as_approver
        elif label.startswith("PATCH"):
            # The approver may not deploy what they approved: the other ops user deploys.
            method, url = "PATCH", f"{version}/status"
            body = {"status": "Live" if label == "PATCH status Live" else "Ready to Launch"}
        measured = time.monotonic() >= measured_from
        start = time.perf_counter()
        try:
            # A deploy may take as long as its WRK retries (the stale floor, 149 s).
            response = session.request(method, url, headers=headers, json=body, timeout=180)
        except requests.RequestException as exc:
            tally.add(label, time.perf_counter() - start, 0, type(exc).__name__)
            continue
        elapsed = time.perf_counter() - start
        # An answer in the warm-up is not timed, but it is counted like any other: the
        # invariants compare every transition with what the clients were told.
        tally.add(label, elapsed if measured else None, response.status_code, _error_code(response))
        if plan.think_ms:
            time.sleep(rng.expovariate(1000 / plan.think_ms))


def _draw(x: float) -> str:
    for label, share in ACTIONS:
        if x < share:
            return label
        x -= share
    return ACTIONS[-1][0]


def _error_code(response: requests.Response) -> str:
    if response.status_code < 400:
        return ""
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "not-json"
