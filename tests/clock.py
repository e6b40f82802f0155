"""An injected clock for the tests: travel in time instead of sleeping or lowering limits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone


@contextmanager
def later(seconds: float) -> Iterator[None]:
    """Everything inside runs `seconds` from now (and the clock keeps ticking)."""
    with time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=True):
        yield


def stale_deploys() -> contextlib.AbstractContextManager[None]:
    """Just past DEPLOY_STALE_AFTER_SECONDS: reconcile treats in-progress deploys as
    interrupted, exactly as it would that much later in real life."""
    return later(settings.DEPLOY_STALE_AFTER_SECONDS + 1)
