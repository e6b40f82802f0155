from typing import Any

from django.core.management.base import BaseCommand

from api.services import idempotency_keys_prune


class Command(BaseCommand):
    help = (
        "Delete the Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_SECONDS (24 h): "
        "their answers are no longer replayed. Safe to run at any time, from several machines."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_keys_prune()
        self.stdout.write(f"Pruned {deleted} idempotency key(s).")
