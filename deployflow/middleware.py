"""The project's own middleware: /healthz before anything else, and the request id."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from .logs import current_request_id

request_logger = logging.getLogger("deployflow.request")

Handler = Callable[[HttpRequest], HttpResponseBase]

HEALTHZ_PATH = "/healthz"
# Ids that a proxy or a client may send (UUIDs, hex, AWS-style `Root=1-…`), bounded so that
# a hostile value cannot bloat or break a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=/+-]{1,128}")


class HealthzMiddleware:
    """`/healthz`: the process is up and answers. First in the chain, so that it touches no
    database, needs no allowed Host (a load balancer probes by address) and is never
    redirected to HTTPS (probes speak plain HTTP to the process)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info == HEALTHZ_PATH:
            response = HttpResponse("ok\n", content_type="text/plain")
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


class RequestIdMiddleware:
    """Every request gets an id: the client's (or proxy's) `X-Request-ID` when it is sane,
    else a new one. It is on every log line of the request and echoed on the response, so
    a user's report, the proxy's log and ours meet."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        # Kept until the response is closed (request_finished), not reset on the way out:
        # Django logs an error response (django.request) after the middleware returned.
        current_request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


def _forget_request_id(**kwargs: object) -> None:
    current_request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="deployflow.forget_request_id")
