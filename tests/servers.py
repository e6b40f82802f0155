"""Real servers on loopback standing in for what lies outside the project: SMTP and Slack."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())
        raise AssertionError(f"no {content_type} part")


# The longest a stalled message waits for `release`, so that a failed test cannot hang.
STALL_LIMIT = 60.0


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        with self.server.arrived:
            self.server.messages.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), message)
            )
            number = len(self.server.messages)
            self.server.arrived.notify_all()
        if number == self.server.stall_on:
            # Kept but not acknowledged: the sender cannot know that it arrived.
            await asyncio.get_running_loop().run_in_executor(
                None, self.server.release.wait, STALL_LIMIT
            )
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd on loopback. stop() then start() again on the same port simulates an outage.

    With `stall_on = n`, the n-th message is kept but not acknowledged until `release` is set:
    the sender hangs in the middle of a send, as it would on a dying network."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.stall_on: int | None = None
        self.release = threading.Event()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, *, timeout: float) -> None:
        """Until `count` messages have arrived, or fail after `timeout` seconds."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} message(s) arrived, not {count}")

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


class SlackServer:
    """An incoming-webhook endpoint: records each POST, answers the queued statuses (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server.lock:
                    server.requests.append(json.loads(body))
                    status, headers = server.answers.pop(0) if server.answers else (200, {})
                payload = b"ok" if status == 200 else b"error"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/XXXX"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> SlackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
