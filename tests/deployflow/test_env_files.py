"""Issue 11.5: secrets may come from NAME_FILE (Docker/Kubernetes secrets, systemd
credentials); both NAME and NAME_FILE set is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from deployflow.settings.email import anymail_settings
from deployflow.settings.env import env_int, env_required, env_str

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "production-secret-value-0123456789-abcdefghij"


def test_a_variable_may_come_from_a_file_without_its_trailing_newline(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret value\n")
    monkeypatch.delenv("WRK_API_TOKEN", raising=False)
    monkeypatch.setenv("WRK_API_TOKEN_FILE", str(secret))
    assert env_str("WRK_API_TOKEN") == "s3cret value"
    assert env_required("WRK_API_TOKEN") == "s3cret value"


def test_both_the_variable_and_its_file_are_refused(monkeypatch, tmp_path):
    (tmp_path / "url").write_text("postgres://file")
    monkeypatch.setenv("DATABASE_URL", "postgres://env")
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "url"))
    with pytest.raises(ImproperlyConfigured, match="Both DATABASE_URL and DATABASE_URL_FILE"):
        env_str("DATABASE_URL")


def test_an_unreadable_file_is_refused_with_its_path(monkeypatch, tmp_path):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("SLACK_WEBHOOK_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(
        ImproperlyConfigured, match=r"SLACK_WEBHOOK_URL_FILE=.*missing.*cannot be read"
    ):
        env_str("SLACK_WEBHOOK_URL")


def test_typed_values_and_anymail_keys_come_from_files_too(monkeypatch, tmp_path):
    (tmp_path / "n").write_text("42\n")
    (tmp_path / "key").write_text("key-from-file\n")
    monkeypatch.setenv("AUTH_FAILURE_LIMIT_FILE", str(tmp_path / "n"))
    monkeypatch.setenv("ANYMAIL_MAILGUN_API_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("ANYMAIL_MAILGUN_SENDER_DOMAIN", "mg.example")
    assert env_int("AUTH_FAILURE_LIMIT", default=10) == 42
    settings = anymail_settings()
    assert settings["MAILGUN_API_KEY"] == "key-from-file"
    assert settings["MAILGUN_SENDER_DOMAIN"] == "mg.example"


def _production(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "WRK_", "DATABASE_", "EMAIL_", "SLACK_"))
    }
    environment.update(DJANGO_SETTINGS_MODULE="deployflow.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_takes_every_secret_from_files_and_check_deploy_is_clean(tmp_path):
    files = {
        "DJANGO_SECRET_KEY": SECRET,
        "WRK_API_TOKEN": "wrk-token",
        "WRK_WEBHOOK_SECRET": "hook-secret",
        "DATABASE_URL": "postgres://app@db.internal:5432/deployflow",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/T/B/X",
        "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example:587",
    }
    env = {"DJANGO_ALLOWED_HOSTS": "deployflow.example"}
    for name, value in files.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")
        env[f"{name}_FILE"] = str(path)
    result = _production("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout

    both = _production("check", **env, WRK_API_TOKEN="also-in-env")
    assert both.returncode != 0
    assert "Both WRK_API_TOKEN and WRK_API_TOKEN_FILE are set" in both.stderr


def test_production_keeps_database_connections_and_checks_them_before_use():
    env = {
        "DJANGO_SECRET_KEY": SECRET,
        "WRK_API_TOKEN": "wrk-token",
        "WRK_WEBHOOK_SECRET": "hook-secret",
        "DJANGO_ALLOWED_HOSTS": "deployflow.example",
    }
    show = (
        "from django.db import connection as c; "
        "print(c.settings_dict['CONN_MAX_AGE'], c.settings_dict['CONN_HEALTH_CHECKS'])"
    )

    kept = _production("shell", "-v", "0", "-c", show, **env)
    reconnecting = _production("shell", "-v", "0", "-c", show, **env, DATABASE_CONN_MAX_AGE="0")

    assert kept.stdout.split() == ["600", "True"], kept.stderr
    assert reconnecting.stdout.split() == ["0", "True"], reconnecting.stderr
