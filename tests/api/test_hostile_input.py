"""Issue 7 (A4), SPEC §5: under /v1/, hostile input gets the JSON error shape, never HTML and
never a 500, and none of it logs at ERROR: an ERROR with a traceback is kept for real bugs."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client as HttpClient
from django.test.client import FakePayload

from automations.models import AutomationVersion, VersionStatus

from .hostile import MIB, assert_error, patch_raw, status_of, status_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_error_logs")]


# --- Malformed JSON -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 20_000 + "]" * 20_000,
        '{"status": ' + "[" * 20_000 + "]" * 20_000 + "}",
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        "[" * 20_000,
    ],
    ids=["arrays", "inside-status", "objects", "unclosed"],
)
def test_20000_deep_json_gets_400_and_changes_nothing(api, wrk, live_project, body):
    _, v1, v2 = live_project
    for version in (v1, v2):
        message = assert_error(patch_raw(api, status_url(version), body), 400, "malformed_json")
        assert "64 levels" in message
    assert status_of(v1) == VersionStatus.LIVE
    assert status_of(v2) == VersionStatus.READY
    assert wrk.calls == []


def test_nesting_up_to_64_levels_is_parsed_and_65_is_refused(api, live_project):
    _, _, v2 = live_project
    at_limit = '{"status": ' + "[" * 63 + "]" * 63 + "}"
    assert "must be a string" in assert_error(
        patch_raw(api, status_url(v2), at_limit), 400, "bad_request"
    )
    too_deep = '{"status": ' + "[" * 64 + "]" * 64 + "}"
    assert_error(patch_raw(api, status_url(v2), too_deep), 400, "malformed_json")


def test_brackets_inside_strings_do_not_count_as_nesting(api, live_project):
    _, _, v2 = live_project
    body = json.dumps({"status": "[{" * 500 + '\\"' + "[" * 500})
    assert_error(patch_raw(api, status_url(v2), body), 400, "invalid_status")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"status": "Live\xff"}', "UTF-8"),
        ('{"status": "Live"}'.encode("utf-16"), "UTF-8"),
        # Valid UTF-8 (NUL bytes), so it is read as such, and is no JSON.
        ('{"status": "Live"}'.encode("utf-32-le"), "not valid JSON"),
        (b'{"status": NaN}', "NaN"),
        (b'{"status": -Infinity}', "Infinity"),
        (b'{"status": ' + b"1" * 5000 + b"}", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_non_utf8_or_non_json_bodies_get_400_malformed_json(api, wrk, live_project, body, fragment):
    _, _, v2 = live_project
    message = assert_error(patch_raw(api, status_url(v2), body), 400, "malformed_json")
    assert fragment in message
    assert status_of(v2) == VersionStatus.READY


# --- Paths, ids and methods -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/automation-versions/abc",
        "/v1/automation-versions/abc/status",
        "/v1/automation-versions/1.5",
        "/v1/automation-versions/-1",
        "/v1/automation-versions/0",
        "/v1/automation-versions/" + "9" * 40,
        "/v1/automation-versions/" + "9" * 40 + "/status",
        "/v1/automation-versions/" + "9" * 5000,
        "/v1/automation-versions/9223372036854775808",
        "/v1/nope",
        "/v1/",
        "/v1/openapi.json/extra",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "POST", "DELETE"])
def test_unknown_paths_and_absurd_ids_get_404_json(api, path, method):
    message = assert_error(api.generic(method, path, "{}", "application/json"), 404, "not_found")
    assert len(message) < 250


def test_the_largest_bigint_id_is_a_version_that_does_not_exist(api):
    message = assert_error(api.get("/v1/automation-versions/9223372036854775807"), 404, "not_found")
    assert "9223372036854775807 does not exist" in message


def test_an_unknown_path_gets_404_json_even_for_a_session_without_csrf(ops_user):
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(ops_user)
    assert_error(client.post("/v1/webhooks/nope", "{}", "application/json"), 404, "not_found")


def test_a_10000_character_path_is_echoed_cut(api):
    message = assert_error(api.get("/v1/" + "p" * 10_000), 404, "not_found")
    assert "p" * 100 not in message
    assert len(message) < 250


def test_a_wrong_method_gets_405_json(api, live_project):
    _, v1, _ = live_project
    response = api.post(status_url(v1), "{}", "application/json")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "PATCH"


def test_outside_v1_django_keeps_its_html(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- Echoed values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"status": "x" * 10_000},
        {"status": "Live", "x" * 10_000: 1},
        {"status": "Live", **{f"field{i:04}": 1 for i in range(2_000)}},
    ],
    ids=["status", "field-name", "many-fields"],
)
def test_rejected_values_are_echoed_at_most_100_characters(api, live_project, body):
    _, _, v2 = live_project
    response = patch_raw(api, status_url(v2), json.dumps(body))
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "x" * 100 not in message
    assert len(message) < 250
    assert status_of(v2) == VersionStatus.READY


# --- Body size ------------------------------------------------------------------------------


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the app read."""

    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_body_over_the_limit_gets_413_from_content_length_without_being_read(api, live_project):
    _, _, v2 = live_project
    payload = FakePayload(b'{"status": "Live", "pad": "' + b"x" * 10 * MIB + b'"}')
    response = patch_raw(
        api, status_url(v2), b"", **{"wsgi.input": payload, "CONTENT_LENGTH": str(len(payload))}
    )
    message = assert_error(response, 413, "payload_too_large")
    assert "2,097,152" in message
    assert not payload.read_started
    assert status_of(v2) == VersionStatus.READY


