"""Signatures of WRK's run-event webhook (SPEC §5), checked before the body is parsed.

Two schemes are accepted, each against every configured secret (WRK_WEBHOOK_SECRET is a
comma-separated list, so that WRK can rotate: add the new secret, let WRK switch, then
remove the old one):

- WRK's own: `X-WRK-Timestamp: <unix seconds>` and `X-WRK-Signature: sha256=<hex>`, the
  HMAC-SHA256 of `"<timestamp>." + raw body` keyed with the secret's UTF-8 bytes;
- Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), checked by
  the `standardwebhooks` package. A secret written `whsec_<base64>` is a Standard Webhooks
  key and is decoded as that scheme says; any other is used as its UTF-8 bytes.

Either way a timestamp more than TOLERANCE_SECONDS from now is refused, so that a captured
request cannot be replayed later, and signatures are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from django.conf import settings
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

TOLERANCE_SECONDS = 300
WRK_TIMESTAMP = "X-WRK-Timestamp"
WRK_SIGNATURE = "X-WRK-Signature"
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_HEX_SHA256 = re.compile(r"sha256=([0-9a-fA-F]{64})")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def webhook_secrets() -> list[str]:
    return [s.strip() for s in str(settings.WRK_WEBHOOK_SECRET).split(",") if s.strip()]


def signature_verify(
    *, body: bytes, headers: Mapping[str, str], secrets: list[str], now: float
) -> str:
    """Raise SignatureError unless a configured secret signed this body recently; returns
    the scheme that matched ("wrk" or "standard")."""
    if any(headers.get(name) for name in STANDARD_HEADERS):
        _verify_standard(body, headers, secrets, now)
        return "standard"
    if headers.get(WRK_SIGNATURE) is None and headers.get(WRK_TIMESTAMP) is None:
        raise SignatureError(
            f"The request is not signed: send {WRK_TIMESTAMP} and {WRK_SIGNATURE} "
            "(or the Standard Webhooks headers)."
        )
    _verify_wrk(body, headers, secrets, now)
    return "wrk"


def _check_timestamp(raw: str | None, header: str, now: float) -> int:
    if raw is None or not _UNIX_SECONDS.fullmatch(raw.strip()):
        raise SignatureError(f"{header} must be the signing time in Unix seconds.")
    timestamp = int(raw.strip())
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"{header} is more than {TOLERANCE_SECONDS} s from now: the request is stale "
            "(or a clock is wrong)."
        )
    return timestamp


def wrk_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-WRK-Signature` value of `body` signed at `timestamp` with `secret`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _verify_wrk(body: bytes, headers: Mapping[str, str], secrets: list[str], now: float) -> None:
    timestamp = _check_timestamp(headers.get(WRK_TIMESTAMP), WRK_TIMESTAMP, now)
    match = _HEX_SHA256.fullmatch((headers.get(WRK_SIGNATURE) or "").strip())
    if match is None:
        raise SignatureError(f"{WRK_SIGNATURE} must be 'sha256=' and 64 hex digits.")
    given = match.group(0).lower().encode()
    # Every secret is tried, matched or not: the time taken says nothing about which.
    matched = [
        hmac.compare_digest(wrk_signature(s, timestamp, body).encode(), given) for s in secrets
    ]
    if not any(matched):
        raise SignatureError(f"{WRK_SIGNATURE} matches none of the configured secrets.")


def standard_key(secret: str) -> str | bytes:
    return secret if secret.startswith("whsec_") else secret.encode()


def _verify_standard(
    body: bytes, headers: Mapping[str, str], secrets: list[str], now: float
) -> None:
    _check_timestamp(headers.get("webhook-timestamp"), "webhook-timestamp", now)
    plain = {name: headers.get(name) or "" for name in STANDARD_HEADERS}
    for secret in secrets:
        try:
            Webhook(standard_key(secret)).verify(body, plain, json_parse=False)
        except (WebhookVerificationError, EmptyWebhookSecretError, ValueError):
            # ValueError: a malformed signature list, bad base64 or a body that is not UTF-8.
            continue
        return
    raise SignatureError("webhook-signature matches none of the configured secrets.")
