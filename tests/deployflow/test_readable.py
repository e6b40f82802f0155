"""Issue 10.6 without a browser: one date format everywhere, plain words, the admin's width
left to the changelists, and the demo's `file:` mail URL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.test import Client as HttpClient

from audit.models import AuditLog
from automations.deploy import automation_version_deploy
from deployflow.dates import when
from deployflow.settings.email import EML_FILES, mailers_from_url
from notifications.models import Delivery, Template
from notifications.rendering import render_email, render_slack
from tests.factories import make_project, make_user, make_version

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 11, 27, 21, 56, 30, tzinfo=UTC)
WRITTEN = "2026-11-27 21:56 UTC"


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def test_a_moment_is_written_one_way():
    assert when(MOMENT) == WRITTEN


@pytest.mark.django_db
def test_the_admin_emails_and_slack_write_the_same_moment_the_same_way(wrk, strict_templates):
    ops = make_user(ops=True)
    with time_machine.travel(MOMENT, tick=False):
        project = make_project()
        version = make_version(project, "v1")
        automation_version_deploy(version_id=version.pk, actor=ops, source="admin")
    client = logged_in(ops)

    for url in (
        "/admin/automations/automationversion/",
        "/admin/automations/deployment/",
        "/admin/audit/auditlog/",
        "/admin/notifications/delivery/",
        f"/admin/automations/project/{project.pk}/change/",
        f"/admin/automations/automationversion/{version.pk}/history/",
    ):
        page = client.get(url).content.decode()
        assert WRITTEN in page, url
        assert "Nov. 27" not in page, url
        assert "p.m." not in page, url

    delivery = Delivery.objects.filter(template=Template.AUTOMATION_LIVE).first()
    assert delivery is not None
    _, text, body = render_email(delivery.template, delivery.payload)
    assert f"Live since: {WRITTEN}" in text  # the client's email names no ops user
    assert WRITTEN in body
    # Slack goes to ops only: the ops message of the same deploy.
    ops_delivery = Delivery.objects.filter(template=Template.DEPLOYMENT_SUCCESS).first()
    assert ops_delivery is not None
    _, blocks = render_slack(ops_delivery.template, ops_delivery.payload)
    assert f"*When*\n{WRITTEN}" in [field["text"] for field in blocks[1]["fields"]]


@pytest.mark.django_db
def test_the_admin_leaves_the_screens_width_to_the_page():
    page = logged_in(make_user(ops=True)).get("/admin/automations/project/").content.decode()
    assert 'id="nav-sidebar"' not in page
    assert "<title>Select project to view | deployflow</title>" in page


@pytest.mark.django_db
def test_deploy_sources_read_api_not_api():
    page = logged_in(make_user(ops=True)).get("/admin/automations/deployment/").content.decode()
    assert ">API</a>" in page  # the source filter
    assert ">Api<" not in page


@pytest.mark.django_db
def test_an_audit_row_reads_in_words_with_links(wrk):
    ops = make_user(ops=True)
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="api")
    wrk.fail_next(3, status=503, op="deactivate")
    automation_version_deploy(version_id=v2.pk, actor=ops, source="admin")
    client = logged_in(ops)

    changelist = client.get("/admin/audit/auditlog/").content.decode()
    version_url = f"/admin/automations/automationversion/{v1.pk}/change/"
    assert f'<a href="{version_url}">version v1</a>' in changelist
    # The binding's own row names its workflow and links its version.
    assert f'<a href="{version_url}">workflow wf-{project.slug}-v1</a>' in changelist
    assert "via API" in changelist
    # The failure's reason, cut short in the list.
    assert "HTTP 503: injected fault: HTTP 503" in changelist

    failed = AuditLog.objects.get(action_type="deactivate_failed")
    page = client.get(f"/admin/audit/auditlog/{failed.pk}/change/").content.decode()
    assert "<title>Deactivate Failed: workflow" in page
    assert "<th scope='row'>Workflow id</th><td>wf-" in page
    assert "<th scope='row'>Error</th><td>WRK did not deactivate" in page
    assert "<summary>As stored (JSON)</summary>" in page


def test_email_url_file_writes_eml_files_with_the_dev_only_backend():
    assert mailers_from_url("file:var/mail") == {
        "default": {"BACKEND": EML_FILES, "OPTIONS": {"file_path": "var/mail"}}
    }
    assert mailers_from_url("file:///srv/mail")["default"]["OPTIONS"] == {"file_path": "/srv/mail"}


def test_production_refuses_email_url_file():
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "p" * 40 + "roduction-key",
        "WRK_API_TOKEN": "t",
        "WRK_WEBHOOK_SECRET": "s",
        "EMAIL_URL": "file:var/mail",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import deployflow.settings.production"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "EMAIL_URL=file: is the demo's (devtools); production sends mail." in result.stderr
