"""Helpers of the hostile-input tests."""

from __future__ import annotations

from typing import Any

from django.test import Client as HttpClient

from automations.models import AutomationVersion

MIB = 1024 * 1024


def assert_error(response: Any, status: int, code: str) -> str:
    """The error shape of SPEC §5; returns the message."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


def status_url(version: AutomationVersion) -> str:
    return f"/v1/automation-versions/{version.pk}/status"


def patch_raw(client: HttpClient, url: str, body: bytes | str, **extra: Any) -> Any:
    return client.generic("PATCH", url, body, CONTENT_TYPE="application/json", **extra)


def status_of(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status