def test_the_body_limit_is_a_setting(api, live_project, settings):
    _, _, v2 = live_project
    settings.API_MAX_BODY_BYTES = 10
    assert_error(patch_raw(api, status_url(v2), '{"status": "Live"}'), 413, "payload_too_large")


def test_a_body_just_under_the_limit_is_read(api, live_project):
    _, _, v2 = live_project
    body = '{"status": "Live", "pad": "' + "x" * (MIB - 100) + '"}'
    assert "Unknown field: pad" in assert_error(
        patch_raw(api, status_url(v2), body), 400, "bad_request"
    )


def test_a_body_larger_than_announced_is_read_only_as_far_as_announced(api, wrk, live_project):
    _, _, v2 = live_project
    stream = CountingStream(b'{"status": "' + b"x" * 10 * MIB + b'"}')
    response = patch_raw(
        api, status_url(v2), b"", **{"wsgi.input": stream, "CONTENT_LENGTH": "1000"}
    )
    assert_error(response, 400, "malformed_json")
    assert stream.bytes_read <= 1000
    assert status_of(v2) == VersionStatus.READY
    assert wrk.calls == []


class BrokenStream(io.BytesIO):
    """A body whose connection drops halfway."""

    def read(self, size: int | None = -1, /) -> bytes:
        raise OSError("connection reset by peer")


def test_a_body_that_breaks_off_gets_400(api, live_project):
    _, _, v2 = live_project
    response = patch_raw(
        api, status_url(v2), b"", **{"wsgi.input": BrokenStream(), "CONTENT_LENGTH": "100"}
    )
    assert "broke off" in assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "10, 10", "0x10"])
def test_an_unreadable_content_length_gets_400(api, live_project, length):
    _, _, v2 = live_project
    response = patch_raw(api, status_url(v2), '{"status": "Live"}', CONTENT_LENGTH=length)
    assert "Content-Length" in assert_error(response, 400, "bad_request")


def test_an_absurd_content_length_gets_413(api, live_project):
    _, _, v2 = live_project
    response = patch_raw(api, status_url(v2), '{"status": "Live"}', CONTENT_LENGTH="9" * 5000)
    assert_error(response, 413, "payload_too_large")


def test_a_chunked_body_under_wsgi_gets_411(api, live_project):
    _, _, v2 = live_project
    payload = FakePayload(b'{"status": "Live"}')
    response = patch_raw(
        api,
        status_url(v2),
        b"",
        **{"wsgi.input": payload, "CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert_error(response, 411, "length_required")
    assert status_of(v2) == VersionStatus.READY


# --- Header size ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"X-Big": "a" * 10_000}, {f"X-Header-{i}": "a" * 100 for i in range(100)}],
    ids=["one-big-header", "many-headers"],
)
def test_headers_over_the_limit_get_431(api_token, live_project, headers):
    _, v1, _ = live_project
    client = HttpClient(headers={"Authorization": f"Bearer {api_token}", **headers})
    message = assert_error(client.get(f"/v1/automation-versions/{v1.pk}"), 431, "header_too_large")
    assert "8,192" in message
    assert "aaaa" not in message


def test_the_header_limit_is_a_setting(api_token, live_project, settings):
    _, v1, _ = live_project
    client = HttpClient(headers={"Authorization": f"Bearer {api_token}", "X-Big": "a" * 10_000})
    settings.API_MAX_HEADER_BYTES = 16 * 1024
    assert client.get(f"/v1/automation-versions/{v1.pk}").status_code == 200


def test_the_header_limit_is_the_apis_only():
    response = HttpClient(headers={"X-Big": "a" * 10_000}).get("/accounts/login/")
    assert response.status_code == 200


# --- Errors Django raises itself, and bugs --------------------------------------------------


def test_a_host_django_refuses_gets_400_json(api, caplog):
    response = api.get("/v1/openapi.json", headers={"Host": "evil.example"})
    assert_error(response, 400, "bad_request")
    # Django reports a refused Host to django.security at ERROR, by design: that stays.
    assert {r.name for r in caplog.records if r.levelno >= logging.ERROR} == {
        "django.security.DisallowedHost"
    }
    caplog.clear()


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_exception_in_a_view_gets_500_json_and_is_logged_with_traceback(
    api_token, live_project, monkeypatch, caplog, settings, debug
):
    _, v1, _ = live_project
    settings.DEBUG = debug  # with DEBUG, Django's answer would be its HTML debug page

    def broken(**kwargs: object) -> AutomationVersion:
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.views.version_get", broken)
    client = HttpClient(
        headers={"Authorization": f"Bearer {api_token}"}, raise_request_exception=False
    )
    assert_error(client.get(f"/v1/automation-versions/{v1.pk}"), 500, "internal_error")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert errors[0].exc_info[0] is RuntimeError
    caplog.clear()  # this ERROR is the expected one
