"""SPEC §5: management commands."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from api.services import api_token_authenticate
from audit.models import AuditLog
from automations.models import AutomationVersion, Deployment, Project, VersionStatus
from notifications.models import Delivery
from tests.factories import make_user

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_api_token_prints_a_working_token(ops_user):
    secret = run("create_api_token", ops_user.username).strip()
    assert api_token_authenticate(secret=secret) == ops_user


def test_create_api_token_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("create_api_token", "ghost")


def test_redeploy_deploys_through_the_service(wrk, live_project, ops_user):
    _, _v1, v2 = live_project
    output = run("redeploy", str(v2.pk), "--user", ops_user.username)
    assert "is Live" in output
    assert AutomationVersion.objects.get(pk=v2.pk).status == VersionStatus.LIVE
    row = AuditLog.objects.get(action_type="deploy", resource_id=str(v2.pk))
    assert (row.metadata["source"], row.actor) == ("command", ops_user)


def test_redeploy_dry_run_changes_nothing(wrk, live_project):
    _, v1, v2 = live_project
    output = run("redeploy", str(v2.pk), "--dry-run")
    assert "Dry run" in output
    assert f"archive {v1.version} and deactivate {v1.workflow_binding.workflow_id}" in output
    assert wrk.calls == []
    assert AutomationVersion.objects.get(pk=v2.pk).status == VersionStatus.READY


def test_redeploy_rolls_back_an_archived_version(wrk, live_project, ops_user):
    _, v1, v2 = live_project
    run("redeploy", str(v2.pk))
    output = run("redeploy", str(v1.pk))
    assert "roll back" in output
    assert AutomationVersion.objects.get(pk=v1.pk).status == VersionStatus.LIVE
    assert AutomationVersion.objects.get(pk=v2.pk).status == VersionStatus.ARCHIVED
    assert Deployment.objects.filter(automation_version=v1, is_rollback=True).count() == 1
    # System actions are audited without an actor.
    assert AuditLog.objects.get(action_type="restage").actor is None


def test_redeploy_fails_with_a_message_and_nonzero_exit(wrk, live_project):
    _, _, v2 = live_project
    wrk.fail_next(100, status=500, op="activate")
    with pytest.raises(CommandError, match="activation_failed: WRK did not activate"):
        run("redeploy", str(v2.pk))
    with pytest.raises(CommandError, match="not_found"):
        run("redeploy", "424242")


def test_redeploy_checks_the_users_permission(wrk, live_project):
    _, _, v2 = live_project
    with pytest.raises(CommandError, match="permission_denied"):
        run("redeploy", str(v2.pk), "--user", make_user(staff=True).username)


def test_reconcile_reports_and_fails_while_wrk_is_down(wrk, live_project):
    _, _, v2 = live_project
    wrk.fail_next(100, status=500, op="deactivate")
    run("redeploy", str(v2.pk))
    with pytest.raises(CommandError, match="1 deactivation"):
        run("reconcile")
    wrk.reset()
    assert "deactivated" in run("reconcile")
    assert run("reconcile").strip() == "Nothing to reconcile."


def test_seed_demo_is_idempotent(wrk):
    first = run("seed_demo")
    counts = (Project.objects.count(), AutomationVersion.objects.count(), Delivery.objects.count())
    run("seed_demo")
    assert "ops / deployflow-demo" in first
    assert (
        Project.objects.count(),
        AutomationVersion.objects.count(),
        Delivery.objects.count(),
    ) == counts
    statuses = set(AutomationVersion.objects.values_list("status", flat=True))
    assert {"Live", "Ready to Launch", "Draft"} <= statuses
    assert len(wrk.calls_for("activate")) == 1


def _django(settings_module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WRK_"))}
    environment.update(DJANGO_SETTINGS_MODULE=settings_module, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_its_secrets():
    result = _django("deployflow.settings.production", "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_production_check_deploy_is_clean():
    result = _django(
        "deployflow.settings.production",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="k" * 20 + "production-secret-value-0123456789-abcdefghij",
        WRK_API_TOKEN="t",
        WRK_WEBHOOK_SECRET="s",
        DJANGO_ALLOWED_HOSTS="deployflow.example",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_redeploy_dry_run_says_when_approval_is_missing(wrk, live_project, settings):
    settings.DEPLOY_REQUIRE_APPROVAL = True
    _, _, v2 = live_project
    with pytest.raises(CommandError, match="approval_required"):
        run("redeploy", str(v2.pk), "--dry-run")
    assert wrk.calls == []
