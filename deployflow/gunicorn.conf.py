"""gunicorn's configuration (`gunicorn -c deployflow/gunicorn.conf.py`), derived from the
Django settings so that the web server's limits can never sit below the app's own."""

import multiprocessing
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deployflow.settings.production")

from django.conf import settings

wsgi_app = "deployflow.wsgi:application"
# Behind the proxy that terminates TLS; GUNICORN_BIND=0.0.0.0:8000 in a container.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
# Threads, so that a deploy waiting on WRK (up to minutes) holds one thread, not a process.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A deploy request may last as long as its WRK calls can (DEPLOY_STALE_FLOOR_SECONDS, 149 s
# with the default WRK settings): a worker is killed, and a stopping one cut off, only
# well after that, so that no deploy is cut off between WRK's answer and its record.
timeout = settings.DEPLOY_STALE_FLOOR_SECONDS + 30
graceful_timeout = timeout
keepalive = 5
# Above the API's own limits, so that the app, not gunicorn, answers an oversized request,
# in JSON (431 header_too_large): one header may be several times API_MAX_HEADER_BYTES, and
# there may be as many headers as fit in it.
limit_request_line = 8190
limit_request_field_size = max(8190, 4 * settings.API_MAX_HEADER_BYTES)
limit_request_fields = min(32768, max(100, settings.API_MAX_HEADER_BYTES // 4))
# The app logs each request itself, with its id (deployflow.request); gunicorn logs its own
# events to stderr.
accesslog = None
errorlog = "-"


def child_exit(server: object, worker: object) -> None:
    """A dead worker's WRK latency samples stay in the sums; its live gauges go."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    """Import every view now, then move everything loaded so far out of the cyclic garbage
    collector's reach (gc.freeze): the app's modules, classes and URL patterns live as long
    as the process, and a full collection would otherwise walk them all, a pause of tens of
    milliseconds in the middle of whichever request triggers it (bench/load.py: p99 of a
    read 49.8 and 51.6 ms without, 44.7 and 45.8 ms with)."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and with it the views
    gc.freeze()
