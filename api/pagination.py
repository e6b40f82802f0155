"""Keyset pagination of the list endpoints (SPEC §5): newest first, `next_cursor` opaque.

Rows come by descending id (ids grow with insertion, so this is newest first), and a cursor
holds the last id of its page: a page starts strictly below it. Rows inserted meanwhile
(higher ids) never shift a page or repeat a row, as an offset would, and each page costs one
query however deep it is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from .converters import MAX_ID
from .http import BadRequest, echo

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_PREFIX = "id:"


def cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    invalid = BadRequest(
        f"Invalid cursor {echo(cursor)!r}: pass back the next_cursor of a previous page.",
        "invalid_cursor",
    )
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    digits = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not digits.isascii() or not digits.isdigit():
        raise invalid
    if len(digits) > len(str(MAX_ID)) or not 1 <= int(digits) <= MAX_ID:
        raise invalid
    return int(digits)


def query_int(request: HttpRequest, name: str, *, maximum: int = MAX_ID) -> int | None:
    """A whole-number query parameter from 1 to `maximum`, or None when absent."""
    raw = request.GET.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"'{name}' must be a whole number from 1 to {maximum}, not {echo(raw)!r}.")
    return int(raw)


def refuse_unknown_params(request: HttpRequest, allowed: set[str]) -> None:
    unknown = sorted(set(request.GET) - allowed - {"cursor", "limit"})
    if unknown:
        known = ", ".join(sorted(allowed | {"cursor", "limit"}))
        what = ngettext("Unknown query parameter", "Unknown query parameters", len(unknown))
        raise BadRequest(f"{what}: {echo(', '.join(unknown))}. Known: {known}.")


def paginate[M: Model](
    request: HttpRequest, queryset: QuerySet[M], serialize: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    """One page of `queryset` as `{"results": [...], "next_cursor": ...}`."""
    limit = query_int(request, "limit", maximum=MAX_LIMIT) or DEFAULT_LIMIT
    cursor = request.GET.get("cursor")
    rows = queryset.order_by("-pk")
    if cursor:
        rows = rows.filter(pk__lt=cursor_decode(cursor))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": [serialize(row) for row in page],
        "next_cursor": cursor_encode(page[-1].pk) if more else None,
    }
