"""Issue 11.6: with LOG_FORMAT=json, one JSON object per line, with the request's id on every
line of a request and the deploy's id on every line logged during a deploy."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from automations.models import Deployment
from deployflow.logs import ContextFilter, JsonFormatter, logging_config


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The console handler of LOG_FORMAT=json, on the root logger, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    request_logger = logging.getLogger("deployflow.request")
    saved = (root.level, request_logger.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    request_logger.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(saved[0])
    request_logger.setLevel(saved[1])


def parse(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_json_config_is_chosen_by_log_format():
    assert (
        logging_config(log_format="json", level="INFO")["handlers"]["console"]["formatter"]
        == "json"
    )
    plain = logging_config(log_format="plain", level="INFO")
    assert plain["handlers"]["console"]["formatter"] == "plain"
    assert plain["loggers"]["deployflow.request"]["level"] == "WARNING"


def test_every_line_of_a_deploy_names_the_deploy_and_the_request(
    api, wrk, live_project, json_lines
):
    _, _, v2 = live_project
    wrk.fail_next(1, status=503, op="activate")
    response = api.patch(
        f"/v1/automation-versions/{v2.pk}/status",
        {"status": "Live"},
        content_type="application/json",
        headers={"X-Request-ID": "req-42.abc"},
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-42.abc"
    lines = parse(json_lines)
    deployment = Deployment.objects.get(automation_version=v2)
    assert all(line["request_id"] == "req-42.abc" for line in lines), lines
    retry = next(line for line in lines if line["logger"] == "wrk_client.client")
    assert retry["level"] == "WARNING"
    assert retry["deploy_id"] == deployment.pk
    assert "retrying" in retry["message"]
    access = next(line for line in lines if line["logger"] == "deployflow.request")
    assert (access["method"], access["status"]) == ("PATCH", 200)
    assert "deploy_id" not in access  # logged after the deploy ended
    assert {"time", "level", "logger", "message"} <= set(access)


def test_a_failed_deploy_logs_its_error_with_the_deploy_id(api, wrk, live_project, json_lines):
    _, _, v2 = live_project
    wrk.fail_next(100, status=500, op="activate")
    response = api.patch(
        f"/v1/automation-versions/{v2.pk}/status",
        {"status": "Live"},
        content_type="application/json",
    )
    assert response.status_code == 502
    lines = parse(json_lines)
    deployment = Deployment.objects.get(automation_version=v2)
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["deploy_id"] == deployment.pk
    assert "Deploy of version" in error["message"]
    # A generated id, the same on every line of the request and on the response.
    assert len({line["request_id"] for line in lines}) == 1
    assert lines[0]["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("offered", ["", "bad id with spaces", "x" * 200, "a\nb"])
def test_an_insane_request_id_is_replaced(client, offered):
    response = client.get("/nowhere/", headers={"X-Request-ID": offered})
    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32


def test_an_exception_is_one_line_with_its_traceback(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("deployflow.test").exception("it broke")
    [line] = parse(json_lines)
    assert line["message"] == "it broke"
    assert "ValueError: boom" in line["exception"]
