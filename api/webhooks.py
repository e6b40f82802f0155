"""WRK's run-event webhook (SPEC §5): `POST /v1/webhooks/wrk/run-events`.

Its signature is its authentication (no bearer token, no session, no CSRF). The middleware
has refused an oversized body (413) before this view runs; the signature is checked before
the body is parsed, and the whole batch is checked before anything is stored, so a refused
request changes nothing. Storing is monitoring's `run_events_ingest`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from monitoring.events import InvalidRunEventError, RunEventIn, run_event_parse
from monitoring.ingest import run_events_ingest
from monitoring.models import ReceivedVia

from .http import BadRequest, error_response, parse_json_object
from .signatures import SignatureError, signature_verify, webhook_secrets

logger = logging.getLogger(__name__)

MAX_EVENTS = 1000


def events_from_body(data: dict[str, Any]) -> list[RunEventIn]:
    if "events" not in data:
        raise BadRequest("Missing field 'events': send {\"events\": [<run event>, ...]}.")
    raw = data["events"]
    if not isinstance(raw, list):
        raise BadRequest(f"'events' must be an array, not {type(raw).__name__}.")
    if len(raw) > MAX_EVENTS:
        raise BadRequest(
            f"The batch has {len(raw):,} events; send at most {MAX_EVENTS:,} per request.",
            "too_many_events",
        )
    try:
        return [run_event_parse(event, where=f"events[{i}]") for i, event in enumerate(raw)]
    except InvalidRunEventError as exc:
        raise BadRequest(exc.message, "invalid_event") from None


@csrf_exempt
def wrk_run_events(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "Use POST.", Allow="POST")
    secrets = webhook_secrets()
    if not secrets:
        logger.warning("A WRK run-event webhook arrived but WRK_WEBHOOK_SECRET is not set.")
        return error_response(
            503, "webhook_not_configured", "This server has no webhook secret configured."
        )
    try:
        signature_verify(
            body=request.body, headers=request.headers, secrets=secrets, now=time.time()
        )
    except SignatureError as exc:
        logger.warning("WRK run-event webhook refused: %s", exc.message)
        return error_response(401, "invalid_signature", exc.message)
    try:
        events = events_from_body(parse_json_object(request, prescan=False))
    except BadRequest as exc:
        return error_response(400, exc.code, exc.message)
    result = run_events_ingest(events=events, received_via=ReceivedVia.WEBHOOK)
    return JsonResponse(result.counts())
