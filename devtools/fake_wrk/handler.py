"""The HTTP side of the fake WRK Platform: one handler per connection, keep-alive, answers
decided by `FakeWrk._answer`."""

from __future__ import annotations

import socket
import struct
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeWrk


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeWRK/1.0"

    def __init__(self, *args: Any, wrk: FakeWrk, **kwargs: Any) -> None:
        # Set before super().__init__(), which handles the whole connection.
        self.wrk = wrk
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer on a keep-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.wrk._track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.wrk._track(self.connection, open_=False)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _serve(self) -> None:
        # Always read the body, or it would be parsed as the next request on this connection.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.wrk._answer(self.command, self.path, self.headers.get("Authorization"), body)
        if answer.refuse:
            self._drop()
            return
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
        except ConnectionError:
            # The client gave up waiting (its timeout is shorter than our latency): as a real
            # server would, carry on rather than report an error.
            self.close_connection = True

    def _drop(self) -> None:
        # A zero linger makes close() reset the connection: the client gets no HTTP answer
        # at all, as when a load balancer or a crashing process drops it.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # close() only really closes the socket once rfile, which holds a reference to it, is.
        self.rfile.close()
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.wrk.verbose:
            super().log_message(format, *args)
