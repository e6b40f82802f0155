"""Idempotency keys (SPEC §5): a PATCH, POST or DELETE under /v1/ retried with the same
`Idempotency-Key` and body gets the first answer again, marked `Idempotent-Replayed: true`,
and changes nothing.

The key is claimed by inserting its row, in a statement of its own, before the view runs:
the unique (user, key) constraint decides between concurrent requests, and no transaction
stays open while the view runs (a deploy calls WRK). The view's answer is then written onto
the row, unless it reports that nothing was done because of something in flight or an
outage, and invites the very retry a stored answer would refuse. A request that is still in
flight is not waited for: the duplicate gets 409 with `Retry-After`, so that duplicates
never hold web workers for as long as a deploy can take.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from automations.errors import ErrorCode

from .models import IdempotencyKey, IdempotencyKeyStatus

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# The WRK webhook is signed and idempotent by its events' ids (SPEC §5).
EXEMPT_PREFIXES = ("/v1/webhooks/",)
# 1 to 255 printable ASCII characters. Not a space first or last: HTTP strips the blanks
# around a header value, so such a key would not arrive as it was sent.
KEY_PATTERN = r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?"
_KEY = re.compile(KEY_PATTERN)
# A deploy, the longest call, mostly answers within a second or two.
IN_USE_RETRY_AFTER_SECONDS = 2
# Answers that did nothing because another deploy held the project or WRK could not be
# asked: both invite a retry, which a stored answer would refuse for a day.
_NOT_STORED = {
    (409, ErrorCode.DEPLOY_IN_PROGRESS.value),
    (502, ErrorCode.WRK_UNAVAILABLE.value),
}


# One statement, committed on its own: the unique (user, key) index decides between
# concurrent requests, and a duplicate is no error. An IntegrityError would cost a savepoint
# inside a transaction, and a line at ERROR in PostgreSQL's log for every retry.
_INSERT_CLAIM = f"""
INSERT INTO {IdempotencyKey._meta.db_table}
    (user_id, "key", method, path, body_digest, status, response_headers, response_body,
     created_at)
VALUES (%s, %s, %s, %s, %s, '{IdempotencyKeyStatus.IN_PROGRESS}', '[]', %s, %s)
ON CONFLICT (user_id, "key") DO NOTHING
RETURNING id
"""  # noqa: S608 - only constants are formatted in; the values are parameters
_CREATED_AT = IdempotencyKey._meta.get_field("created_at")


class KeyRefused(Exception):
    """The request is refused for its key; api_view answers it in the API's error shape."""

    def __init__(self, status: int, code: str, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


@dataclass(frozen=True, slots=True)
class _Request:
    """What a key names: the same key with any of these different is another request."""

    method: str
    path: str
    body_digest: str

    def fields(self) -> dict[str, str]:
        return {"method": self.method, "path": self.path, "body_digest": self.body_digest}


@dataclass(frozen=True, slots=True)
class _Claim:
    pk: int
    # The row's created_at as this request set it: a later takeover changes it, and then
    # this request may no longer write the row.
    claimed_at: datetime


def idempotency_key(request: HttpRequest) -> str | None:
    """The request's key, when one applies to it; refuses a malformed one."""
    if request.method not in MUTATING or request.path_info.startswith(EXEMPT_PREFIXES):
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise KeyRefused(
            400,
            "invalid_idempotency_key",
            f"The {HEADER} header must be 1 to 255 printable ASCII characters, neither the "
            "first nor the last a space; send a new random value (a UUID, say) per request.",
        )
    return key


def idempotent_response(
    request: HttpRequest, *, user: User, key: str, respond: Callable[[], HttpResponse]
) -> HttpResponse:
    """`respond()`'s answer, stored under the key, or the answer stored before."""
    sent = _Request(
        method=request.method or "",
        path=request.path_info,
        body_digest=hashlib.sha256(request.body).hexdigest(),
    )
    claim = _claim(user=user, key=key, sent=sent)
    if isinstance(claim, HttpResponse):
        return claim
    try:
        response = respond()
    except BaseException:
        # A body refused as malformed (400, answered by api_view), a bug (500) or a dying
        # worker: no answer of the view's to replay, and the retry may do better.
        _release(claim)
        raise
    if _stored(response):
        _store(claim, response)
    else:
        _release(claim)
    return response


def _claim(*, user: User, key: str, sent: _Request) -> _Claim | HttpResponse:
    # Twice at most: the row that beat the first insert may be gone by the time it is read
    # (its answer was not stored), and then the key is free again.
    for _attempt in range(2):
        now = timezone.now()
        # As the ORM writes it, so that the fence (created_at=) matches on SQLite too, which
        # stores datetimes as text.
        created_at = _CREATED_AT.get_db_prep_value(now, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_CLAIM,
                [user.pk, key, sent.method, sent.path, sent.body_digest, b"", created_at],
            )
            inserted = cursor.fetchone()
        if inserted is not None:
            return _Claim(pk=inserted[0], claimed_at=now)
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is not None:
            return _decide(existing, sent=sent, now=now)
    raise _in_use()


def _decide(row: IdempotencyKey, *, sent: _Request, now: datetime) -> _Claim | HttpResponse:
    if row.created_at <= now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS):
        # Expired, only not yet pruned: the key is free.
        return _take_over(row, sent=sent, now=now)
    if (row.method, row.path, row.body_digest) != (sent.method, sent.path, sent.body_digest):
        what = "body" if (row.method, row.path) == (sent.method, sent.path) else "method or path"
        raise KeyRefused(
            422,
            "idempotency_key_reused",
            f"This {HEADER} was first sent with another {what}: a key names one request. "
            "Send a new key for a new request.",
        )
    if row.status == IdempotencyKeyStatus.COMPLETED:
        return _replay(row)
    # No view runs longer than a deploy, which DEPLOY_STALE_AFTER_SECONDS bounds: a claim
    # older than that belonged to a process that died, and the request may run again (the
    # deploy's own claim and reconcile keep a deploy from happening twice).
    if row.created_at <= now - timedelta(seconds=settings.DEPLOY_STALE_AFTER_SECONDS):
        return _take_over(row, sent=sent, now=now, abandoned=True)
    raise _in_use()


