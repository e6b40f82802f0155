"""Property: whatever body a client sends about a Live version, the API answers 400 in its
error format (never 500), and nothing changes: no body can move a Live version."""

from __future__ import annotations

import json

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
