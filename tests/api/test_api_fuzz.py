"""Properties: whatever body a client sends about a Live version, the API answers 400 in its
error format (never 500), and nothing changes: no body can move a Live version. And whatever
method, path under /v1/ and body a client sends, the answer is JSON and never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automations.models import AutomationVersion

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = (
    json_values.map(json.dumps)
    | st.dictionaries(
        st.sampled_from(["status", "Status", "state", ""]),
        json_values | st.sampled_from(["Live", "live", "Archived", "Draft", "Ready to Launch"]),
        max_size=2,
    ).map(json.dumps)
    | st.binary(max_size=40)
)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
def test_any_body_about_a_live_version_gets_a_clear_400_and_changes_nothing(
    api, live_project, body
):
    _, v1, v2 = live_project
    response = api.patch(
        f"/v1/automation-versions/{v1.pk}/status", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["message"]
    assert AutomationVersion.objects.get(pk=v1.pk).status == "Live"
    assert AutomationVersion.objects.get(pk=v2.pk).status == "Ready to Launch"


def _nested(depth_and_kinds: tuple[int, list[str], bool]) -> str:
    depth, kinds, closed = depth_and_kinds
    openers = [kinds[i % len(kinds)] for i in range(depth)]
    opening = "".join('{"a": ' if kind == "{" else "[" for kind in openers)
    closing = "".join("}" if kind == "{" else "]" for kind in reversed(openers))
    return opening + "1" + (closing if closed else "")


nestings = st.tuples(
    st.integers(min_value=0, max_value=5_000),
    st.lists(st.sampled_from(["[", "{"]), min_size=1, max_size=4),
    st.booleans(),
).map(_nested)
hostile_bodies = (
    st.binary(max_size=2_000)
    | nestings.map(str.encode)
    | st.text(alphabet='[]{}"\\:,1 a', max_size=3_000).map(str.encode)
)
segments = st.lists(
    st.text(max_size=30).map(lambda segment: quote(segment, safe=""))
    | st.sampled_from(["automation-versions", "status", "openapi.json", "0", "9" * 40, "-1"]),
    max_size=4,
)


@pytest.mark.django_db
@pytest.mark.usefixtures("no_error_logs")
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "PATCH", "POST", "PUT", "DELETE", "OPTIONS"]),
    under_version=st.booleans(),
    tail=segments,
    body=hostile_bodies,
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; x=y"]),
)
def test_anything_under_v1_answers_json_and_never_5xx(
    api, live_project, method, under_version, tail, body, content_type
):
    _, v1, v2 = live_project
    # Only the Live version is addressed, which no request can change.
    head = ["automation-versions", str(v1.pk)] if under_version else []
    path = "/v1/" + "/".join([*head, *tail])
    response = api.generic(method, path, body, content_type=content_type)
    assert response.status_code < 500, (path, response.content[:300])
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    if response.status_code >= 400:
        assert set(answer) == {"error"}
        assert set(answer["error"]) == {"code", "message"}
        assert answer["error"]["code"]
        assert answer["error"]["message"]
    assert AutomationVersion.objects.get(pk=v1.pk).status == "Live"
    assert AutomationVersion.objects.get(pk=v2.pk).status == "Ready to Launch"
