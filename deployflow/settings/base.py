"""Settings shared by every environment; each value comes from SPEC §6's variables."""

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from wrk_client.bounds import deploy_stale_floor, stale_setting_problem

from .email import anymail_settings, mailers_from_url
from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before django_tasks_db: its `db_worker` command (heartbeat, sweeps) replaces theirs.
    "jobs",
    "django_tasks_db",
    # For its `graph_transitions` command (`make graph`).
    "django_fsm",
    "automations",
    "audit",
    "notifications",
    "monitoring",
    "api",
    "status",
]

MIDDLEWARE = [
    # First, so that it measures a request under /v1/ before anything else reads it.
    "api.middleware.ApiEdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "deployflow.urls"
WSGI_APPLICATION = "deployflow.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# SQLite is the embedded default for the demo only; tests and production use PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

AUTHENTICATION_BACKENDS = ["deployflow.auth.OneQueryModelBackend"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Work off the request path (notification delivery) goes through django.tasks, stored in the
# same database so that a task enqueued inside the deploy transaction commits or rolls back
# with it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Each worker writes a heartbeat this often; one silent for WORKER_DEAD_AFTER_SECONDS is dead
# and the task it was running is failed. So a worker that stalls for a moment is not taken
# for dead, keep the second several times the first.
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", default=10.0, minimum=0.1)
WORKER_DEAD_AFTER_SECONDS = env_float("WORKER_DEAD_AFTER_SECONDS", default=60.0, minimum=1.0)
# How often each worker sweeps up after dead ones (it also does so when it starts).
WORKER_SWEEP_SECONDS = env_float("WORKER_SWEEP_SECONDS", default=30.0, minimum=0.1)

# --- WRK Platform -------------------------------------------------------------------------
WRK_API_BASE_URL = env_str("WRK_API_BASE_URL", "http://127.0.0.1:8765").rstrip("/")
WRK_API_TOKEN = env_str("WRK_API_TOKEN", "")
# Comma-separated: every listed secret is accepted, so that WRK can rotate its secret.
WRK_WEBHOOK_SECRET = env_str("WRK_WEBHOOK_SECRET", "")
WRK_ACTIVATE_ATTEMPTS = env_int("WRK_ACTIVATE_ATTEMPTS", default=3, minimum=1)
# Bound on the whole retry loop, so a deploy never waits on WRK longer than this.
WRK_RETRY_MAX_SECONDS = env_float("WRK_RETRY_MAX_SECONDS", default=30.0)
# Exponential backoff with full jitter: wait ~ U(0, min(max, initial * 2**n)).
WRK_RETRY_WAIT_INITIAL = env_float("WRK_RETRY_WAIT_INITIAL", default=0.5)
WRK_RETRY_WAIT_MAX = env_float("WRK_RETRY_WAIT_MAX", default=8.0)
WRK_CONNECT_TIMEOUT = env_float("WRK_CONNECT_TIMEOUT", default=3.05)
WRK_READ_TIMEOUT = env_float("WRK_READ_TIMEOUT", default=10.0)
WRK_ALERT_CONSECUTIVE_FAILURES = env_int("WRK_ALERT_CONSECUTIVE_FAILURES", default=3, minimum=1)
# poll_wrk: WRK requests in flight at once, runs per page, and pages per workflow and run.
WRK_POLL_CONCURRENCY = env_int("WRK_POLL_CONCURRENCY", default=16, minimum=1)
WRK_POLL_PAGE_SIZE = env_int("WRK_POLL_PAGE_SIZE", default=500, minimum=1)
WRK_POLL_MAX_PAGES = env_int("WRK_POLL_MAX_PAGES", default=4, minimum=1)

# --- Deploy -------------------------------------------------------------------------------
DEPLOY_REQUIRE_APPROVAL = env_bool("DEPLOY_REQUIRE_APPROVAL", default=False)
# The version's author (who registered it) may not approve it, as in GitHub's and GitLab's
# protected environments.
DEPLOY_PREVENT_SELF_APPROVAL = env_bool("DEPLOY_PREVENT_SELF_APPROVAL", default=True)
# A deploy still "in progress" after this long was interrupted (its process died);
# `manage.py reconcile` finishes it. Below the time a deploy's WRK calls can take, reconcile
# could decide a deploy whose activation is still in flight: such a value is refused.
DEPLOY_STALE_FLOOR_SECONDS = deploy_stale_floor(
    attempts=WRK_ACTIVATE_ATTEMPTS,
    connect_timeout=WRK_CONNECT_TIMEOUT,
    read_timeout=WRK_READ_TIMEOUT,
    max_wait=WRK_RETRY_MAX_SECONDS,
)
DEPLOY_STALE_AFTER_SECONDS = env_int(
    "DEPLOY_STALE_AFTER_SECONDS", default=max(180, DEPLOY_STALE_FLOOR_SECONDS), minimum=1
)
# Checked here for the environment's values, and again by a system check (automations) for
# settings modules that change the WRK timeouts after this one.
if _problem := stale_setting_problem(
    stale_after=DEPLOY_STALE_AFTER_SECONDS,
    attempts=WRK_ACTIVATE_ATTEMPTS,
    connect_timeout=WRK_CONNECT_TIMEOUT,
    read_timeout=WRK_READ_TIMEOUT,
    max_wait=WRK_RETRY_MAX_SECONDS,
):
    raise ImproperlyConfigured(_problem)

# --- API ----------------------------------------------------------------------------------
# Requests under /v1/ over these get 413 / 431 in JSON. A webhook batch of 1,000 run events
# takes about 200 KB; 2 MiB leaves room for 1,000 events with about 2 KB of error text each
# (the part of an error that is stored), under Django's own cap of 2.5 MB.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024, minimum=1)
# The total of all request headers, cookies included. The web server's own limits must be
# higher, or it answers first, in HTML.
API_MAX_HEADER_BYTES = env_int("API_MAX_HEADER_BYTES", default=8 * 1024, minimum=1)

# --- Notifications ------------------------------------------------------------------------
SLACK_WEBHOOK_URL = env_str("SLACK_WEBHOOK_URL", "")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "deployflow <deployflow@localhost>")
OPS_EMAILS = env_list("OPS_EMAILS")
MAILERS = mailers_from_url(env_str("EMAIL_URL", "console:"))
ANYMAIL = anymail_settings()
# Transient delivery failures are retried with exponential backoff, this many times in all.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", default=6, minimum=1)
NOTIFICATION_RETRY_BASE_SECONDS = env_float("NOTIFICATION_RETRY_BASE_SECONDS", default=30.0)
NOTIFICATION_RETRY_MAX_SECONDS = env_float("NOTIFICATION_RETRY_MAX_SECONDS", default=3600.0)
# A delivery still "sending" after this long was interrupted by a dying worker, and a due
# delivery still "pending" after this long lost its task: the workers' sweep sends them again.
# A send is bounded by the SMTP and Slack timeouts (10 s), so this must stay well above them.
NOTIFICATION_SENDING_STALE_SECONDS = env_float(
    "NOTIFICATION_SENDING_STALE_SECONDS", default=60.0, minimum=1.0
)
# Absolute base of links in emails and Slack messages.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Status pages -------------------------------------------------------------------------
# A project whose success rate over the last 24 hours is below this is "degraded" (and so is
# a day of its 90-day row); see status/health.py.
STATUS_DEGRADED_BELOW_PERCENT = env_float(
    "STATUS_DEGRADED_BELOW_PERCENT", default=95.0, minimum=0.0
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"level": "INFO", "propagate": True}},
}
