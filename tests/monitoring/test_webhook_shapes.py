"""Issue 8 §1: a malformed batch gets 400 naming the problem and stores nothing; a body over
the limit gets 413 unread; a full batch of 1,000 events fits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test.client import FakePayload

from monitoring.models import RunEvent
from tests.api.hostile import MIB

from .runs import URL, body_of, post, run, wrk_headers

pytestmark = pytest.mark.django_db


def signed_post(webhook, secret: str, body: bytes, content_type: str = "application/json"):
    return post(webhook, body, wrk_headers(body, secret), content_type=content_type)


def good(binding, n: int = 1) -> dict[str, Any]:
    return run(binding.workflow_id, n)


def with_field(binding, **fields: Any) -> dict[str, Any]:
    event = good(binding, 2)
    for key, value in fields.items():
        if value is _MISSING:
            del event[key]
        else:
            event[key] = value
    return event


_MISSING = object()

# (the second event of the batch, what the message must say)
BAD_EVENTS = [
    ("a string", "events[1] must be a JSON object"),
    ({"id": _MISSING}, "events[1].id must be a non-empty string"),
    ({"id": ""}, "events[1].id must be a non-empty string"),
    ({"id": 42}, "events[1].id must be a non-empty string"),
    ({"id": "x" * 201}, "events[1].id is longer than 200"),
    ({"workflow_id": _MISSING}, "events[1].workflow_id must be a non-empty string"),
    ({"workflow_id": ["wf"]}, "events[1].workflow_id must be a non-empty string"),
    ({"status": "failed"}, "events[1].status 'failed' is not one of success, error"),
    ({"status": _MISSING}, "events[1].status None is not one of"),
    ({"started_at": _MISSING}, "events[1].started_at must be an ISO 8601 date-time string"),
    ({"started_at": 1764234000}, "events[1].started_at must be an ISO 8601 date-time string"),
    ({"started_at": "yesterday"}, "events[1].started_at 'yesterday' is not an ISO 8601"),
    ({"started_at": "2026-11-27T09:00:00"}, "events[1].started_at '2026-11-27T09:00:00' has no"),
    ({"finished_at": "2026-11-27T08:00:00Z"}, "events[1].finished_at is before its started_at"),
    ({"finished_at": "soon"}, "events[1].finished_at 'soon' is not an ISO 8601"),
    ({"error": {"message": "x"}}, "events[1].error must be a string or null"),
]


@pytest.mark.parametrize(("change", "message"), BAD_EVENTS)
def test_a_malformed_event_gets_400_naming_it_and_nothing_is_stored(
    webhook, binding, secret, change, message
):
    second: Any = change if isinstance(change, str) else with_field(binding, **change)
    response = signed_post(webhook, secret, body_of([good(binding), second]))

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_event"
    assert message in error["message"]
    assert RunEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"{not json", "malformed_json", "not valid JSON"),
        (b"\xff\xfe", "malformed_json", "not UTF-8"),
        (b"[1, 2]", "bad_request", "must be a JSON object"),
        (b"{}", "bad_request", "Missing field 'events'"),
        (b'{"events": {"id": 1}}', "bad_request", "'events' must be an array, not dict"),
        (b'{"events": null}', "bad_request", "'events' must be an array, not NoneType"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed_json", "nests arrays or objects too deeply"),
        (b'{"events": [' + b"[" * 100 + b"]" * 100 + b"]}", "invalid_event", "must be a JSON"),
    ],
)
def test_a_malformed_batch_gets_400_naming_the_problem(
    webhook, binding, secret, body, code, message
):
    response = signed_post(webhook, secret, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert message in response.json()["error"]["message"]
    assert RunEvent.objects.count() == 0


def test_a_body_that_is_not_json_by_its_content_type_gets_400(webhook, binding, secret):
    response = signed_post(webhook, secret, body_of([good(binding)]), "text/plain")
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["error"]["message"]


def test_more_than_1000_events_get_400(webhook, binding, secret):
    events = [run(binding.workflow_id, n) for n in range(1001)]
    response = signed_post(webhook, secret, body_of(events))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_events"
    assert "1,001 events; send at most 1,000" in response.json()["error"]["message"]
    assert RunEvent.objects.count() == 0


def test_a_full_batch_of_1000_events_with_long_errors_fits_the_body_limit(
    webhook, binding, secret, settings
):
    events = [run(binding.workflow_id, n, "error", error="e" * 1800) for n in range(1000)]
    body = body_of(events)
    assert len(body) < settings.API_MAX_BODY_BYTES

    response = signed_post(webhook, secret, body)

    assert response.json() == {"accepted": 1000, "duplicates": 0, "ignored": 0}


def test_a_long_error_is_stored_cut(webhook, binding, secret):
    signed_post(webhook, secret, body_of([run(binding.workflow_id, 1, "error", error="e" * 5000)]))
    assert len(RunEvent.objects.get().error) == 2000


def test_a_10_mb_body_gets_413_without_being_read(webhook, binding, secret):
    body = json.dumps({"events": [], "pad": "x" * 10 * MIB}).encode()
    stream = FakePayload(body)
    response = webhook.generic(
        "POST",
        URL,
        b"",
        content_type="application/json",
        headers=wrk_headers(body, secret),
        **{"wsgi.input": stream, "CONTENT_LENGTH": str(len(body))},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not stream.read_started
    assert RunEvent.objects.count() == 0


def test_unknown_fields_are_ignored_for_what_wrk_may_add_later(webhook, binding, secret):
    event = {**good(binding), "attempt": 2}
    response = signed_post(webhook, secret, json.dumps({"events": [event], "v": 2}).encode())
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}


def test_an_empty_batch_is_accepted_and_changes_nothing(webhook, binding, secret):
    response = signed_post(webhook, secret, body_of([]))
    assert response.json() == {"accepted": 0, "duplicates": 0, "ignored": 0}


def test_the_openapi_document_describes_the_webhook(client):
    doc = client.get("/v1/openapi.json").json()
    operation = doc["paths"]["/v1/webhooks/wrk/run-events"]["post"]
    assert operation["security"] == []
    assert {p["name"] for p in operation["parameters"]} >= {"X-WRK-Timestamp", "X-WRK-Signature"}
    assert {"200", "400", "401", "413"} <= set(operation["responses"])
    batch = doc["components"]["schemas"]["RunEventBatch"]
    assert batch["properties"]["events"]["maxItems"] == 1000
