"""JSON plumbing of the API: the error body of SPEC §5, body parsing, authentication and
the idempotency keys of mutating calls (idempotency.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from .converters import MAX_ID
from .idempotency import KeyRefused, idempotency_key, idempotent_response
from .services import api_token_authenticate
from .throttle import api_auth_failed, api_lockout

View = Callable[..., HttpResponse]

ECHO_MAX_CHARS = 100
# Deep enough for any body the API takes (the run-event webhook nests 3 levels), shallow
# enough that parsing, and any code walking the result, stays far from the recursion limit.
MAX_JSON_DEPTH = 64
# A JSON string token. An unterminated one ends at the end of the body, and the loop is
# possessive, so no body makes this backtrack: the scan stays linear in the body's size.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def echo(text: str) -> str:
    """Client input quoted back in a message, cut so that no value can bloat an answer."""
    return text if len(text) <= ECHO_MAX_CHARS else text[: ECHO_MAX_CHARS - 1] + "…"


def error_response(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


class BadRequest(Exception):
    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _nests_deeper_than(text: str, limit: int) -> bool:
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > limit:
            return True
    return False


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def parse_json_object(request: HttpRequest, *, prescan: bool = True) -> dict[str, Any]:
    """The body as a JSON object. `prescan=False` skips the nesting pre-scan, for a view
    that reads only a few fixed levels and takes big bodies (the run-event webhook), where
    the scan would cost ten times the parse: json's C parser refuses nesting beyond the
    recursion limit with a RecursionError of its own, answered here as the same 400."""
    if request.content_type != "application/json":
        raise BadRequest("Send a JSON body with 'Content-Type: application/json'.")
    try:
        # RFC 8259: JSON between systems is UTF-8; json.loads would also guess UTF-16/32.
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"The body is not UTF-8 ({echo(str(exc))}); send JSON encoded as UTF-8.",
            "malformed_json",
        ) from None
    # Checked before parsing, as json.loads recurses once per level and a 40 KB body of
    # brackets would exhaust the stack.
    if prescan and _nests_deeper_than(text, MAX_JSON_DEPTH):
        raise BadRequest(
            f"The body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; "
            "the API refuses such bodies before parsing them.",
            "malformed_json",
        )
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise BadRequest(
            "The body nests arrays or objects too deeply to parse.", "malformed_json"
        ) from None
    except ValueError as exc:
        raise BadRequest(
            f"The body is not valid JSON: {echo(str(exc))}.", "malformed_json"
        ) from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    # Session-authenticated writes must carry the CSRF token, as in the admin.
    return CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})


def _no_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def api_view(methods: set[str]) -> Callable[[View], View]:
    """Authenticate by bearer token or staff session; answer errors in the API's format."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return error_response(
                    405,
                    "method_not_allowed",
                    f"Use {', '.join(sorted(methods))}.",
                    Allow=", ".join(sorted(methods)),
                )
            header = request.headers.get("Authorization", "")
            user: User | None = None
            if header:
                if (lockout := api_lockout(request)) is not None:
                    return error_response(
                        429,
                        "too_many_attempts",
                        lockout.message,
                        **{"Retry-After": str(lockout.retry_after)},
                    )
                scheme, _, secret = header.partition(" ")
                if scheme.lower() == "bearer" and secret.strip():
                    user = api_token_authenticate(secret=secret.strip())
                if user is None:
                    api_auth_failed(request)
                    return error_response(
                        401,
                        "unauthenticated",
                        "The bearer token is invalid or revoked.",
                        **{"WWW-Authenticate": 'Bearer realm="deployflow"'},
                    )
            elif request.user.is_authenticated and request.user.is_staff:
                if request.method not in {"GET", "HEAD"} and _csrf_failure(request) is not None:
                    return error_response(403, "csrf_failed", "CSRF token missing or incorrect.")
                user = request.user
            else:
                return error_response(
                    401,
                    "unauthenticated",
                    "Authenticate with 'Authorization: Bearer <token>' "
                    "(make one with `manage.py create_api_token USERNAME`).",
                    **{"WWW-Authenticate": 'Bearer realm="deployflow"'},
                )
            request.api_user = user  # type: ignore[attr-defined]
            try:
                key = idempotency_key(request)
                if key is None:
                    return view(request, *args, **kwargs)
                # A body refused as malformed (BadRequest) passes through and is not stored:
                # nothing ran, and the corrected body may come with the same key.
                return idempotent_response(
                    request, user=user, key=key, respond=lambda: view(request, *args, **kwargs)
                )
            except BadRequest as exc:
                return error_response(400, exc.code, exc.message)
            except KeyRefused as exc:
                return error_response(exc.status, exc.code, exc.message, **exc.headers)

        return wrapper

    return decorator


@csrf_exempt
def unknown_endpoint(request: HttpRequest) -> HttpResponse:
    """Any /v1/ path no route matches: an unknown endpoint, or an id that is not one."""
    return error_response(
        404,
        "not_found",
        f"No endpoint at {echo(request.path)}. Ids are whole numbers from 1 to "
        f"{MAX_ID}; the API's paths are listed at /v1/openapi.json.",
    )
