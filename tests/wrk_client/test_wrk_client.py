"""The WRK client (wrk_client): retries, error typing, time bounds. No database."""

import time
from email.utils import formatdate

import pytest
import requests
import responses

from devtools.fake_wrk import FakeWrk
from wrk_client import (
    RetryPolicy,
    WrkClient,
    WrkPermanentError,
    WrkTransientError,
)

BASE = "http://wrk.test"
TOKEN = "wrk-secret"
ACTIVATE = f"{BASE}/wrk-api/workflows/wf-1/activate"
DEACTIVATE = f"{BASE}/wrk-api/workflows/wf-1/deactivate"
WORKFLOW = f"{BASE}/wrk-api/workflows/wf-1"
FAST = RetryPolicy(attempts=3, max_seconds=5, wait_initial=0.001, wait_max=0.005)


class Sleeps(list):
    """Stands in for time.sleep: records each wait between retries instead of taking it."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps):
    return WrkClient(base_url=BASE + "/", token=TOKEN, retry=FAST, sleep=sleeps)


@pytest.fixture
def wrk_mock():
    with responses.RequestsMock() as mock:
        yield mock


def active(value=True, workflow_id="wf-1"):
    return {"id": workflow_id, "active": value}


def test_it_activates(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, json=active())

    state = client.activate("wf-1")

    assert (state.workflow_id, state.active, state.attempts, state.already) == (
        "wf-1",
        True,
        1,
        False,
    )


def test_it_deactivates(client, wrk_mock):
    wrk_mock.patch(DEACTIVATE, json=active(False))

    state = client.deactivate("wf-1")

    assert (state.active, state.attempts, state.already) == (False, 1, False)


def test_it_sends_the_bearer_token(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, json=active())

    client.activate("wf-1")

    assert wrk_mock.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_it_quotes_the_workflow_id_into_one_path_segment(client, wrk_mock):
    wrk_mock.patch(f"{BASE}/wrk-api/workflows/team%2Fflow%201/activate", json=active())

    assert client.activate("team/flow 1").active is True


@pytest.mark.parametrize(
    ("verb", "url", "expected"), [("activate", ACTIVATE, True), ("deactivate", DEACTIVATE, False)]
)
def test_it_takes_409_as_already_in_that_state(client, wrk_mock, verb, url, expected):
    wrk_mock.patch(url, status=409, json={"error": "already in that state"})

    state = getattr(client, verb)("wf-1")

    assert (state.active, state.already, state.attempts) == (expected, True, 1)
    assert len(wrk_mock.calls) == 1


def test_it_retries_503_until_success(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, status=503, json={"error": "down"})
    wrk_mock.patch(ACTIVATE, status=503, json={"error": "down"})
    wrk_mock.patch(ACTIVATE, json=active())

    state = client.activate("wf-1")

    assert state.attempts == 3
    assert len(wrk_mock.calls) == 3


def test_it_gives_up_after_the_policy_attempts(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, status=500, body="boom")

    with pytest.raises(WrkTransientError) as caught:
        client.activate("wf-1")

    assert caught.value.attempts == 3
    assert caught.value.status == 500
    assert len(wrk_mock.calls) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_it_does_not_retry_permanent_errors(client, wrk_mock, status):
    wrk_mock.patch(ACTIVATE, status=status, json={"error": "no"})

    with pytest.raises(WrkPermanentError) as caught:
        client.activate("wf-1")

    assert (caught.value.status, caught.value.attempts) == (status, 1)
    assert len(wrk_mock.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("refused"), requests.ConnectTimeout("slow"), requests.ReadTimeout()],
)
def test_it_retries_connection_errors_and_timeouts(client, wrk_mock, failure):
    wrk_mock.patch(ACTIVATE, body=failure)
    wrk_mock.patch(ACTIVATE, json=active())

    state = client.activate("wf-1")

    assert state.attempts == 2
    assert len(wrk_mock.calls) == 2


def test_it_reports_an_unreachable_wrk_as_transient(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, body=requests.ConnectionError("refused"))

    with pytest.raises(WrkTransientError) as caught:
        client.activate("wf-1")

    assert caught.value.attempts == 3
    assert len(wrk_mock.calls) == 3


def test_it_honours_retry_after_on_429(client, wrk_mock, sleeps):
    wrk_mock.patch(ACTIVATE, status=429, headers={"Retry-After": "4"}, json={"error": "slow"})
    wrk_mock.patch(ACTIVATE, json=active())

    state = client.activate("wf-1")

    # It waited what WRK asked for (more than its own backoff of a few milliseconds).
    assert sleeps == [4.0]
    assert state.attempts == 2


def test_it_backs_off_exponentially_with_jitter_between_attempts(wrk_mock, sleeps):
    policy = RetryPolicy(attempts=4, max_seconds=60, wait_initial=1, wait_max=8)
    client = WrkClient(base_url=BASE, token=TOKEN, retry=policy, sleep=sleeps)
    for _ in range(3):
        wrk_mock.patch(ACTIVATE, status=503)
    wrk_mock.patch(ACTIVATE, json=active())

    assert client.activate("wf-1").attempts == 4

    # Full jitter: each wait is drawn from 0 up to initial * 2**n, capped at wait_max.
    assert len(sleeps) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleeps, [1, 2, 4], strict=True))


def test_it_reads_retry_after_as_an_http_date(wrk_mock, sleeps):
    policy = RetryPolicy(attempts=3, max_seconds=300, wait_initial=0.001, wait_max=0.005)
    client = WrkClient(base_url=BASE, token=TOKEN, retry=policy, sleep=sleeps)
    in_two_minutes = formatdate(time.time() + 120, usegmt=True)
    wrk_mock.patch(ACTIVATE, status=503, headers={"Retry-After": in_two_minutes})
    wrk_mock.patch(ACTIVATE, json=active())

    assert client.activate("wf-1").attempts == 2
    # An HTTP date has a one-second resolution.
    assert sleeps == [pytest.approx(120, abs=1.5)]


def test_it_ignores_an_unreadable_retry_after(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, status=503, headers={"Retry-After": "soon"})
    wrk_mock.patch(ACTIVATE, json=active())

    assert client.activate("wf-1").attempts == 2


def test_it_gives_up_rather_than_wait_past_its_time_bound(wrk_mock, sleeps):
    client = WrkClient(
        base_url=BASE,
        token=TOKEN,
        retry=RetryPolicy(attempts=5, max_seconds=10, wait_initial=0.001, wait_max=0.005),
        sleep=sleeps,
    )
    wrk_mock.patch(ACTIVATE, status=503, headers={"Retry-After": "30"})

    with pytest.raises(WrkTransientError) as caught:
        client.activate("wf-1")

    # Waiting the 30 s asked for would cross the 10 s bound: it stops instead of sleeping.
    assert sleeps == []
    assert caught.value.attempts == 1
    assert caught.value.retry_after == 30


def test_it_stops_at_the_time_bound_against_a_slow_wrk():
    wrk = FakeWrk(token=TOKEN, latency=0.15).start()
    try:
        wrk.fail_next(10, status=503)
        client = WrkClient(
            base_url=wrk.url,
            token=TOKEN,
            retry=RetryPolicy(attempts=10, max_seconds=0.25, wait_initial=0.001, wait_max=0.005),
        )

        started = time.monotonic()
        with pytest.raises(WrkTransientError) as caught:
            client.activate("wf-1")
        elapsed = time.monotonic() - started
    finally:
        wrk.stop()

    assert 2 <= caught.value.attempts < 10
    assert len(wrk.calls_for("activate")) == caught.value.attempts
    assert elapsed < 1.0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html>oops</html>", "text/html"),
        ('["not", "an", "object"]', "application/json"),
        ('{"id": "wf-1"}', "application/json"),
        ('{"id": "wf-1", "active": "yes"}', "application/json"),
        ('{"id": "wf-1", "active": false}', "application/json"),
    ],
)
def test_it_takes_a_malformed_answer_as_permanent(client, wrk_mock, body, content_type):
    wrk_mock.patch(ACTIVATE, body=body, content_type=content_type)

    with pytest.raises(WrkPermanentError):
        client.activate("wf-1")

    assert len(wrk_mock.calls) == 1


def test_it_gets_a_workflow(client, wrk_mock):
    wrk_mock.get(WORKFLOW, json=active(False))

    state = client.get_workflow("wf-1")

    assert (state.workflow_id, state.active) == ("wf-1", False)


def test_it_does_not_retry_reads(client, wrk_mock):
    wrk_mock.get(WORKFLOW, status=503)

    with pytest.raises(WrkTransientError):
        client.get_workflow("wf-1")

    assert len(wrk_mock.calls) == 1


def test_it_lists_runs_from_a_cursor(client, wrk_mock):
    run = {"id": "wf-1-run-7", "workflow_id": "wf-1", "status": "success"}
    wrk_mock.get(
        f"{WORKFLOW}/runs",
        json={"runs": [run], "next_cursor": "8"},
        match=[responses.matchers.query_param_matcher({"since": "7", "limit": "50"})],
    )

    page = client.list_runs("wf-1", since="7", limit=50)

    assert (page.runs, page.next_cursor) == ([run], "8")


def test_it_lists_runs_without_a_cursor(client, wrk_mock):
    wrk_mock.get(
        f"{WORKFLOW}/runs",
        json={"runs": [], "next_cursor": None},
        match=[responses.matchers.query_param_matcher({"limit": "100"})],
    )

    page = client.list_runs("wf-1")

    assert (page.runs, page.next_cursor) == ([], None)


def test_it_rejects_runs_without_a_list(client, wrk_mock):
    wrk_mock.get(f"{WORKFLOW}/runs", json={"items": []})

    with pytest.raises(WrkPermanentError):
        client.list_runs("wf-1")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"error": "workflow is locked by another deploy"}, "workflow is locked by another deploy"),
        ({"error": {"code": "locked", "message": "workflow is locked"}}, "workflow is locked"),
        ({"message": "workflow is locked"}, "workflow is locked"),
        # JSON without a message of its own: the body as it came.
        ({"code": "locked"}, '{"code": "locked"}'),
        ("<html><body>Bad gateway</body></html>", "<html><body>Bad gateway</body></html>"),
        ("", ""),
    ],
)
def test_an_error_says_what_wrk_said_not_its_json(client, wrk_mock, body, said):
    if isinstance(body, dict):
        wrk_mock.patch(ACTIVATE, json=body, status=400)
    else:
        wrk_mock.patch(ACTIVATE, body=body, status=400)

    with pytest.raises(WrkPermanentError) as raised:
        client.activate("wf-1")

    assert raised.value.message == (f"HTTP 400: {said}" if said else "HTTP 400")


def test_what_wrk_said_is_cut_to_one_line_of_200_characters(client, wrk_mock):
    wrk_mock.patch(ACTIVATE, json={"error": "line one\nline two " + "x" * 300}, status=400)

    with pytest.raises(WrkPermanentError) as raised:
        client.activate("wf-1")

    assert raised.value.message.startswith("HTTP 400: line one line two xxx")
    assert len(raised.value.message) == len("HTTP 400: ") + 200


def test_the_stand_in_wrks_fault_reads_as_its_message():
    wrk = FakeWrk(token=TOKEN).start()
    try:
        wrk.fail_next(1, status=403, op="activate")
        client = WrkClient(base_url=wrk.url, token=TOKEN, retry=FAST)
        with pytest.raises(WrkPermanentError) as raised:
            client.activate("wf-1")
    finally:
        wrk.stop()
    assert raised.value.message == "HTTP 403: injected fault: HTTP 403"
