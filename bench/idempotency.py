"""What an Idempotency-Key costs (issue 11.4). Run: `.venv/bin/python -m bench.idempotency
[--requests N]`.

One mutating call that changes nothing each time (revoking the approval of a version that has
none: the token, the permission, the locked version, the answer), through Django's whole
request path in process, on PostgreSQL: without a key, with a new key each time (claim and
store), and with one key again (the replay, which skips the view). Queries per request and
the median time, the three interleaved so that all see the same machine.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable

from .setup import bench_database, median_ms, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with bench_database("deployflow_bench_idem"):
        run(args.requests)


def run(requests: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    from api.services import api_token_create
    from automations.models import AutomationVersion, Client, Project

    ops = User.objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    ops.groups.add(Group.objects.get(name="Ops"))
    client = Client.objects.create(name="C", slug="c", contact_email="c@example.com")
    project = Project.objects.create(client=client, name="P", slug="p")
    version = AutomationVersion.objects.create(project=project, version="v1")
    api = HttpClient(headers={"Authorization": f"Bearer {api_token_create(user=ops)[1]}"})
    path = f"/v1/automation-versions/{version.pk}/approval"
    keys = (f"key-{n}" for n in itertools.count())

    def without_key() -> None:
        assert api.delete(path).status_code == 200

    def new_key() -> None:
        assert api.delete(path, headers={"Idempotency-Key": next(keys)}).status_code == 200

    def replay() -> None:
        response = api.delete(path, headers={"Idempotency-Key": "the-same"})
        assert response["Idempotent-Replayed"] == "true"

    cases: dict[str, Callable[[], None]] = {
        "no key": without_key,
        "a new key (claim, view, store)": new_key,
        "the same key (replay, no view)": replay,
    }
    api.delete(path, headers={"Idempotency-Key": "the-same"})
    for case in cases.values():  # warm up: permissions cache, connection, imports
        case()
    counts = {}
    for label, case in cases.items():
        with CaptureQueriesContext(connection) as queries:
            case()
        counts[label] = len(queries)
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(requests):
        for label, case in cases.items():
            samples[label].append(timed(case))
    base = median_ms(samples["no key"])
    print(f"DELETE {path} (changes nothing), median of {requests} requests each:")
    for label in cases:
        ms = median_ms(samples[label])
        print(f"  {label:<32} {counts[label]:>2} queries  {ms:6.2f} ms  ({ms - base:+.2f} ms)")


if __name__ == "__main__":
    main()
