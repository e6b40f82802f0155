"""`manage.py fake_wrk`: serve the local stand-in WRK Platform for the demo (SPEC §5)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.fake_wrk import FakeWrk


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
            "--run-interval", type=float, default=60.0, help="Seconds between runs of a workflow."
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
                run_interval=options["run_interval"],
                verbose=True,
            )
            wrk.fail_next(options["fail_next"], status=options["fail_status"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for workflow_id in options["workflows"]:
            wrk.add_workflow(workflow_id)
        self.stdout.write(f"Fake WRK Platform listening on {wrk.url}")
        self.stdout.write(f"  auth: {'Bearer token required' if token else 'none'}")
        self.stdout.write(f"  control: GET {wrk.url}/_control/state, POST /_control/faults, /reset")
        self.stdout.write("Quit with Ctrl-C.")
        try:
            wrk.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
