"""The stand-in WRK's webhook: POSTs its workflows' runs, signed, to deployflow.

It sends what `GET …/runs` serves, from a cursor of its own per workflow, so the webhook and
`poll_wrk` see the same run ids and deployflow's dedupe shows. A run still running is sent
again on later ticks until it is final, as WRK would report its progress. A refused or
failed POST keeps the cursor, so the runs go again at the next tick.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import FakeWrk

MAX_BATCH = 1000


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """WRK's signature of SPEC §5: HMAC-SHA256 of "<timestamp>." + body."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-WRK-Timestamp": str(ts),
        "X-WRK-Signature": f"sha256={digest}",
    }


@dataclass
class Emitter:
    wrk: FakeWrk
    url: str
    secret: str
    every: float = 2.0
    batch: int = 500
    timeout: float = 5.0
    log: Callable[[str], None] = print
    cursors: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.batch <= MAX_BATCH:
            raise ValueError(f"batch must be from 1 to {MAX_BATCH}")
        if self.every <= 0:
            raise ValueError("every must be > 0")

    def start(self) -> Emitter:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + self.every)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.emit_once()

    def emit_once(self) -> int:
        """One tick: the news of every workflow, in as few batches as fit (as WRK sends
        them: one POST per workflow and tick would make a burst of requests each tick);
        returns the events sent."""
        sent = 0
        events: list[dict[str, object]] = []
        cursors: dict[str, int] = {}
        for workflow_id in self.wrk.workflow_ids():
            since = self.cursors.get(workflow_id, 0)
            runs, cursor = self.wrk.runs_page(workflow_id, since=since, limit=self.batch)
            if not runs:
                continue
            if len(events) + len(runs) > self.batch:
                sent += self._send(events, cursors)
                events, cursors = [], {}
            events += runs
            cursors[workflow_id] = cursor
        if events:
            sent += self._send(events, cursors)
        self.sent += sent
        return sent

    def _send(self, events: list[dict[str, object]], cursors: dict[str, int]) -> int:
        if not self._post(json.dumps({"events": events}).encode()):
            return 0
        self.cursors.update(cursors)
        return len(events)

    def _post(self, body: bytes) -> bool:
        request = urllib.request.Request(  # noqa: S310 - a URL the developer gave
            self.url, data=body, headers=signed_headers(self.secret, body), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return bool(200 <= response.status < 300)
        except urllib.error.HTTPError as exc:
            self.log(f"webhook answered {exc.code}: {exc.read()[:200]!r}")
        except OSError as exc:
            self.log(f"webhook unreachable: {exc}")
        return False
