"""`make demo` runs on SQLite, which the test suite otherwise never touches: seed it (which
deploys through the real services) in a subprocess with the demo's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_migrates_seeds_and_deploys_on_sqlite(tmp_path, wrk, settings):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "deployflow.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "WRK_API_BASE_URL": wrk.url,
        "WRK_API_TOKEN": settings.WRK_API_TOKEN,
        # bin/demo's mail: one .eml file per email.
        "EMAIL_URL": f"file:{tmp_path / 'mail'}",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    seeded = manage("seed_demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "Demo data ready." in seeded.stdout
    # The seed deployed v1.0 of Invoice Sync through the deploy service, as ops.
    assert len(wrk.calls_for("activate")) >= 1
    again = manage("seed_demo")
    assert again.returncode == 0, again.stderr

    # The worker sends the deploy's emails into .eml files, one each, tied to its delivery.
    worked = manage("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert worked.returncode == 0, worked.stderr
    mails = sorted((tmp_path / "mail").glob("*-delivery-*.eml"))
    assert len(mails) >= 2
    message = message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    assert message["X-Deployflow-Delivery"] in mails[0].name
    assert message.get_body(("plain",)) is not None
    assert message.get_body(("html",)) is not None
