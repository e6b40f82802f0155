"""Settings shared by every environment; each value comes from SPEC §6's variables."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from deployflow.logs import logging_config
from wrk_client.bounds import deploy_stale_floor, stale_setting_problem

from .email import anymail_settings, mailers_from_url
from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    # django.contrib.admin with deployflow's admin site.
    "deployflow.apps.AdminConfig",
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
    # Failed logins and API token failures, counted per address (the lockout).
    "axes",
]

MIDDLEWARE = [
    # First: the process answers /healthz whatever the Host, the scheme or the database.
    "deployflow.middleware.HealthzMiddleware",
    # Then the request's id, so that every line logged for it carries it (a 431 included).
    "deployflow.middleware.RequestIdMiddleware",
    # Before the rest of the stack, so that it measures a request under /v1/ before anything
    # else reads it.
    "api.middleware.ApiEdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

# Every page: scripts, styles, images and fonts from this site only, and nothing inline
# (no inline <script>, no style="" attribute; the templates keep both in static files), so
# an injected tag cannot run or restyle a page. No framing, no plugins, forms post here only.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

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
# One date format everywhere (deployflow/formats/): 2026-11-27 21:56 UTC.
FORMAT_MODULE_PATH = ["deployflow.formats"]

STATIC_URL = "static/"
# Where collectstatic writes (and WhiteNoise serves from, in production).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]

AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: it refuses a locked-out address before any password
    # is checked.
    "axes.backends.AxesStandaloneBackend",
    "deployflow.auth.OneQueryModelBackend",
]
# The lockout: AUTH_FAILURE_LIMIT failed admin or client logins, or API bearer tokens, from
# one address lock it out for AUTH_LOCKOUT_SECONDS (each new failure meanwhile restarts the
# wait). Per address only, so that nobody can lock a user out from elsewhere by guessing
# their password. Behind a proxy, TRUSTED_PROXY_COUNT says how many X-Forwarded-For hops
# to trust; without it every client would share the proxy's address.
AXES_FAILURE_LIMIT = env_int("AUTH_FAILURE_LIMIT", default=10, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("AUTH_LOCKOUT_SECONDS", default=900, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_LOCKOUT_CALLABLE = "deployflow.views.locked_out"
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
# Failed logins are kept in the admin (Axes > Access attempts); successes are not logged.
AXES_DISABLE_ACCESS_LOG = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Work off the request path (notification delivery) goes through django.tasks, stored in the
# same database so that a task enqueued inside the deploy transaction commits or rolls back
# with it. TASKS_REDIS_URL moves the queue to RQ (django-tasks-rq, the `rq` dependency
# group) once the database queue is outgrown; see the README's "Several machines".
TASKS_REDIS_URL = env_str("TASKS_REDIS_URL")
if TASKS_REDIS_URL:
    INSTALLED_APPS += ["django_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Each worker writes a heartbeat this often; one silent for WORKER_DEAD_AFTER_SECONDS is dead
# and the task it was running is failed. So a worker that stalls for a moment is not taken
# for dead, keep the second several times the first.
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", default=10.0, minimum=0.1)
WORKER_DEAD_AFTER_SECONDS = env_float("WORKER_DEAD_AFTER_SECONDS", default=60.0, minimum=1.0)
# How often each worker sweeps up after dead ones (it also does so when it starts).
WORKER_SWEEP_SECONDS = env_float("WORKER_SWEEP_SECONDS", default=30.0, minimum=0.1)

# --- Periodic jobs (`manage.py run_jobs`) -------------------------------------------------
# reconcile every minute: an interrupted deploy is picked up by a run that starts at most a
# minute after it turned stale, so it is finished within DEPLOY_STALE_AFTER_SECONDS + 60 s
# (plus that run's WRK calls).
JOB_RECONCILE_SECONDS = env_float("JOB_RECONCILE_SECONDS", default=60.0, minimum=0.1)
JOB_POLL_WRK_SECONDS = env_float("JOB_POLL_WRK_SECONDS", default=60.0, minimum=0.1)
JOB_PRUNE_SECONDS = env_float("JOB_PRUNE_SECONDS", default=86400.0, minimum=0.1)
# Raw run events older than this are pruned daily; hourly rollups and incidents stay.
RUN_EVENTS_RETENTION_DAYS = env_int("RUN_EVENTS_RETENTION_DAYS", default=30, minimum=1)

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
# How long the first answer to an Idempotency-Key is replayed (SPEC §5: retries within a
# day). Older keys are free again, and `manage.py prune_idempotency_keys` deletes them.
IDEMPOTENCY_KEY_TTL_SECONDS = env_int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600, minimum=1)

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

# --- Observability ------------------------------------------------------------------------
# `json`: one JSON object per line (time, level, logger, message, request_id, deploy_id, job)
# for a log shipper; `plain` for a terminal.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not one of plain, json.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO").upper())
# Prometheus scrapes /metrics with `Authorization: Bearer <METRICS_TOKEN>`; without a token,
# only staff sessions may read it.
METRICS_TOKEN = env_str("METRICS_TOKEN")