def _take_over(
    row: IdempotencyKey, *, sent: _Request, now: datetime, abandoned: bool = False
) -> _Claim:
    """Claims a row that is expired, or abandoned in progress, unless another request did
    first (or, for an abandoned one, its slow owner answered after all)."""
    rows = IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at)
    if abandoned:
        rows = rows.filter(status=IdempotencyKeyStatus.IN_PROGRESS)
    taken = rows.update(
        status=IdempotencyKeyStatus.IN_PROGRESS,
        response_status=None,
        response_headers=[],
        response_body=b"",
        created_at=now,
        **sent.fields(),
    )
    if not taken:
        raise _in_use()
    return _Claim(pk=row.pk, claimed_at=now)


def _in_use() -> KeyRefused:
    return KeyRefused(
        409,
        "idempotency_key_in_use",
        f"A request with this {HEADER} is still being answered; send it again in "
        f"{IN_USE_RETRY_AFTER_SECONDS} seconds to get its answer.",
        **{"Retry-After": str(IN_USE_RETRY_AFTER_SECONDS)},
    )


def _error_code(response: HttpResponse) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _stored(response: HttpResponse) -> bool:
    if response.status_code < 400:
        return True
    return (response.status_code, _error_code(response)) not in _NOT_STORED


def _mine(claim: _Claim) -> QuerySet[IdempotencyKey]:
    return IdempotencyKey.objects.filter(
        pk=claim.pk, created_at=claim.claimed_at, status=IdempotencyKeyStatus.IN_PROGRESS
    )


def _store(claim: _Claim, response: HttpResponse) -> None:
    _mine(claim).update(
        status=IdempotencyKeyStatus.COMPLETED,
        response_status=response.status_code,
        response_headers=[list(header) for header in response.items()],
        response_body=response.content,
    )


def _release(claim: _Claim) -> None:
    _mine(claim).delete()


def _replay(row: IdempotencyKey) -> HttpResponse:
    assert row.response_status is not None  # a completed row has its answer (a DB check)
    response = HttpResponse(bytes(row.response_body), status=row.response_status)
    for name, value in row.response_headers:
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response
