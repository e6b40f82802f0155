"""The demo's mail backend: every message becomes an .eml file of its own (EMAIL_URL=file:DIR),
which any mail client opens as the recipient would see it.

Django's file backend will not do: it appends every message of a connection to one .log
file, and the worker keeps its connection open across batches."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *, file_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(file_path).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            # The delivery's id, when the worker sent it, ties the file to its admin page.
            tag = message.extra_headers.get("X-Deployflow-Delivery") or secrets.token_hex(4)
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
            path = self.directory / f"{stamp}-delivery-{tag}.eml"
            path.write_bytes(message.message().as_bytes())
        return len(email_messages)
