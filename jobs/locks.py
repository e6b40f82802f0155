"""One instance of each periodic job at a time, across every machine.

On PostgreSQL, a session-level advisory lock keyed per job: `pg_try_advisory_lock` never
waits, and the lock goes with the session, so a scheduler that dies (killed, machine gone,
network cut) frees its jobs at once, with no lease to expire and no row to clean up. It
needs a real session: behind a pooler in transaction mode (PgBouncer's default), point the
scheduler at PostgreSQL directly. On SQLite (the demo, one machine) a process-local lock is
enough.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key per job, apart from any other user of advisory locks."""
    digest = hashlib.blake2b(f"deployflow.jobs:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Yields whether this process holds the job's lock; never waits for it."""
    if connection.vendor != "postgresql":
        with _local_locks_guard:
            lock = _local_locks.setdefault(name, threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    key = advisory_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            _unlock(key, name)


def _unlock(key: int, name: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        # The session is gone, and its locks with it.
        logger.warning("Job %s: its lock's session was lost; the lock went with it.", name)
