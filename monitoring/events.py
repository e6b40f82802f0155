"""A run event as WRK reports it (SPEC §5), read from the webhook's JSON or a polled page.

`run_event_parse` is the one reading of a raw event, so that the webhook and the poller
accept exactly the same events. It names the field at fault, quoting at most a few dozen
characters of what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import FINAL_STATUSES, RunStatus

ID_MAX_CHARS = 200
# WRK's error texts can be whole stack traces; the start says what failed.
ERROR_MAX_CHARS = 2000
_QUOTE_MAX_CHARS = 60
_STATUSES = frozenset(RunStatus.values)


class InvalidRunEventError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RunEventIn:
    id: str
    workflow_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds() * 1000)


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_MAX_CHARS else text[: _QUOTE_MAX_CHARS - 1] + "…"


def _identifier(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRunEventError(
            f"{where}.{key} must be a non-empty string, not {_quote(value)}."
        )
    if len(value) > ID_MAX_CHARS:
        raise InvalidRunEventError(f"{where}.{key} is longer than {ID_MAX_CHARS} characters.")
    return value


def _moment(raw: dict[str, Any], key: str, where: str, *, required: bool) -> datetime | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidRunEventError(
            f"{where}.{key} must be an ISO 8601 date-time string, not {_quote(value)}."
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRunEventError(
            f"{where}.{key} {_quote(value)} is not an ISO 8601 date-time."
        ) from None
    if moment.tzinfo is None:
        raise InvalidRunEventError(
            f"{where}.{key} {_quote(value)} has no time zone; add 'Z' or an offset."
        )
    return moment


def run_event_parse(raw: Any, *, where: str = "event") -> RunEventIn:
    """One event, checked field by field; `where` names it in messages (e.g. "events[3]").
    Fields WRK may add later are ignored."""
    if not isinstance(raw, dict):
        raise InvalidRunEventError(f"{where} must be a JSON object, not {type(raw).__name__}.")
    event_id = _identifier(raw, "id", where)
    workflow_id = _identifier(raw, "workflow_id", where)
    status = raw.get("status")
    if not isinstance(status, str) or status not in _STATUSES:
        raise InvalidRunEventError(
            f"{where}.status {_quote(status)} is not one of {', '.join(RunStatus.values)}."
        )
    started_at = _moment(raw, "started_at", where, required=True)
    assert started_at is not None
    finished_at = _moment(raw, "finished_at", where, required=False)
    if finished_at is not None and finished_at < started_at:
        raise InvalidRunEventError(f"{where}.finished_at is before its started_at.")
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        raise InvalidRunEventError(f"{where}.error must be a string or null, not {_quote(error)}.")
    return RunEventIn(
        id=event_id,
        workflow_id=workflow_id,
        status=status,
        started_at=started_at,
        finished_at=finished_at,
        error=(error or "")[:ERROR_MAX_CHARS],
    )
