"""The deploy a log line belongs to. The deploy service sets it from its claim to its end,
so every line logged meanwhile (WRK retries, the audit and notification receivers, errors)
names the deploy; the project's log filter (`deployflow.logs`) reads it, so the core stays
free of any logging setup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_deploy_id: ContextVar[int | None] = ContextVar("current_deploy_id", default=None)


@contextmanager
def deploy_logging(deployment_id: int) -> Iterator[None]:
    token = current_deploy_id.set(deployment_id)
    try:
        yield
    finally:
        current_deploy_id.reset(token)
