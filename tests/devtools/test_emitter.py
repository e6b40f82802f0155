"""The stand-in WRK's webhook emitter and its drift controls (issue 8 §8). No database."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from api.signatures import signature_verify
from devtools.fake_wrk import Emitter, FakeWrk

SECRET = "emit-secret"


class Receiver:
    """A webhook endpoint on loopback: records each POST and answers the queued statuses."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def wrk(clock):
    server = FakeWrk(clock=clock, run_interval=10, failure_ratio=0.0).start()
    yield server
    server.stop()


def test_it_posts_the_runs_signed_as_spec_5_says(wrk, clock, receiver):
    wrk.add_workflow("wf-a", active=True)
    clock.now += 33  # runs 0 to 3, the last still running
    emitter = Emitter(wrk, url=receiver.url, secret=SECRET, log=lambda _: None)

    assert emitter.emit_once() == 4

    headers, body = receiver.posts[0]
    assert (
        signature_verify(
            body=body, headers=CaseInsensitiveDict(headers), secrets=[SECRET], now=time.time()
        )
        == "wrk"
    )
    events = json.loads(body)["events"]
    assert [e["id"] for e in events] == [f"wf-a-run-{k}" for k in range(4)]
    assert [e["status"] for e in events] == ["success"] * 3 + ["running"]
    # The running run goes again, final, at a later tick; nothing else does.
    clock.now += 10
    assert emitter.emit_once() == 2
    assert [e["id"] for e in json.loads(receiver.posts[1][1])["events"]] == [
        "wf-a-run-3",
        "wf-a-run-4",
    ]


def test_it_sends_several_workflows_news_in_as_few_batches_as_fit(wrk, clock, receiver):
    for workflow_id in ("wf-a", "wf-b", "wf-c"):
        wrk.add_workflow(workflow_id, active=True)
    clock.now += 25  # 3 runs each
    emitter = Emitter(wrk, url=receiver.url, secret=SECRET, batch=6, log=lambda _: None)

    assert emitter.emit_once() == 9

    batches = [[e["id"] for e in json.loads(body)["events"]] for _, body in receiver.posts]
    assert [len(batch) for batch in batches] == [6, 3]
    assert sorted(run for batch in batches for run in batch) == sorted(
        f"{w}-run-{k}" for w in ("wf-a", "wf-b", "wf-c") for k in range(3)
    )


def test_a_refused_post_keeps_the_cursor(wrk, clock, receiver):
    wrk.add_workflow("wf-a", active=True)
    clock.now += 15
    receiver.statuses = [401]
    lines: list[str] = []
    emitter = Emitter(wrk, url=receiver.url, secret=SECRET, log=lines.append)

    assert emitter.emit_once() == 0
    assert "401" in lines[0]
    assert emitter.emit_once() == 2


def test_the_failure_ratio_decides_the_share_of_failed_runs(clock, receiver):
    wrk = FakeWrk(clock=clock, run_interval=1, failure_ratio=0.5).start()
    try:
        wrk.add_workflow("wf-a", active=True)
        clock.now += 1000
        runs, _ = wrk.runs_page("wf-a", since=0, limit=500)
        errors = sum(run["status"] == "error" for run in runs)
        assert 200 <= errors <= 300
    finally:
        wrk.stop()


def test_the_control_endpoint_switches_a_workflow_off_and_forces_failures(wrk, clock):
    wrk.add_workflow("wf-a", active=True)
    url = f"{wrk.url}/_control/workflow"

    answer = requests.post(url, json={"workflow_id": "wf-a", "fail_runs": 2}, timeout=5)
    assert answer.status_code == 200
    clock.now += 33
    statuses = [run["status"] for run in wrk.runs_page("wf-a", since=0, limit=10)[0]]
    assert statuses == ["error", "error", "success", "running"]

    answer = requests.post(url, json={"workflow_id": "wf-a", "active": False}, timeout=5)
    assert answer.json()["workflows"]["wf-a"]["active"] is False
    assert wrk.is_active("wf-a") is False


@pytest.mark.parametrize(
    "body",
    [
        {"active": False},
        {"workflow_id": "wf-a", "active": "no"},
        {"workflow_id": "wf-a", "fail_runs": -1},
    ],
)
def test_the_control_endpoint_refuses_a_bad_request(wrk, body):
    answer = requests.post(f"{wrk.url}/_control/workflow", json=body, timeout=5)
    assert answer.status_code == 400
