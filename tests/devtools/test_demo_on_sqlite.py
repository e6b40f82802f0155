"""`make demo` runs on SQLite, which the test suite otherwise never touches: seed it (which
deploys through the real services) in a subprocess with the demo's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_migrates_seeds_and_deploys_on_sqlite(tmp_path, wrk, settings):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "deployflow.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "WRK_API_BASE_URL": wrk.url,
        "WRK_API_TOKEN": settings.WRK_API_TOKEN,
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
