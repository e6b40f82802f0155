"""Logs: one JSON object per line when LOG_FORMAT=json, with the request's id and, during a
deploy, the deploy's id on every line; plain text otherwise (the demo, a terminal)."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from automations.log_context import current_deploy_id
from jobs.log_context import current_job

# Set by RequestIdMiddleware for the length of a request.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

# Whatever a LogRecord carries by itself; anything else was passed with `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_CONTEXT = ("request_id", "deploy_id", "job")


class ContextFilter(logging.Filter):
    """Puts the request, deploy and job ids on each record (None outside them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.deploy_id = current_deploy_id.get()
        record.job = current_job.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT:
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _CONTEXT and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra that JSON cannot hold is written as text, never dropped.
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    json_lines = log_format == "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_lines else "plain",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"level": level, "propagate": True},
            # One line per request, with its id: the access log. In plain text the web
            # server (runserver, gunicorn) already prints its own.
            "deployflow.request": {"level": "INFO" if json_lines else "WARNING"},
        },
    }
