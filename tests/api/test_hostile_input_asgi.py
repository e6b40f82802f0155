"""Issue 7 (A4) under ASGI: the server hands Django the whole body, chunked or with an
understated Content-Length, so the body's real size decides the 413."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from automations.models import VersionStatus

from .hostile import MIB, status_of, status_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_error_logs")]


@pytest.fixture
def asgi() -> Iterator[None]:
    """Like Django's test clients: the test's transaction outlives each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def asgi_patch(
    path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, Any]:
    """A PATCH through Django's ASGI handler, the body in several messages as a server
    streams a chunked request; returns the status and the JSON body."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected; Django cancels this wait
        raise AssertionError("unreachable")

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    async_to_sync(ASGIHandler())(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert dict(start["headers"])[b"Content-Type"] == b"application/json"
    return start["status"], json.loads(body)


@pytest.mark.parametrize(
    ("size", "headers"),
    [
        (2 * MIB, []),
        (2 * MIB, [(b"content-length", b"100")]),
        (3 * MIB, []),
    ],
    ids=["chunked", "larger-than-announced", "over-django-upload-limit"],
)
def test_under_asgi_a_body_found_over_the_limit_gets_413(asgi, live_project, size, headers):
    _, _, v2 = live_project
    body = b'{"status": "Live", "pad": "' + b"x" * size + b'"}'
    chunks = [body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]
    status, answer = asgi_patch(status_url(v2), chunks, headers)
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"
    assert status_of(v2) == VersionStatus.READY


def test_under_asgi_a_small_chunked_body_reaches_the_view(asgi, live_project):
    _, _, v2 = live_project
    status, answer = asgi_patch(status_url(v2), [b'{"status": ', b'"Live"}'], [])
    assert status == 401
    assert answer["error"]["code"] == "unauthenticated"
