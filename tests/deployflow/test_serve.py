"""Issue 11.1: `make serve`'s pieces. gunicorn with its config file and the production
settings, on the test database: /healthz, /readyz, a hashed and compressed static file
served by WhiteNoise, the admin's login page with its CSS, the API's 431 in JSON (gunicorn's
limits sit above the app's), JSON log lines with the request id. And bin/serve's refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

from jobs.schedule import job_run_if_due, scheduled_jobs
from jobs.services import worker_heartbeat_beat
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "production-secret-value-0123456789-abcdefghij"
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front says


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def production_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "WRK_", "DATABASE_", "PROMETHEUS_", "LOG_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="deployflow.settings.production",
        DJANGO_SECRET_KEY=SECRET,
        WRK_API_TOKEN="test-wrk-token",
        WRK_WEBHOOK_SECRET="s",
        **extra,
    )
    return env


def test_gunicorn_serves_the_production_stack(wrk, tmp_path):
    static_root = tmp_path / "static"
    port = free_port()
    env = production_env(
        DATABASE_URL=database_url(),
        STATIC_ROOT=str(static_root),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        WRK_API_BASE_URL=wrk.url,
        LOG_FORMAT="json",
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collect.returncode == 0, collect.stderr
    worker_heartbeat_beat(worker_id="w1")
    for job in scheduled_jobs():
        job_run_if_due(job, run=lambda job: "done")

    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "deployflow/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()
            try:
                # The master listens before its workers have loaded the app: a request
                # may wait for one.
                healthz = requests.get(f"{base}/healthz", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert (healthz.status_code, healthz.text) == (200, "ok\n")

        readyz = requests.get(f"{base}/readyz", timeout=20)
        assert readyz.status_code == 200, readyz.text
        assert readyz.json()["status"] == "ok", readyz.json()

        manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
        hashed = manifest["deployflow.css"]
        assert hashed != "deployflow.css"
        css = requests.get(
            f"{base}/static/{hashed}", headers={**HTTPS, "Accept-Encoding": "br, gzip"}, timeout=5
        )
        assert css.status_code == 200
        assert css.headers["Content-Encoding"] in {"br", "gzip"}
        assert "immutable" in css.headers["Cache-Control"]
        assert ".df-bell-icon" in css.text

        login = requests.get(f"{base}/admin/login/", headers=HTTPS, timeout=5)
        assert login.status_code == 200
        assert "default-src 'self'" in login.headers["Content-Security-Policy"]
        admin_css = f"/static/{manifest['admin/css/base.css']}"
        assert admin_css in login.text
        assert requests.get(base + admin_css, headers=HTTPS, timeout=5).status_code == 200

        big = requests.get(
            f"{base}/v1/projects",
            headers={**HTTPS, "X-Padding": "x" * 9000, "X-Request-ID": "big-1"},
            timeout=5,
        )
        assert big.status_code == 431
        assert big.json()["error"]["code"] == "header_too_large"
        assert big.headers["X-Request-ID"] == "big-1"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "deployflow.request"]
    assert {"request_id": "big-1", "status": 431}.items() <= next(
        line for line in access if line["path"] == "/v1/projects"
    ).items()


def serve(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WRK_"))}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    return subprocess.run(
        ["bin/serve"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_serve_finds_a_database_and_refuses_without_secrets_saying_what_to_set():
    # Without DATABASE_URL it takes the server at 127.0.0.1:5432 (bin/pg-private would start
    # a private one on a machine without it: tests/bin/test_pg_private.py).
    no_db = serve()
    assert no_db.returncode == 1
    assert "DATABASE_URL not set: using postgres://postgres@127.0.0.1:5432/deployflow" in (
        no_db.stderr
    )
    assert "Missing: DJANGO_SECRET_KEY" in no_db.stderr
    no_secrets = serve(DATABASE_URL=database_url())
    assert no_secrets.returncode == 1
    assert "Missing: DJANGO_SECRET_KEY WRK_API_TOKEN WRK_WEBHOOK_SECRET" in no_secrets.stderr
    assert "SERVE_TRYOUT=1 make serve" in no_secrets.stderr
