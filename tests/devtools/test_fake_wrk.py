"""The fake WRK Platform (devtools/fake_wrk), over real HTTP. No database."""

import time
from datetime import datetime, timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from devtools.fake_wrk import Call, FakeWrk
from wrk_client import RetryPolicy, WrkClient, WrkPermanentError, WrkTransientError

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = RetryPolicy(attempts=3, max_seconds=5, wait_initial=0.001, wait_max=0.005)


@pytest.fixture
def make_wrk():
    servers = []

    def make(**kwargs):
        kwargs.setdefault("token", TOKEN)
        server = FakeWrk(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def wrk(make_wrk):
    return make_wrk()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def client(wrk):
    return WrkClient(base_url=wrk.url, token=TOKEN, retry=FAST)


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def workflow_url(wrk, workflow_id, verb=""):
    return f"{wrk.url}/wrk-api/workflows/{workflow_id}" + (f"/{verb}" if verb else "")


# --- authentication and workflows --------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_it_requires_the_bearer_token(wrk, http, headers):
    response = http.patch(workflow_url(wrk, "wf-1", "activate"), headers=headers)

    assert response.status_code == 401
    assert "error" in response.json()
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert wrk.is_active("wf-1") is None


def test_it_requires_nothing_without_a_token(make_wrk, http):
    wrk = make_wrk(token=None)

    assert http.patch(workflow_url(wrk, "wf-1", "activate")).json() == {
        "id": "wf-1",
        "active": True,
    }


def test_it_knows_any_workflow_inactive_on_first_sight(wrk, http):
    response = http.get(workflow_url(wrk, "new-one"), headers=AUTH)

    assert (response.status_code, response.json()) == (200, {"id": "new-one", "active": False})
    assert wrk.is_active("new-one") is False


@pytest.mark.parametrize(("method", "verb"), [("GET", ""), ("PATCH", "activate"), ("GET", "runs")])
def test_it_answers_404_for_unknown_workflows_when_strict(make_wrk, http, method, verb):
    wrk = make_wrk(auto_create=False)
    wrk.add_workflow("known")

    unknown = http.request(method, workflow_url(wrk, "unknown", verb), headers=AUTH)
    known = http.request(method, workflow_url(wrk, "known", verb), headers=AUTH)

    assert (unknown.status_code, known.status_code) == (404, 200)
    assert "error" in unknown.json()
    assert wrk.is_active("unknown") is None


def test_it_activates_and_deactivates_once(wrk, http):
    def patch(verb):
        response = http.patch(workflow_url(wrk, "wf-1", verb), headers=AUTH)
        return response.status_code, response.json()

    assert patch("activate") == (200, {"id": "wf-1", "active": True})
    assert patch("activate") == (409, {"error": "already active"})
    assert wrk.is_active("wf-1") is True
    assert patch("deactivate") == (200, {"id": "wf-1", "active": False})
    assert patch("deactivate") == (409, {"error": "already inactive"})
    assert wrk.is_active("wf-1") is False


def test_a_restarted_stand_in_keeps_its_workflows_and_their_runs(make_wrk, http, tmp_path):
    """The demo restarts its processes; WRK must still run what the demo database says."""
    state = tmp_path / "wrk.json"
    clock = Clock()
    first = make_wrk(state_path=state, clock=clock)
    http.patch(workflow_url(first, "wf-live", "activate"), headers=AUTH).raise_for_status()
    http.patch(workflow_url(first, "wf-old", "activate"), headers=AUTH).raise_for_status()
    http.patch(workflow_url(first, "wf-old", "deactivate"), headers=AUTH).raise_for_status()
    clock.now += 600
    runs_before = http.get(workflow_url(first, "wf-live", "runs"), headers=AUTH).json()["runs"]
    first.stop()

    again = make_wrk(state_path=state, clock=clock)

    assert (again.is_active("wf-live"), again.is_active("wf-old")) == (True, False)
    runs_after = http.get(workflow_url(again, "wf-live", "runs"), headers=AUTH).json()["runs"]
    assert [run["id"] for run in runs_after] == [run["id"] for run in runs_before]
    assert make_wrk(clock=clock).is_active("wf-live") is None  # without a state file: new


def test_it_adds_workflows_in_a_given_state(wrk):
    wrk.add_workflow("on", active=True)
    wrk.add_workflow("off")

    assert (wrk.is_active("on"), wrk.is_active("off"), wrk.is_active("other")) == (
        True,
        False,
        None,
    )


def test_it_serves_the_client(wrk, client):
    assert client.activate("team/flow 1").already is False
    assert client.activate("team/flow 1").already is True
    assert wrk.is_active("team/flow 1") is True
    assert client.get_workflow("team/flow 1").active is True
    assert client.deactivate("team/flow 1").active is False
    assert [call.workflow_id for call in wrk.calls_for("activate")] == ["team/flow 1"] * 2


def test_it_records_calls_with_their_authorization(wrk, http):
    http.patch(workflow_url(wrk, "wf-1", "activate"), headers=AUTH)
    http.get(workflow_url(wrk, "wf-2"))

    assert wrk.calls == [
        Call(
            "PATCH", "/wrk-api/workflows/wf-1/activate", "activate", "wf-1", f"Bearer {TOKEN}", 200
        ),
        Call("GET", "/wrk-api/workflows/wf-2", "get", "wf-2", None, 401),
    ]
    assert wrk.calls_for("get") == wrk.calls[1:]
    assert wrk.calls_for("activate", "wf-2") == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("GET", "/wrk-api/workflows/", 404),
        ("GET", "/wrk-api/workflows/wf-1/explode", 404),
        ("GET", "/wrk-api/workflows/wf-1/activate", 405),
        ("POST", "/wrk-api/workflows/wf-1", 405),
        ("DELETE", "/wrk-api/workflows/wf-1", 405),
        ("GET", "/_control/reset", 405),
    ],
)
def test_it_answers_json_errors_for_unknown_endpoints(wrk, http, method, path, status):
    response = http.request(method, wrk.url + path, headers=AUTH)

    assert response.status_code == status
    assert "error" in response.json()
    assert wrk.calls[-1].op == "unknown"


