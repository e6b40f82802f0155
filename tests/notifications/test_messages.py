"""The messages of issue 10 (approval requested, deactivation resolved) render with every
variable they name, by email and on Slack."""

from __future__ import annotations

import pytest

from notifications.models import Template
from notifications.rendering import render_email, render_slack

PAYLOAD: dict[str, str | int] = {
    "client": "Acme",
    "project": "Invoice Sync",
    "project_slug": "invoice-sync",
    "version": "v1.1",
    "version_id": 7,
    "workflow_id": "wf-7",
    "actor": "ops",
    "at": "2026-11-27T10:00:00+00:00",
    "admin_url": "http://127.0.0.1:8000/admin/automations/automationversion/7/change/",
    "status_url": "http://127.0.0.1:8000/status/invoice-sync/",
}


@pytest.mark.parametrize(
    ("template", "extra", "subject"),
    [
        (Template.APPROVAL_REQUESTED, {}, "[deployflow] Approval requested: Invoice Sync v1.1"),
        (
            Template.DEACTIVATION_RESOLVED,
            {"resolution": "WRK confirmed that workflow wf-7 is inactive."},
            "[deployflow] Resolved: workflow wf-7 is no longer left running",
        ),
    ],
)
def test_the_new_messages_render(strict_templates, template, extra, subject):
    payload = {**PAYLOAD, **extra}
    rendered_subject, text, html = render_email(template, payload)
    assert rendered_subject == subject
    admin_url = str(PAYLOAD["admin_url"])
    assert admin_url in text
    assert admin_url in html
    headline, blocks = render_slack(template, payload)
    assert headline.startswith(":")
    assert blocks[-1]["elements"][0]["url"] == PAYLOAD["admin_url"]
    if extra:
        assert extra["resolution"] in text
        assert any(b.get("text", {}).get("text") == extra["resolution"] for b in blocks)
