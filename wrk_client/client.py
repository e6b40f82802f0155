"""HTTP client of the WRK Platform (SPEC §5). It knows nothing of models or settings.

Errors are typed as transient (worth retrying: connection errors, timeouts, 429, 5xx) or
permanent (any other 4xx, or a malformed answer). Activation and deactivation retry the
transient ones with exponential backoff and full jitter, bounded both in attempts and in
total time; a 409 ("already in that state") is a success for both.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from .metrics import WRK_CALL_SECONDS

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class WrkError(Exception):
    """A WRK call that did not succeed. `attempts` is how many HTTP requests were made."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.attempts = attempts


class WrkTransientError(WrkError):
    transient = True


class WrkPermanentError(WrkError):
    transient = False


@dataclass(frozen=True, slots=True)
class WorkflowState:
    workflow_id: str
    active: bool
    # How many HTTP requests it took, retries included.
    attempts: int = 1
    # True when WRK answered 409: the workflow was already in the requested state.
    already: bool = False


@dataclass(frozen=True, slots=True)
class RunsPage:
    runs: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    max_seconds: float = 30.0
    wait_initial: float = 0.5
    wait_max: float = 8.0


def _retry_after_seconds(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except ValueError:
        return None  # unreadable: fall back on our own backoff
    return max(0.0, parsed.timestamp() - time.time())


# How much of WRK's explanation goes into an error message (and so an admin message, an
# audit row, an email).
DESCRIBE_CHARS = 200


def _describe(response: requests.Response) -> str:
    """`HTTP <status>: <what WRK said>`: the message of a JSON error body (`{"error": "..."}`,
    `{"error": {"message": "..."}}` or `{"message": "..."}`), else the body's text."""
    said = _wrk_message(response) or response.text
    said = " ".join(said.split())[:DESCRIBE_CHARS]
    return f"HTTP {response.status_code}: {said}" if said else f"HTTP {response.status_code}"


def _wrk_message(response: requests.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    for candidate in (error, data.get("message")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    return None


class WrkClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Injected so that tests can count the waits between retries instead of taking them.
        self.sleep = sleep
        self.retry = retry or RetryPolicy()
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/json"

    # --- public API ----------------------------------------------------------------------

    def activate(self, workflow_id: str) -> WorkflowState:
        return self._change_state(workflow_id, "activate", active=True)

    def deactivate(self, workflow_id: str) -> WorkflowState:
        return self._change_state(workflow_id, "deactivate", active=False)

    def get_workflow(self, workflow_id: str) -> WorkflowState:
        response = self._request("GET", self._workflow_url(workflow_id), op="get")
        return self._parse_state(workflow_id, response, attempts=1)

    def list_runs(
        self, workflow_id: str, *, since: str | None = None, limit: int = 100
    ) -> RunsPage:
        params: dict[str, str | int] = {"limit": limit}
        if since:
            params["since"] = since
        response = self._request(
            "GET", f"{self._workflow_url(workflow_id)}/runs", op="runs", params=params
        )
        data = self._json(response)
        runs = data.get("runs")
        if not isinstance(runs, list):
            raise WrkPermanentError(f"WRK answered runs without a 'runs' list: {data!r:.200}")
        cursor = data.get("next_cursor")
        return RunsPage(runs=runs, next_cursor=str(cursor) if cursor else None)

    # --- internals -----------------------------------------------------------------------

    def _workflow_url(self, workflow_id: str) -> str:
        return f"{self.base_url}/wrk-api/workflows/{quote(workflow_id, safe='')}"

    def _change_state(self, workflow_id: str, verb: str, *, active: bool) -> WorkflowState:
        url = f"{self._workflow_url(workflow_id)}/{verb}"

        def once() -> WorkflowState:
            try:
                response = self._request("PATCH", url, op=verb)
            except WrkPermanentError as exc:
                if exc.status == 409:
                    return WorkflowState(workflow_id=workflow_id, active=active, already=True)
                raise
            state = self._parse_state(workflow_id, response, attempts=1)
            if state.active is not active:
                raise WrkPermanentError(
                    f"WRK answered {verb} of {workflow_id} with active={state.active}",
                    status=response.status_code,
                )
            return state

        retrying = Retrying(
            # Stop *before* a sleep that would cross the time bound, not after it.
            stop=stop_after_attempt(self.retry.attempts)
            | stop_before_delay(self.retry.max_seconds),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, WrkError) and exc.transient),
            before_sleep=self._log_retry,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            result = retrying(once)
        except WrkError as exc:
            exc.attempts = retrying.statistics.get("attempt_number", 1)
            raise
        attempts = retrying.statistics.get("attempt_number", 1)
        return WorkflowState(
            workflow_id=result.workflow_id,
            active=result.active,
            attempts=attempts,
            already=result.already,
        )

    def _wait(self, state: RetryCallState) -> float:
        jittered = wait_random_exponential(
            multiplier=self.retry.wait_initial, max=self.retry.wait_max
        )(state)
        exc = state.outcome.exception() if state.outcome else None
        # A 429 says how long to wait; honour it, still inside the total-time bound.
        if isinstance(exc, WrkError) and exc.retry_after is not None:
            return min(max(jittered, exc.retry_after), self.retry.max_seconds)
        return float(jittered)

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning("WRK call failed (attempt %d), retrying: %s", state.attempt_number, exc)

    def _request(self, method: str, url: str, *, op: str, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        outcome = "permanent"
        try:
            response = self._checked(method, url, **kwargs)
            outcome = "ok"
            return response
        except WrkTransientError:
            outcome = "transient"
            raise
        finally:
            WRK_CALL_SECONDS.labels(op=op, outcome=outcome).observe(time.perf_counter() - started)

    def _checked(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise WrkTransientError(f"WRK timed out: {exc}") from exc
        except requests.ConnectionError as exc:
            raise WrkTransientError(f"WRK unreachable: {exc}") from exc
        except requests.RequestException as exc:
            raise WrkPermanentError(f"WRK request failed: {exc}") from exc
        if response.status_code in RETRYABLE_STATUSES:
            raise WrkTransientError(
                _describe(response),
                status=response.status_code,
                retry_after=_retry_after_seconds(response),
            )
        if response.status_code >= 400:
            raise WrkPermanentError(_describe(response), status=response.status_code)
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise WrkPermanentError(f"WRK answered non-JSON: {_describe(response)}") from exc
        if not isinstance(data, dict):
            raise WrkPermanentError(f"WRK answered {type(data).__name__}, expected an object")
        return data

    def _parse_state(
        self, workflow_id: str, response: requests.Response, *, attempts: int
    ) -> WorkflowState:
        data = self._json(response)
        active = data.get("active")
        if not isinstance(active, bool):
            raise WrkPermanentError(f"WRK answer lacks a boolean 'active': {data!r:.200}")
        return WorkflowState(
            workflow_id=str(data.get("id", workflow_id)), active=active, attempts=attempts
        )