# --- faults and latency ------------------------------------------------------------------


def test_fail_next_fails_only_the_matching_calls(wrk, http):
    wrk.add_workflow("a", active=True)
    wrk.add_workflow("b", active=True)
    wrk.fail_next(1, op="deactivate", workflow_id="b")

    def deactivate(workflow_id):
        return http.patch(workflow_url(wrk, workflow_id, "deactivate"), headers=AUTH).status_code

    assert http.get(workflow_url(wrk, "b"), headers=AUTH).status_code == 200
    assert deactivate("a") == 200
    assert deactivate("b") == 503
    assert wrk.is_active("b") is True
    assert deactivate("b") == 200


def test_fail_next_answers_the_status_retry_after_and_body_given(wrk, http):
    wrk.fail_next(1, status=429, retry_after=0.05)
    wrk.fail_next(1, status=502, body="<html>Bad Gateway</html>")
    url = workflow_url(wrk, "wf-1", "activate")

    throttled = http.patch(url, headers=AUTH)
    bad_gateway = http.patch(url, headers=AUTH)

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "0.05")
    assert "error" in throttled.json()
    assert (bad_gateway.status_code, bad_gateway.text) == (502, "<html>Bad Gateway</html>")
    assert wrk.is_active("wf-1") is None
    assert [call.status for call in wrk.calls] == [429, 502]


def test_the_client_retries_through_failures(wrk, client):
    wrk.fail_next(2, status=503, op="activate")

    assert client.activate("wf-1").attempts == 3
    assert [call.status for call in wrk.calls_for("activate")] == [503, 503, 200]


def test_call_fail_ratio_fails_that_share_of_calls_transiently_and_repeatably(make_wrk, http):
    def statuses(seed):
        wrk = make_wrk(call_fail_ratio=0.25, seed=seed)
        wrk.add_workflow("a", active=True)
        return [http.get(workflow_url(wrk, "a"), headers=AUTH).status_code for _ in range(200)]

    first = statuses(seed=7)

    assert set(first) == {200, 503}
    assert 30 <= first.count(503) <= 70  # 50 expected; the seed fixes the draw
    assert statuses(seed=7) == first


