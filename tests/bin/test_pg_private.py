"""Issue 11.9: `bin/pg-private`, for real. With a server at the URL it changes nothing;
without one it starts a private cluster that accepts connections, and stops it. The shared
server is never touched: "no server" is a URL naming a port nobody listens on, and the
cluster lives in a directory of the test's own."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from django.db import connection

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "pg-private"


def _script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("pg_private", str(SCRIPT))
    spec = importlib.util.spec_from_loader("pg_private", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def pg_private(*args: str, directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PG_PRIVATE_DIR": str(directory)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """Under /tmp rather than pytest's tmp_path: run as root, the server runs as `postgres`,
    who must be able to reach the directory (pytest's base directory is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="pg-private-"))
    path.chmod(0o755)
    yield path
    pg_private("stop", directory=path)
    shutil.rmtree(path, ignore_errors=True)


def test_a_reachable_server_is_used_as_it_is(private_dir):
    settings = connection.settings_dict
    url = f"postgres://postgres@{settings['HOST']}:{settings['PORT']}/deployflow"
    done = pg_private("--url", url, directory=private_dir)
    assert (done.returncode, done.stdout, done.stderr) == (0, url + "\n", "")
    assert list(private_dir.iterdir()) == []


@pytest.mark.skipif(
    _script().server_binaries() is None,
    reason="no PostgreSQL server binaries here; the script would install them with apt-get",
)
def test_without_a_server_a_private_cluster_starts_and_stops(private_dir):
    nobody = unused_port()
    done = pg_private(
        "--url", f"postgres://postgres@127.0.0.1:{nobody}/deployflow_x", directory=private_dir
    )
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert f"no PostgreSQL at 127.0.0.1:{nobody}" in done.stderr
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    assert url == f"postgres://postgres@127.0.0.1:{port}/deployflow_x"
    assert port not in {nobody, 5432}
    # It accepts connections, to the database the URL names, with trust auth.
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("deployflow_x",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
    assert (private_dir / "pg" / "PG_VERSION").exists()
    assert (private_dir / "log" / "pg.log").exists()

    again = pg_private(
        "--url", f"postgres://postgres@127.0.0.1:{nobody}/deployflow_x", directory=private_dir
    )
    assert again.stdout.strip() == url
    assert "reusing the private cluster" in again.stderr

    stopped = pg_private("stop", directory=private_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == ""
    assert not answers(port)
