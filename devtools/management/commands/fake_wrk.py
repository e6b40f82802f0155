"""`manage.py fake_wrk`: serve the local stand-in WRK Platform for the demo (SPEC §5)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.fake_wrk import Emitter, FakeWrk

_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(?:/\s*(min|s))?")


def runs_per_minute(text: str) -> float:
    """ "6/min", "0.5/s" or "6" (per minute) → runs per minute."""
    match = _RATE.fullmatch(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate such as 6/min or 0.5/s")
    value = float(match.group(1))
    return value * 60 if match.group(2) == "s" else value


class Command(BaseCommand):
    help = "Serve a local stand-in of the WRK Platform until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--token",
            default=None,
            help="Bearer token to require (default: settings.WRK_API_TOKEN; none when empty).",
        )
        parser.add_argument("--latency-ms", type=int, default=0, help="Delay of every WRK call.")
        parser.add_argument(
            "--fail-next", type=int, default=0, help="Answer the next N WRK calls with an error."
        )
        parser.add_argument("--fail-status", type=int, default=503)
        parser.add_argument(
            "--call-fail-ratio",
            type=float,
            default=0.0,
            help="Share of WRK calls (0 to 1) answered 503 at random, as a flaky platform would.",
        )
        parser.add_argument(
            "--state",
            type=Path,
            default=None,
            metavar="FILE",
            help="Keep the workflows in this JSON file across restarts (the demo's).",
        )
        parser.add_argument(
            "--run-interval", type=float, default=60.0, help="Seconds between runs of a workflow."
        )
        parser.add_argument(
            "--failure-ratio",
            type=float,
            default=0.1,
            help="Share of runs that fail (0 to 1); see also POST /_control/workflow.",
        )
        parser.add_argument(
            "--emit-to",
            metavar="URL",
            help="POST signed run events to this webhook (deployflow's "
            "/v1/webhooks/wrk/run-events).",
        )
        parser.add_argument(
            "--emit-rate",
            type=runs_per_minute,
            metavar="N/min",
            help="Runs of each active workflow per minute (e.g. 6/min); sets --run-interval.",
        )
        parser.add_argument(
            "--emit-every", type=float, default=2.0, help="Seconds between webhook batches."
        )
        parser.add_argument(
            "--secret",
            default=None,
            help="Webhook signing secret (default: the first of settings.WRK_WEBHOOK_SECRET).",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Answer 404 for workflows not given by --workflow.",
        )
        parser.add_argument(
            "--workflow",
            dest="workflows",
            nargs="+",
            action="extend",
            default=[],
            metavar="ID",
            help="Workflow(s) known from the start, inactive.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = options["token"] if options["token"] is not None else settings.WRK_API_TOKEN
        try:
            wrk = FakeWrk(
                host=options["host"],
                port=options["port"],
                token=token or None,
                auto_create=not options["strict"],
                latency=options["latency_ms"] / 1000,
                run_interval=60 / options["emit_rate"]
                if options["emit_rate"]
                else options["run_interval"],
                failure_ratio=options["failure_ratio"],
                call_fail_ratio=options["call_fail_ratio"],
                verbose=True,
                state_path=options["state"],
            )
            wrk.fail_next(options["fail_next"], status=options["fail_status"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for workflow_id in options["workflows"]:
            wrk.add_workflow(workflow_id)
        self.stdout.write(f"Fake WRK Platform listening on {wrk.url}")
        self.stdout.write(f"  auth: {'Bearer token required' if token else 'none'}")
        self.stdout.write(f"  control: GET {wrk.url}/_control/state, POST /_control/faults, /reset")
        emitter = self._emitter(wrk, options)
        self.stdout.write("Quit with Ctrl-C.")
        try:
            wrk.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            if emitter is not None:
                emitter.stop()

    def _emitter(self, wrk: FakeWrk, options: dict[str, Any]) -> Emitter | None:
        if not options["emit_to"]:
            return None
        secret = options["secret"]
        if secret is None:
            secret = next(iter(str(settings.WRK_WEBHOOK_SECRET).split(",")), "").strip()
        if not secret:
            raise CommandError("--emit-to needs a secret: --secret or WRK_WEBHOOK_SECRET.")
        try:
            emitter = Emitter(
                wrk,
                url=options["emit_to"],
                secret=secret,
                every=options["emit_every"],
                log=lambda line: self.stderr.write(f"emitter: {line}"),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"  emitting run events to {options['emit_to']} every {options['emit_every']:g} s "
            f"(a run every {wrk.run_interval:g} s per active workflow, "
            f"{wrk.failure_ratio:.0%} failing)"
        )
        self.stdout.write(
            f"  drift / failures: POST {wrk.url}/_control/workflow "
            '{"workflow_id": "...", "active": false, "fail_runs": 3}'
        )
        return emitter.start()
