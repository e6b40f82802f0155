"""The API's edge: every request under /v1/ passes here first.

Sizes are checked before anything else reads the headers or the body. Django's own refusal of
a big body (RequestDataTooBig) would log at ERROR with a traceback, and ERROR is kept for bugs.
Error answers that Django makes itself (a refused Host, an exception, a DEBUG page) leave in
the JSON shape of SPEC §5, like the API's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.response import HttpResponseBase

from .http import echo, error_response

API_PREFIX = "/v1/"
_DIGITS = re.compile(r"[0-9]+")

# The error statuses Django answers by itself, in the API's words.
_DJANGO_ERRORS = {
    400: ("bad_request", "The request was refused as malformed."),
    403: ("permission_denied", "You may not do this."),
    404: ("not_found", "Not found; the API's paths are listed at /v1/openapi.json."),
    405: ("method_not_allowed", "This method is not allowed here; see the Allow header."),
    500: (
        "internal_error",
        "An unexpected error occurred and was logged. Try again; tell ops if it persists.",
    ),
}


class ApiEdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        refusal = _oversized_headers(request) or _unacceptable_body(request)
        if refusal is not None:
            return refusal
        return _as_json_error(self.get_response(request))


def _oversized_headers(request: HttpRequest) -> HttpResponse | None:
    limit: int = settings.API_MAX_HEADER_BYTES
    # Counted as sent: "Name: value\r\n".
    size = sum(len(name) + len(value) + 4 for name, value in request.headers.items())
    if size <= limit:
        return None
    return error_response(
        431,
        "header_too_large",
        f"The request's headers total {size:,} bytes; the limit is {limit:,}. "
        "Send fewer or shorter headers (cookies count too).",
    )


def _body_limit() -> int:
    # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE by itself: the lower limit holds.
    limit: int = settings.API_MAX_BODY_BYTES
    django_limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit if django_limit is None else min(limit, django_limit)


def _too_large(limit: int) -> HttpResponse:
    return error_response(
        413,
        "payload_too_large",
        f"The body is larger than the limit of {limit:,} bytes; send less per request.",
    )


def _unacceptable_body(request: HttpRequest) -> HttpResponse | None:
    """Refuses a body by its announced size, unread, then by its real size once read."""
    limit = _body_limit()
    announced: str = request.META.get("CONTENT_LENGTH", "").strip()
    if announced:
        if not _DIGITS.fullmatch(announced):
            return error_response(
                400,
                "bad_request",
                f"Content-Length {echo(announced)!r} is not a number of bytes.",
            )
        digits = announced.lstrip("0") or "0"
        # Compared by length first: int() refuses more than 4,300 digits.
        if len(digits) > len(str(limit)) or int(digits) > limit:
            return _too_large(limit)
    elif isinstance(request, WSGIRequest) and "HTTP_TRANSFER_ENCODING" in request.META:
        # Under WSGI, Django reads exactly Content-Length bytes: a chunked body would read as
        # empty and be refused for a reason the client could not understand.
        return error_response(
            411,
            "length_required",
            "Send the body with a Content-Length header; chunked request bodies are not supported.",
        )
    try:
        # Under ASGI the server hands over the whole body, which a missing (chunked) or
        # understated Content-Length does not bound: its real size decides.
        body = request.body
    except RequestDataTooBig:
        return _too_large(limit)
    except UnreadablePostError:
        return error_response(
            400, "bad_request", "The body broke off before its end; send the request again."
        )
    return _too_large(limit) if len(body) > limit else None


def _as_json_error(response: HttpResponseBase) -> HttpResponseBase:
    if (
        response.status_code < 400
        or not isinstance(response, HttpResponse)
        or response.get("Content-Type", "").startswith("application/json")
    ):
        return response
    status, phrase = response.status_code, response.reason_phrase
    code, message = _DJANGO_ERRORS.get(status, (phrase.lower().replace(" ", "_"), phrase + "."))
    # Changed in place, so that the status, the headers (Allow, …) and Django's note that it
    # has logged this response (with the traceback, for a 500) all stay.
    response.content = error_response(status, code, message).content
    response["Content-Type"] = "application/json"
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return response
