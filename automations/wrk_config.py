"""Builds the WRK client from settings, so that the client itself stays free of Django."""

import threading

import requests
from django.conf import settings

from wrk_client import RetryPolicy, WrkClient

_local = threading.local()


def wrk_session() -> requests.Session:
    """This thread's HTTP session to WRK: kept alive across calls, so that a deploy does not
    pay a TCP (and TLS) handshake per call. One per thread, as requests advises."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


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
        session=wrk_session(),
    )
