"""The periodic job a log line belongs to; the project's log filter reads it."""

from contextvars import ContextVar

current_job: ContextVar[str | None] = ContextVar("current_job", default=None)
