"""Issue 11.7: schemathesis against `/v1/openapi.json`, in process over WSGI, with bounded
examples: no answer is a 5xx, and every answer matches the document (status code, content
type, body schema, headers).

One default check is left out: "a schema-valid request is accepted". A request can be valid
in shape and still refused for what it says (a project that does not exist, a cursor that
no page handed out, `adopt` with a status other than Live); those 400s are documented
answers, and the other checks hold them to the document."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.services import api_token_create
from tests.factories import make_project, make_user, make_version

# Loaded in process at collection: serving the document touches no database.
schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def keep_connection():
    """The WSGI app would close the test's database connection after each request (Django's
    test client switches that off the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def no_lockout(settings):
    """Invalid credentials are part of the run, from one address: it must not be locked out
    (the lockout's own tests are in tests/api/test_throttle.py)."""
    settings.AXES_FAILURE_LIMIT = 1_000_000


@pytest.fixture
def token(db, wrk, keep_connection) -> str:
    """An ops token, and a project with a Live and a Ready version to act on."""
    ops = make_user(ops=True)
    project = make_project()
    make_version(project, "v1")
    make_version(project, "v2")
    return api_token_create(user=ops)[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_document_says(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance],
    )
