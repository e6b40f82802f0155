from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client as HttpClient

from api.services import api_token_create
from automations.deploy import automation_version_deploy
from automations.models import AutomationVersion, Project
from devtools.fake_wrk import FakeWrk

from .factories import make_project, make_user, make_version
from .servers import SlackServer, SmtpServer


@pytest.fixture
def wrk(settings) -> Iterator[FakeWrk]:
    """The stand-in WRK platform, over real HTTP on loopback."""
    server = FakeWrk(token=settings.WRK_API_TOKEN).start()
    settings.WRK_API_BASE_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def ops_user(db) -> User:
    return make_user(ops=True, email="ops1@agency.example")


@pytest.fixture
def live_project(
    wrk: FakeWrk, ops_user: User
) -> tuple[Project, AutomationVersion, AutomationVersion]:
    """A project whose v1 is Live (deployed through the service) and v2 Ready to Launch.

    The WRK calls made to set it up are forgotten, so tests count only their own."""
    project = make_project()
    v1 = make_version(project, "v1")
    v2 = make_version(project, "v2")
    automation_version_deploy(version_id=v1.pk, actor=ops_user, source="command")
    wrk.reset()
    return project, v1, v2


@pytest.fixture
def api_token(ops_user: User) -> str:
    return api_token_create(user=ops_user)[1]


@pytest.fixture
def api(api_token: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {api_token}"})


class InvalidTemplateVariable(str):
    """string_if_invalid that raises: a template naming a missing variable fails the test."""

    def __mod__(self, variable: object) -> str:
        raise AssertionError(f"template variable {variable!r} does not exist")


@pytest.fixture
def strict_templates(settings) -> None:
    engine = {**settings.TEMPLATES[0]}
    engine["OPTIONS"] = {**engine["OPTIONS"], "string_if_invalid": InvalidTemplateVariable("%s")}
    settings.TEMPLATES = [engine]


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 2},
        }
    }
    yield server
    server.stop()


@pytest.fixture
def slack(settings) -> Iterator[SlackServer]:
    server = SlackServer().start()
    settings.SLACK_WEBHOOK_URL = server.url
    yield server
    server.stop()


def run_worker() -> None:
    """The real task worker, until no task is due."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
