"""The test suite: always PostgreSQL (SPEC: SQLite is for the demo only)."""

import os

import dj_database_url

from .base import *  # noqa: F403
from .email import mailers_from_url

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/deployflow")
    )
}
SECRET_KEY = "test-secret-key-not-for-production-" + "x" * 20
WRK_API_BASE_URL = "http://127.0.0.1:9"
WRK_API_TOKEN = "test-wrk-token"
WRK_WEBHOOK_SECRET = "test-webhook-secret"
# Retries wait a few milliseconds in tests so that counting them stays fast.
WRK_RETRY_WAIT_INITIAL = 0.001
WRK_RETRY_WAIT_MAX = 0.005
WRK_CONNECT_TIMEOUT = 1.0
WRK_READ_TIMEOUT = 2.0
# Workers that tests start as subprocesses mail the test's SMTP server through this.
MAILERS = mailers_from_url(os.environ.get("TEST_EMAIL_URL", "locmem:"))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
NOTIFICATION_RETRY_BASE_SECONDS = 0.01
NOTIFICATION_RETRY_MAX_SECONDS = 0.05
# Dev-only: the stand-in WRK and the demo seed, which the tests exercise too.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # noqa: F405
# Outermost: every page a test renders is checked against the CSP (tests/csp_audit.py).
MIDDLEWARE = ["tests.csp_audit.CspAuditMiddleware", *MIDDLEWARE]  # noqa: F405