def test_a_flaky_wrk_still_activates_through_the_client_retries(make_wrk):
    wrk = make_wrk(call_fail_ratio=0.5, seed=3)
    client = WrkClient(
        base_url=wrk.url, token=TOKEN, retry=RetryPolicy(attempts=10, wait_initial=0, wait_max=0)
    )

    state = client.activate("wf-1")

    assert wrk.is_active("wf-1") is True
    # Seed 3 draws a failure, then a success.
    assert state.attempts == 2
    assert [call.status for call in wrk.calls_for("activate")] == [503, 200]


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_call_fail_ratio_must_be_a_share(ratio):
    with pytest.raises(ValueError, match="call_fail_ratio"):
        FakeWrk(call_fail_ratio=ratio)


@pytest.mark.parametrize(
    "kwargs",
    [{"n": -1}, {"n": 1, "status": 200}, {"n": 1, "op": "explode"}, {"n": 1, "retry_after": -1}],
)
def test_fail_next_rejects_nonsense(wrk, kwargs):
    with pytest.raises(ValueError, match=r"."):
        wrk.fail_next(**kwargs)


def test_refuse_next_drops_the_connection(wrk, http):
    wrk.refuse_next(1, op="get")
    url = workflow_url(wrk, "wf-1")

    with pytest.raises(requests.ConnectionError):
        http.get(url, headers=AUTH)

    assert http.get(url, headers=AUTH).status_code == 200
    assert [call.status for call in wrk.calls_for("get")] == [0, 200]


def test_the_client_retries_a_dropped_connection(wrk, client):
    wrk.refuse_next(1, op="activate", workflow_id="wf-1")

    assert client.activate("wf-1").attempts == 2


def test_latency_delays_every_wrk_call(wrk, http):
    wrk.latency = 0.1

    started = time.monotonic()
    http.get(workflow_url(wrk, "wf-1"), headers=AUTH)

    assert time.monotonic() - started >= 0.1


def test_a_timed_out_activation_that_went_through_is_already_active_on_retry(make_wrk):
    wrk = make_wrk(latency=0.15)
    impatient = WrkClient(
        base_url=wrk.url, token=TOKEN, retry=RetryPolicy(attempts=1), read_timeout=0.05
    )

    with pytest.raises(WrkTransientError):
        impatient.activate("wf-1")
    time.sleep(0.2)  # until the first activation has gone through
    wrk.latency = 0

    assert wrk.is_active("wf-1") is True
    assert impatient.activate("wf-1").already is True


def test_reset_forgets_calls_faults_and_latency_but_not_workflows(make_wrk, http):
    wrk = make_wrk(latency=0.01)
    wrk.add_workflow("wf-1", active=True)
    wrk.fail_next(5)
    http.get(workflow_url(wrk, "wf-1"), headers=AUTH)
    wrk.latency = 1

    wrk.reset()

    assert (wrk.calls, wrk.latency, wrk.is_active("wf-1")) == ([], 0.01, True)
    assert http.get(workflow_url(wrk, "wf-1"), headers=AUTH).status_code == 200


def test_it_stops_serving_open_connections(make_wrk, http):
    wrk = make_wrk()
    assert http.get(workflow_url(wrk, "wf-1"), headers=AUTH).status_code == 200

    wrk.stop()

    with pytest.raises(requests.ConnectionError):
        http.get(workflow_url(wrk, "wf-1"), headers=AUTH)


# --- runs --------------------------------------------------------------------------------


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def timed_wrk(make_wrk, clock):
    return make_wrk(clock=clock, run_interval=60)


