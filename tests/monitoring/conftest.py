from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import Client as HttpClient

from automations.models import WorkflowBinding
from devtools.fake_wrk import FakeWrk


@pytest.fixture
def secret(settings) -> str:
    return str(settings.WRK_WEBHOOK_SECRET)


@pytest.fixture
def webhook() -> HttpClient:
    """No session, no token, no CSRF token: the signature is the webhook's only credential."""
    return HttpClient(enforce_csrf_checks=True)


@pytest.fixture
def binding(live_project) -> WorkflowBinding:
    """The monitored binding of a Live version (deployed through the service)."""
    _, v1, _ = live_project
    return WorkflowBinding.objects.select_related("monitor").get(automation_version=v1)


class Clock:
    """The stand-in WRK's clock, moved by the test: its runs happen when the test says."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def wrk_clock() -> Clock:
    return Clock()


@pytest.fixture
def wrk(settings, wrk_clock) -> Iterator[FakeWrk]:
    """The stand-in WRK on a clock of the test's: a run a minute while a workflow is active,
    one in ten failing by its hash (unless a test forces failures)."""
    server = FakeWrk(token=settings.WRK_API_TOKEN, clock=wrk_clock, run_interval=60).start()
    settings.WRK_API_BASE_URL = server.url
    yield server
    server.stop()
