"""JSON plumbing of the API: the error body of SPEC §5 and authentication."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from .services import api_token_authenticate

View = Callable[..., HttpResponse]


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


def parse_json_object(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise BadRequest("Send a JSON body with 'Content-Type: application/json'.")
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.", "malformed_json") from None
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
                scheme, _, secret = header.partition(" ")
                if scheme.lower() == "bearer" and secret.strip():
                    user = api_token_authenticate(secret=secret.strip())
                if user is None:
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
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return error_response(400, exc.code, exc.message)

        return wrapper

    return decorator
