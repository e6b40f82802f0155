from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from automations.models import WorkflowBinding


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
