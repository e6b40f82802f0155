"""poll_wrk benchmark (issue 8). Run: `.venv/bin/python -m bench.poll`.

1,000 Live bindings, each monitored, against the stand-in WRK in its own process (so that
it does not share this one's interpreter lock), every workflow running once a minute:

1. the first poll after an hour: 61 runs per workflow to pull (a backfill);
2. a poll a minute later: one new run per workflow, the every-minute steady state;
3. a poll with nothing new.

Each prints WRK requests and seconds (and how much of it was WRK calls).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event

from .setup import bench_database, make_monitored_bindings

TOKEN = "bench-wrk-token"


def serve_wrk(port: int, workflow_ids: list[str], offset: Synchronized, ready: Event) -> None:
    """The stand-in WRK, in a child process; its clock runs `offset` seconds ahead."""
    from devtools.fake_wrk import FakeWrk

    wrk = FakeWrk(
        port=port,
        token=TOKEN,
        clock=lambda: time.time() + offset.value,
        run_interval=60,
        control=False,
    )
    for workflow_id in workflow_ids:
        wrk.add_workflow(workflow_id, active=True)
    ready.set()
    wrk.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bindings", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    with bench_database("deployflow_bench_poll"):
        run(args.bindings, args.concurrency)


def run(count: int, concurrency: int | None) -> None:
    from django.conf import settings

    from monitoring.poll import wrk_poll
    from tests.servers import free_port

    bindings = make_monitored_bindings(count)
    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    offset = spawn.Value("d", 0.0)
    ready = spawn.Event()
    child = spawn.Process(
        target=serve_wrk, args=(port, [w for _, w in bindings], offset, ready), daemon=True
    )
    child.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the stand-in WRK did not start")
        settings.WRK_API_BASE_URL = f"http://127.0.0.1:{port}"
        settings.WRK_API_TOKEN = TOKEN
        workers = concurrency or settings.WRK_POLL_CONCURRENCY
        print(
            f"poll_wrk over {count:,} Live bindings, {workers} WRK requests in flight, "
            f"pages of {settings.WRK_POLL_PAGE_SIZE}:"
        )
        for label, advance in [
            ("first poll, an hour of runs (61 per workflow)", 3600 + 10),
            ("a minute later (1 new run per workflow)", 60),
            ("nothing new", 0),
        ]:
            with offset.get_lock():
                offset.value += advance
            report = wrk_poll(
                concurrency=workers,
                page_size=settings.WRK_POLL_PAGE_SIZE,
                max_pages=settings.WRK_POLL_MAX_PAGES,
            )
            assert report.wrk_errors == 0, report.summary()
            print(
                f"  {label:<48} {report.requests:>6,} requests  {report.seconds:6.2f} s "
                f"(WRK calls {report.wrk_seconds:5.2f} s)  {report.accepted:>7,} events stored"
            )
    finally:
        child.terminate()
        child.join(10)


if __name__ == "__main__":
    main()
