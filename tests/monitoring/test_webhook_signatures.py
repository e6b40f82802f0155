"""Issue 8 §1: the webhook's signature is its authentication (SPEC §5)."""

from __future__ import annotations

import pytest

from monitoring.models import RunEvent
from tests.clock import later

from .runs import body_of, post, run, standard_headers, wrk_headers

pytestmark = pytest.mark.django_db


def assert_refused(response, reason: str) -> None:
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_signature"
    assert reason in error["message"]
    assert RunEvent.objects.count() == 0


def test_a_valid_wrk_signature_stores_the_events(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1), run(binding.workflow_id, 2, "error")])

    response = post(webhook, body, wrk_headers(body, secret))

    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "ignored": 0}
    stored = RunEvent.objects.order_by("started_at")
    assert [(e.external_id, e.status, e.received_via) for e in stored] == [
        (f"{binding.workflow_id}-run-1", "success", "webhook"),
        (f"{binding.workflow_id}-run-2", "error", "webhook"),
    ]
    assert stored[1].error == "boom"


def test_an_unsigned_request_is_refused(webhook, binding):
    assert_refused(post(webhook, body_of([run(binding.workflow_id, 1)]), {}), "not signed")


def test_a_wrong_signature_is_refused(webhook, binding):
    body = body_of([run(binding.workflow_id, 1)])
    assert_refused(post(webhook, body, wrk_headers(body, "not-the-secret")), "none of")


def test_a_malformed_signature_header_is_refused(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1)])
    headers = {**wrk_headers(body, secret), "X-WRK-Signature": "md5=abc"}
    assert_refused(post(webhook, body, headers), "sha256=")


def test_an_altered_body_is_refused(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1)])
    headers = wrk_headers(body, secret)
    altered = body.replace(b'"success"', b'"error"')
    assert_refused(post(webhook, altered, headers), "none of")


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_more_than_five_minutes_away_is_refused(webhook, binding, secret, offset):
    body = body_of([run(binding.workflow_id, 1)])
    # Signed correctly, at a time more than 5 minutes before (or after) the server's now.
    with later(-offset):
        headers = wrk_headers(body, secret)
    assert_refused(post(webhook, body, headers), "stale")


def test_a_timestamp_within_five_minutes_is_accepted(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1)])
    with later(-290):
        headers = wrk_headers(body, secret)
    assert post(webhook, body, headers).status_code == 200


def test_a_replay_of_a_captured_request_later_is_refused(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1)])
    headers = wrk_headers(body, secret)
    assert post(webhook, body, headers).status_code == 200
    with later(301):
        response = post(webhook, body, headers)
    assert response.status_code == 401
    assert RunEvent.objects.count() == 1


def test_every_secret_of_a_rotation_is_accepted(webhook, binding, settings):
    settings.WRK_WEBHOOK_SECRET = "new-secret, old-secret"
    for n, secret in enumerate(["new-secret", "old-secret"]):
        body = body_of([run(binding.workflow_id, n)])
        assert post(webhook, body, wrk_headers(body, secret)).status_code == 200
    assert RunEvent.objects.count() == 2


def test_a_secret_rotated_out_is_refused(webhook, binding, settings):
    settings.WRK_WEBHOOK_SECRET = "new-secret"
    body = body_of([run(binding.workflow_id, 1)])
    assert_refused(post(webhook, body, wrk_headers(body, "old-secret")), "none of")


def test_a_standard_webhooks_signature_is_accepted(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1)])
    response = post(webhook, body, standard_headers(body, secret))
    assert response.status_code == 200, response.content
    assert RunEvent.objects.get().received_via == "webhook"


def test_a_standard_webhooks_whsec_secret_is_accepted_during_a_rotation(webhook, binding, settings):
    whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    settings.WRK_WEBHOOK_SECRET = f"plain-secret,{whsec}"
    body = body_of([run(binding.workflow_id, 1)])
    assert post(webhook, body, standard_headers(body, whsec)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl"},
        {"webhook-signature": "garbage without a comma"},
        {"webhook-id": "another-message"},
    ],
)
def test_a_wrong_standard_webhooks_signature_is_refused(webhook, binding, secret, change):
    body = body_of([run(binding.workflow_id, 1)])
    headers = {**standard_headers(body, secret), **change}
    assert_refused(post(webhook, body, headers), "none of")


def test_a_stale_standard_webhooks_timestamp_is_refused(webhook, binding, secret):
    body = body_of([run(binding.workflow_id, 1)])
    with later(-400):
        headers = standard_headers(body, secret)
    assert_refused(post(webhook, body, headers), "stale")


def test_the_signature_is_checked_before_the_body_is_parsed(webhook, binding):
    response = post(webhook, b"{not json", {"X-WRK-Timestamp": "1", "X-WRK-Signature": "x"})
    assert response.status_code == 401


def test_without_a_configured_secret_nothing_is_accepted(webhook, binding, settings):
    settings.WRK_WEBHOOK_SECRET = " , "
    body = body_of([run(binding.workflow_id, 1)])
    response = post(webhook, body, wrk_headers(body, ""))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhook_not_configured"
    assert RunEvent.objects.count() == 0


def test_only_post_is_allowed(webhook):
    response = webhook.get("/v1/webhooks/wrk/run-events")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
