"""Run events as WRK sends them, and signed webhook requests carrying them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client as HttpClient
from standardwebhooks.webhooks import Webhook

from api.signatures import standard_key, wrk_signature

URL = "/v1/webhooks/wrk/run-events"
BASE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def run(
    workflow_id: str,
    n: int,
    status: str = "success",
    *,
    seconds: float = 2.0,
    error: str | None = None,
    prefix: str = "run",
) -> dict[str, Any]:
    """Run number `n` of a workflow: started n minutes after BASE, lasting `seconds`."""
    started = BASE + timedelta(minutes=n)
    final = status != "running"
    return {
        "id": f"{workflow_id}-{prefix}-{n}",
        "workflow_id": workflow_id,
        "status": status,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(seconds=seconds)).isoformat() if final else None,
        "error": error
        if error is not None
        else ("boom" if status in ("error", "crashed") else None),
    }


def body_of(events: list[dict[str, Any]]) -> bytes:
    return json.dumps({"events": events}).encode()


def wrk_headers(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"X-WRK-Timestamp": str(ts), "X-WRK-Signature": wrk_signature(secret, ts, body)}


def standard_headers(body: bytes, secret: str, *, msg_id: str = "msg_1") -> dict[str, str]:
    now = datetime.now(UTC)
    signature = Webhook(standard_key(secret)).sign(msg_id, now, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def post(
    client: HttpClient,
    body: bytes,
    headers: dict[str, str],
    content_type: str = "application/json",
) -> Any:
    return client.post(URL, body, content_type=content_type, headers=headers)


def send(client: HttpClient, events: list[dict[str, Any]], secret: str) -> Any:
    body = body_of(events)
    return post(client, body, wrk_headers(body, secret))
