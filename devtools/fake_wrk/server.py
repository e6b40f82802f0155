"""A local stand-in for the WRK Platform (SPEC §5): a real HTTP server, for the demo and tests.

It speaks the WRK API over real sockets so that the client's timeouts, retries and connection
handling are exercised as in production, and it can be told to misbehave: answer errors,
drop connections, or be slow. It must stay free of Django so that tests can start it anywhere.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .faults import (
    Answer,
    Fault,
    Hold,
    error_answer,
    faults_from_json,
    json_answer,
    workflow_change_from_json,
)
from .handler import Handler
from .runs import Timeline
from .state import timelines_load, timelines_save

DEFAULT_RUNS_LIMIT = 100
MAX_RUNS_LIMIT = 500
_VERB_METHODS = {"": "GET", "runs": "GET", "activate": "PATCH", "deactivate": "PATCH"}
_CONTROL_METHODS = {
    "/_control/state": "GET",
    "/_control/faults": "POST",
    "/_control/reset": "POST",
    "/_control/workflow": "POST",
}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    op: str  # "activate" | "deactivate" | "get" | "runs" | "control" | "unknown"
    workflow_id: str | None
    authorization: str | None
    status: int  # 0 when the connection was dropped without an answer


class FakeWrk:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        auto_create: bool = True,
        latency: float = 0.0,
        run_interval: float = 60.0,
        failure_ratio: float = 0.1,
        call_fail_ratio: float = 0.0,
        seed: int | None = None,
        control: bool = True,
        verbose: bool = False,
        clock: Callable[[], float] = time.time,
        state_path: Path | None = None,
    ) -> None:
        if run_interval <= 0:
            raise ValueError("run_interval must be > 0")
        if not 0 <= failure_ratio <= 1:
            raise ValueError("failure_ratio must be from 0 to 1")
        if not 0 <= call_fail_ratio <= 1:
            raise ValueError("call_fail_ratio must be from 0 to 1")
        self.failure_ratio = failure_ratio
        # The share of WRK API calls answered 503 at random (a flaky platform, for the load
        # test); `seed` makes the draw repeatable.
        self.call_fail_ratio = call_fail_ratio
        self._random = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.token = token
        self.auto_create = auto_create
        self.latency = latency
        self.run_interval = run_interval
        self.control = control
        self.verbose = verbose
        self._initial_latency = latency
        self._clock = clock
        self._lock = threading.Lock()
        # Where the workflows are kept across restarts (the demo's); None: in memory only.
        self._state_path = state_path
        self._workflows: dict[str, Timeline] = timelines_load(state_path) if state_path else {}
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self._connections: set[socket.socket] = set()
        # Bound now, so that `url` is known (port 0 picks a free port) before start().
        self._server = ThreadingHTTPServer((host, port), partial(Handler, wrk=self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeWrk:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._close()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._close()

    def _close(self) -> None:
        # Keep-alive connections would otherwise go on being served after the server stops.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # --- test and demo controls ----------------------------------------------------------

    def add_workflow(self, workflow_id: str, *, active: bool = False) -> None:
        with self._lock:
            timeline = self._workflows.setdefault(workflow_id, Timeline())
            if active and not timeline.active:
                timeline.activate(self._clock())
            elif not active and timeline.active:
                timeline.deactivate(self._clock())
            self._save()

    def _save(self) -> None:
        """Called with the lock held, after a workflow changed."""
        if self._state_path is not None:
            timelines_save(self._state_path, self._workflows)

    def fail_runs(self, workflow_id: str, n: int) -> None:
        """The workflow's next `n` runs fail (to show a failing incident)."""
        with self._lock:
            timeline = self._workflows.setdefault(workflow_id, Timeline())
            timeline.fail_next(n, now=self._clock(), interval=self.run_interval)

    def workflow_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._workflows)

    def runs_page(
        self, workflow_id: str, *, since: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The page of runs `GET …/runs` answers, for the emitter as for the endpoint."""
        with self._lock:
            timeline = self._workflows.get(workflow_id)
            if timeline is None:
                return [], since
            return timeline.runs(
                workflow_id,
                since=since,
                limit=limit,
                now=self._clock(),
                interval=self.run_interval,
                failure_ratio=self.failure_ratio,
            )

    def is_active(self, workflow_id: str) -> bool | None:
        with self._lock:
            timeline = self._workflows.get(workflow_id)
            return None if timeline is None else timeline.active

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_for(self, op: str, workflow_id: str | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.op == op and (workflow_id is None or call.workflow_id == workflow_id)
        ]

    def fail_next(
        self,
        n: int,
        *,
        status: int = 503,
        op: str | None = None,
        workflow_id: str | None = None,
        retry_after: float | None = None,
        body: str | None = None,
    ) -> None:
        self._add_faults(
            Fault(n, op, workflow_id, status=status, retry_after=retry_after, body=body)
        )

    def hold(
        self,
        *,
        op: str | None = None,
        workflow_id: str | None = None,
        before: bool = True,
        timeout: float = 30.0,
    ) -> Hold:
        """Make matching calls wait until the returned gate is released (see `Hold`)."""
        gate = Hold(op, workflow_id, before=before, timeout=timeout)
        with self._lock:
            self._holds.append(gate)
        return gate

    def refuse_next(self, n: int, *, op: str | None = None, workflow_id: str | None = None) -> None:
        self._add_faults(Fault(n, op, workflow_id, refuse=True))

    def _add_faults(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(fault for fault in faults if fault.remaining)

    def reset(self) -> None:
        """Forget calls and faults, injected latency included; workflows stay as they are."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            holds, self._holds = self._holds, []
            self.latency = self._initial_latency
        for gate in holds:
            gate.release()

    def _state(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            return {
                "workflows": {
                    workflow_id: {
                        "active": timeline.active,
                        "runs": timeline.run_count(now, self.run_interval),
                    }
                    for workflow_id, timeline in sorted(self._workflows.items())
                },
                "calls": dict(Counter(call.op for call in self._calls)),
                "faults": [fault.describe() for fault in self._faults],
                "latency_ms": round(self.latency * 1000),
                "auto_create": self.auto_create,
                "auth_required": self.token is not None,
            }

    # --- request handling ----------------------------------------------------------------

    def _answer(self, method: str, target: str, authorization: str | None, body: bytes) -> Answer:
        """Answers one request and records it, before the answer is sent: a client that has
        its answer must find its call in `calls`."""
        split = urlsplit(target)
        op, workflow_id, expected = _resolve(split.path, control=self.control)
        if expected is None:
            answer = error_answer(HTTPStatus.NOT_FOUND, f"no such endpoint: {split.path}")
        elif method != expected:
            answer = error_answer(
                HTTPStatus.METHOD_NOT_ALLOWED, f"use {expected}", ("Allow", expected)
            )
            op = "unknown"
        elif op == "control":
            answer = self._control(split.path, body)
        else:
            answer = self._wrk_call(op, workflow_id, parse_qs(split.query), authorization)
        with self._lock:
            self._calls.append(
                Call(method, split.path, op, workflow_id, authorization, answer.status)
            )
        return answer

    def _wrk_call(
        self, op: str, workflow_id: str | None, query: dict[str, list[str]], auth: str | None
    ) -> Answer:
        assert workflow_id is not None  # every WRK endpoint is under a workflow
        latency = self.latency
        if latency > 0:
            time.sleep(latency)
        with self._lock:
            gate = next((g for g in self._holds if g.matches(op, workflow_id)), None)
        if gate is not None and gate.before:
            gate.wait()
        answer = self._wrk_answer(op, workflow_id, query, auth)
        if gate is not None and not gate.before:
            gate.wait()
        return answer

    def _wrk_answer(
        self, op: str, workflow_id: str, query: dict[str, list[str]], auth: str | None
    ) -> Answer:
        with self._lock:
            fault = next((f for f in self._faults if f.matches(op, workflow_id)), None)
            if fault is not None:
                fault.remaining -= 1
                if not fault.remaining:
                    self._faults.remove(fault)
            elif self.call_fail_ratio and self._random.random() < self.call_fail_ratio:
                fault = Fault(1, op, workflow_id)
        # Faults come before authentication: an outage answers whatever the credentials.
        if fault is not None:
            return fault.answer()
        if self.token is not None and not hmac.compare_digest(
            (auth or "").encode(), f"Bearer {self.token}".encode()
        ):
            return error_answer(
                HTTPStatus.UNAUTHORIZED,
                "missing or invalid bearer token",
                ("WWW-Authenticate", "Bearer"),
            )
        with self._lock:
            timeline = self._workflows.get(workflow_id)
            if timeline is None and self.auto_create:
                timeline = self._workflows[workflow_id] = Timeline()
            if timeline is None:
                return error_answer(HTTPStatus.NOT_FOUND, f"unknown workflow {workflow_id}")
            if op == "runs":
                return self._runs(workflow_id, timeline, query)
            if op != "get":
                wanted = op == "activate"
                if timeline.active is wanted:
                    return error_answer(
                        HTTPStatus.CONFLICT, f"already {'active' if wanted else 'inactive'}"
                    )
                if wanted:
                    timeline.activate(self._clock())
                else:
                    timeline.deactivate(self._clock())
                self._save()
            return json_answer(HTTPStatus.OK, {"id": workflow_id, "active": timeline.active})

    def _runs(self, workflow_id: str, timeline: Timeline, query: dict[str, list[str]]) -> Answer:
        since_raw = query.get("since", ["0"])[-1]
        limit_raw = query.get("limit", [str(DEFAULT_RUNS_LIMIT)])[-1]
        if not since_raw.isdecimal():
            return error_answer(HTTPStatus.BAD_REQUEST, f"invalid cursor {since_raw!r}")
        if not limit_raw.isdecimal() or not 1 <= int(limit_raw) <= MAX_RUNS_LIMIT:
            return error_answer(
                HTTPStatus.BAD_REQUEST, f"limit must be an integer from 1 to {MAX_RUNS_LIMIT}"
            )
        runs, cursor = timeline.runs(
            workflow_id,
            since=int(since_raw),
            limit=int(limit_raw),
            now=self._clock(),
            interval=self.run_interval,
            failure_ratio=self.failure_ratio,
        )
        return json_answer(HTTPStatus.OK, {"runs": runs, "next_cursor": str(cursor)})

    def _control_workflow(self, spec: Any) -> None:
        """Change a workflow behind deployflow's back (see `workflow_change_from_json`)."""
        workflow_id, active, fail_runs = workflow_change_from_json(spec)
        if active is not None:
            self.add_workflow(workflow_id, active=active)
        if fail_runs:
            self.fail_runs(workflow_id, fail_runs)

    def _control(self, path: str, body: bytes) -> Answer:
        if path == "/_control/reset":
            self.reset()
        elif path == "/_control/workflow":
            try:
                self._control_workflow(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return error_answer(HTTPStatus.BAD_REQUEST, str(exc))
        elif path == "/_control/faults":
            try:
                faults, latency = faults_from_json(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return error_answer(HTTPStatus.BAD_REQUEST, str(exc))
            self._add_faults(*faults)
            if latency is not None:
                self.latency = latency
        return json_answer(HTTPStatus.OK, self._state())


def _resolve(path: str, *, control: bool) -> tuple[str, str | None, str | None]:
    """(op, workflow id, the one method the path answers); the method is None for no endpoint."""
    parts = path.split("/")
    # "/wrk-api/workflows/<id>[/<verb>]": ids come percent-encoded, so "/" never splits one.
    if parts[1:3] == ["wrk-api", "workflows"] and len(parts) in (4, 5) and parts[3]:
        verb = parts[4] if len(parts) == 5 else ""
        if verb in _VERB_METHODS:
            return verb or "get", unquote(parts[3]), _VERB_METHODS[verb]
    if control and path in _CONTROL_METHODS:
        return "control", None, _CONTROL_METHODS[path]
    return "unknown", None, None
