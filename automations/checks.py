"""Settings the deploy's safety depends on: a system check, and the same rule for reconcile
to refuse to run under (so no caller can bypass it)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from wrk_client.bounds import stale_setting_problem


def deploy_stale_problem() -> str | None:
    return stale_setting_problem(
        stale_after=settings.DEPLOY_STALE_AFTER_SECONDS,
        attempts=settings.WRK_ACTIVATE_ATTEMPTS,
        connect_timeout=settings.WRK_CONNECT_TIMEOUT,
        read_timeout=settings.WRK_READ_TIMEOUT,
        max_wait=settings.WRK_RETRY_MAX_SECONDS,
    )


def check_deploy_stale_after(**kwargs: Any) -> list[CheckMessage]:
    problem = deploy_stale_problem()
    return [Error(problem, id="automations.E001")] if problem else []