def runs(wrk, http, workflow_id="wf-1", **params):
    response = http.get(workflow_url(wrk, workflow_id, "runs"), params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def test_runs_page_through_a_cursor(timed_wrk, http, clock):
    timed_wrk.add_workflow("wf-1", active=True)
    clock.now += 7 * 60 + 10  # runs 0 to 7, all finished

    pages = [runs(timed_wrk, http, since=since, limit=3) for since in (0, 3, 6, 8)]

    assert [[run["id"] for run in page["runs"]] for page in pages] == [
        ["wf-1-run-0", "wf-1-run-1", "wf-1-run-2"],
        ["wf-1-run-3", "wf-1-run-4", "wf-1-run-5"],
        ["wf-1-run-6", "wf-1-run-7"],
        [],
    ]
    assert [page["next_cursor"] for page in pages] == ["3", "6", "8", "8"]


def test_runs_are_well_formed_and_deterministic(timed_wrk, http, clock, make_wrk):
    other = make_wrk(clock=clock, run_interval=60)
    for server in (timed_wrk, other):
        server.add_workflow("wf-1", active=True)
    clock.now += 3 * 60 + 10

    page = runs(timed_wrk, http)

    assert page == runs(other, http)
    first = page["runs"][0]
    started = datetime.fromisoformat(first["started_at"])
    assert started.timestamp() == clock.now - 3 * 60 - 10
    assert started.utcoffset() == timedelta(0)
    for run in page["runs"]:
        assert run["workflow_id"] == "wf-1"
        assert run["status"] in {"success", "error"}
        assert (
            1
            <= (
                datetime.fromisoformat(run["finished_at"])
                - datetime.fromisoformat(run["started_at"])
            ).total_seconds()
            < 5
        )
        assert (run["error"] is not None) == (run["status"] == "error")


def test_about_one_run_in_ten_fails(make_wrk, http, clock):
    wrk = make_wrk(clock=clock, run_interval=1)
    wrk.add_workflow("busy", active=True)
    clock.now += 500 + 10

    statuses = [run["status"] for run in runs(wrk, http, "busy", limit=500)["runs"]]

    assert len(statuses) == 500
    assert 25 <= statuses.count("error") <= 75


def test_a_recent_run_is_running_and_the_cursor_waits_for_it(timed_wrk, http, clock):
    timed_wrk.add_workflow("wf-1", active=True)
    clock.now += 2

    running = runs(timed_wrk, http)
    clock.now += 10
    finished = runs(timed_wrk, http, since=running["next_cursor"])

    assert running["runs"][0]["status"] == "running"
    assert running["runs"][0]["finished_at"] is None
    assert running["next_cursor"] == "0"
    assert finished["runs"][0]["status"] in {"success", "error"}
    assert finished["next_cursor"] == "1"


def test_runs_only_while_active_and_number_them_across_activations(timed_wrk, http, clock):
    timed_wrk.add_workflow("wf-1", active=True)
    clock.now += 130  # runs 0, 1, 2
    timed_wrk.add_workflow("wf-1", active=False)
    clock.now += 1000
    timed_wrk.add_workflow("wf-1", active=True)
    clock.now += 70  # runs 3, 4

    page = runs(timed_wrk, http)

    assert [run["id"] for run in page["runs"]] == [f"wf-1-run-{k}" for k in range(5)]
    assert page["next_cursor"] == "5"


def test_runs_default_to_a_page_of_100(make_wrk, http, clock):
    wrk = make_wrk(clock=clock, run_interval=1)
    wrk.add_workflow("wf-1", active=True)
    clock.now += 150

    assert len(runs(wrk, http)["runs"]) == 100
    assert runs(wrk, http, since=100)["next_cursor"] == "146"  # runs 146 to 149 are running


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"since": "x"}])
def test_runs_reject_an_invalid_limit_or_cursor(wrk, http, params):
    response = http.get(workflow_url(wrk, "wf-1", "runs"), params=params, headers=AUTH)

    assert response.status_code == 400
    assert "error" in response.json()


def test_the_client_lists_runs(timed_wrk, clock):
    timed_wrk.add_workflow("wf-1", active=True)
    clock.now += 70
    client = WrkClient(base_url=timed_wrk.url, token=TOKEN, retry=FAST)

    page = client.list_runs("wf-1", limit=1)
    rest = client.list_runs("wf-1", since=page.next_cursor)

    assert [run["id"] for run in page.runs + rest.runs] == ["wf-1-run-0", "wf-1-run-1"]
    with pytest.raises(WrkPermanentError):
        client.list_runs("wf-1", limit=1000)


