"""Injected faults and answers of the fake WRK Platform (see server.py)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

WRK_OPS = frozenset({"activate", "deactivate", "get", "runs"})


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    # Drop the connection without any HTTP answer instead.
    refuse: bool = False


def json_answer(status: int, payload: Any, *headers: tuple[str, str]) -> Answer:
    return Answer(int(status), json.dumps(payload).encode(), headers)


def error_answer(status: int, message: str, *headers: tuple[str, str]) -> Answer:
    return json_answer(status, {"error": message}, *headers)


@dataclass
class Fault:
    remaining: int
    op: str | None
    workflow_id: str | None
    refuse: bool = False
    status: int = 503
    retry_after: float | None = None
    body: str | None = None

    def __post_init__(self) -> None:
        if self.remaining < 0:
            raise ValueError("the number of faulty calls must be >= 0")
        if self.op is not None and self.op not in WRK_OPS:
            raise ValueError(f"op must be one of {sorted(WRK_OPS)} or None, not {self.op!r}")
        if not 400 <= self.status <= 599:
            raise ValueError(f"a fault answers an HTTP error status (400-599), not {self.status}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")

    def matches(self, op: str, workflow_id: str | None) -> bool:
        return (self.op in (None, op)) and (self.workflow_id in (None, workflow_id))

    def answer(self) -> Answer:
        if self.refuse:
            return Answer(0, refuse=True)
        headers = () if self.retry_after is None else (("Retry-After", f"{self.retry_after:g}"),)
        if self.body is not None:
            return Answer(self.status, self.body.encode(), headers)
        return error_answer(self.status, f"injected fault: HTTP {self.status}", *headers)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "refuse" if self.refuse else "fail",
            "remaining": self.remaining,
            "op": self.op,
            "workflow_id": self.workflow_id,
            "status": None if self.refuse else self.status,
            "retry_after": self.retry_after,
        }


def faults_from_json(spec: Any) -> tuple[list[Fault], float | None]:
    """The faults, and the latency in seconds if any, asked for by `POST /_control/faults`.

    Everything is validated before anything is returned, so that a bad request changes nothing.
    """
    if not isinstance(spec, dict):
        raise TypeError("the body must be a JSON object")
    op = _field(spec, "op", None, str)
    workflow_id = _field(spec, "workflow_id", None, str)
    latency_ms = _field(spec, "latency_ms", None, int, float)
    if latency_ms is not None and latency_ms < 0:
        raise ValueError("latency_ms must be >= 0")
    faults = [
        Fault(
            _field(spec, "fail_next", 0, int),
            op,
            workflow_id,
            status=_field(spec, "status", 503, int),
            retry_after=_field(spec, "retry_after", None, int, float),
        ),
        Fault(_field(spec, "refuse_next", 0, int), op, workflow_id, refuse=True),
    ]
    return faults, None if latency_ms is None else latency_ms / 1000


def _field(spec: dict[str, Any], key: str, default: Any, *kinds: type) -> Any:
    value = spec.get(key, default)
    # bool is an int to Python but not a count or a status to anyone else.
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
        raise TypeError(f"{key} must be {' or '.join(kind.__name__ for kind in kinds)}")
    return value


class Hold:
    """Matching WRK calls wait until `release()`: a gate, so that a test can act while a
    call is in flight instead of guessing with latency. `before` holds the call before WRK
    changes anything; otherwise WRK applies the change and holds back only its answer."""

    def __init__(
        self, op: str | None, workflow_id: str | None, *, before: bool, timeout: float
    ) -> None:
        if op is not None and op not in WRK_OPS:
            raise ValueError(f"unknown op {op!r}; one of {', '.join(sorted(WRK_OPS))}")
        self.op = op
        self.workflow_id = workflow_id
        self.before = before
        self.timeout = timeout
        self.arrived = threading.Event()
        self._released = threading.Event()

    def matches(self, op: str, workflow_id: str | None) -> bool:
        return (self.op in (None, op)) and (self.workflow_id in (None, workflow_id))

    def wait(self) -> None:
        self.arrived.set()
        # Bounded: a test that forgets to release must fail, not hang.
        self._released.wait(self.timeout)

    def wait_arrived(self, timeout: float = 10.0) -> None:
        if not self.arrived.wait(timeout):
            raise AssertionError(f"no {self.op or 'WRK'} call arrived within {timeout} s")

    def release(self) -> None:
        self._released.set()


def workflow_change_from_json(spec: Any) -> tuple[str, bool | None, int]:
    """`POST /_control/workflow`: `{"workflow_id", "active"?, "fail_runs"?}` switches a
    workflow on or off behind deployflow's back (drift) and makes its next runs fail."""
    if not isinstance(spec, dict) or not isinstance(spec.get("workflow_id"), str):
        raise TypeError('send {"workflow_id": "...", "active": bool, "fail_runs": n}')
    active = spec.get("active")
    if active is not None and not isinstance(active, bool):
        raise TypeError("active must be true or false")
    fail_runs = _field(spec, "fail_runs", 0, int)
    if fail_runs < 0:
        raise ValueError("fail_runs must be >= 0")
    return spec["workflow_id"], active, fail_runs
