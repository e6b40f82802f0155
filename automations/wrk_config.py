"""Builds the WRK client from settings, so that the client itself stays free of Django."""

from django.conf import settings

from .wrk import RetryPolicy, WrkClient


def wrk_client() -> WrkClient:
    return WrkClient(
        base_url=settings.WRK_API_BASE_URL,
        token=settings.WRK_API_TOKEN,
        retry=RetryPolicy(
            attempts=settings.WRK_ACTIVATE_ATTEMPTS,
            max_seconds=settings.WRK_RETRY_MAX_SECONDS,
            wait_initial=settings.WRK_RETRY_WAIT_INITIAL,
            wait_max=settings.WRK_RETRY_WAIT_MAX,
        ),
        connect_timeout=settings.WRK_CONNECT_TIMEOUT,
        read_timeout=settings.WRK_READ_TIMEOUT,
    )