# --- control endpoints -------------------------------------------------------------------


def test_control_state_needs_no_token(wrk, http):
    wrk.add_workflow("wf-1", active=True)
    wrk.fail_next(2, op="activate")
    http.get(workflow_url(wrk, "wf-1"), headers=AUTH)

    state = http.get(f"{wrk.url}/_control/state").json()

    assert state["workflows"] == {"wf-1": {"active": True, "runs": 1}}
    assert state["calls"] == {"get": 1}
    assert [(fault["kind"], fault["remaining"], fault["op"]) for fault in state["faults"]] == [
        ("fail", 2, "activate")
    ]


def test_control_faults_inject_failures_refusals_and_latency(wrk, http):
    answer = http.post(
        f"{wrk.url}/_control/faults",
        json={"fail_next": 1, "status": 502, "op": "activate", "refuse_next": 1, "latency_ms": 20},
    )
    url = workflow_url(wrk, "wf-1", "activate")

    assert answer.status_code == 200
    assert answer.json()["latency_ms"] == 20
    assert wrk.latency == 0.02
    assert http.patch(url, headers=AUTH).status_code == 502
    with pytest.raises(requests.ConnectionError):
        http.patch(url, headers=AUTH)
    assert http.patch(url, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1]",
        b'{"fail_next": "3"}',
        b'{"fail_next": true}',
        b'{"fail_next": 1, "status": 200}',
        b'{"refuse_next": 1, "op": "explode"}',
        b'{"fail_next": 1, "latency_ms": -5}',
    ],
)
def test_control_faults_reject_nonsense_and_change_nothing(wrk, http, body):
    response = http.post(f"{wrk.url}/_control/faults", data=body)

    assert response.status_code == 400
    assert "error" in response.json()
    assert http.get(f"{wrk.url}/_control/state").json()["faults"] == []


def test_control_reset(wrk, http):
    wrk.add_workflow("wf-1", active=True)
    wrk.fail_next(3)

    state = http.post(f"{wrk.url}/_control/reset").json()

    assert (state["faults"], state["calls"]) == ([], {})
    assert state["workflows"]["wf-1"]["active"] is True


def test_control_endpoints_can_be_turned_off(make_wrk, http):
    wrk = make_wrk(control=False)

    assert http.get(f"{wrk.url}/_control/state").status_code == 404


# --- the management command --------------------------------------------------------------


def test_the_command_serves_a_configured_fake_wrk(monkeypatch, settings, http):
    settings.WRK_API_TOKEN = "from-settings"
    served = []

    def serve_forever(self):
        served.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(FakeWrk, "serve_forever", serve_forever)
    out = StringIO()
    call_command(
        "fake_wrk",
        "--port=0",
        "--strict",
        "--latency-ms=250",
        "--fail-next=2",
        "--fail-status=502",
        "--workflow",
        "a",
        "b",
        "--workflow=c",
        stdout=out,
    )
    (wrk,) = served
    wrk.latency = 0
    wrk.start()
    try:
        statuses = [
            http.get(workflow_url(wrk, "a"), headers={"Authorization": "Bearer from-settings"})
            for _ in range(3)
        ]
    finally:
        wrk.stop()

    assert f"listening on {wrk.url}" in out.getvalue()
    assert out.getvalue().rstrip().endswith("Stopped.")
    assert (wrk.auto_create, wrk.verbose) == (False, True)
    assert [wrk.is_active(workflow_id) for workflow_id in "abcd"] == [False, False, False, None]
    assert [response.status_code for response in statuses] == [502, 502, 200]


def test_the_command_requires_no_token_when_the_setting_is_empty(monkeypatch, settings):
    settings.WRK_API_TOKEN = ""
    served = []
    monkeypatch.setattr(FakeWrk, "serve_forever", lambda self: served.append(self))

    call_command("fake_wrk", "--port=0", stdout=StringIO())
    served[0].stop()

    assert served[0].token is None
