"""Production: refuses to start without its secrets; `check --deploy` is clean."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .email import EML_FILES, mailers_from_url
from .env import env_bool, env_int, env_required, env_str

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 varied characters.")
WRK_API_TOKEN = env_required("WRK_API_TOKEN")
WRK_WEBHOOK_SECRET = env_required("WRK_WEBHOOK_SECRET")
# A connection per gunicorn thread, kept across requests: opening one per request costs a
# PostgreSQL backend start each time, which made a read 3x slower under load (bench/load.py).
# The health check replaces a connection the server closed (a restart, a failover) before the
# request uses it. PostgreSQL's max_connections must cover WEB_CONCURRENCY x GUNICORN_THREADS
# per machine, plus the worker and the jobs (see the README's "Several machines").
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=600)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# Printing mail to a console is no way to reach a client: default to a local MTA.
MAILERS = mailers_from_url(env_str("EMAIL_URL", "smtp://localhost:25"))
if MAILERS["default"]["BACKEND"] == EML_FILES:
    raise ImproperlyConfigured("EMAIL_URL=file: is the demo's (devtools); production sends mail.")

# WhiteNoise serves the static files from the app server, right after SecurityMiddleware (so
# HTTPS and HSTS apply to them too): hashed names cached for a year, gzip and Brotli copies
# made once by collectstatic.
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Trusted only because the proxy in front (see the README's checklist) overwrites it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes and Prometheus speak plain HTTP to the process, inside the network.
SECURE_REDIRECT_EXEMPT = [r"^readyz$", r"^metrics$"]
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
