"""Slack through an incoming webhook (slack-sdk's WebhookClient)."""

from __future__ import annotations

from urllib.error import URLError

from django.conf import settings
from slack_sdk.webhook import WebhookClient

from ..models import Delivery
from ..rendering import render_slack
from .base import Transport, TransportError


def _retry_after(headers: dict[str, str | list[str]]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except ValueError:
                return None
    return None


class SlackTransport(Transport):
    def send(self, delivery: Delivery) -> None:
        url = settings.SLACK_WEBHOOK_URL
        if not url:
            raise TransportError("SLACK_WEBHOOK_URL is not set.", permanent=True)
        text, blocks = render_slack(delivery.template, delivery.payload)
        # Retries are the worker's, with its backoff and bound: none inside the client.
        client = WebhookClient(url, timeout=10, retry_handlers=[])
        try:
            response = client.send(text=text, blocks=blocks)
        except (URLError, OSError) as exc:
            raise TransportError(f"Slack unreachable: {exc}") from exc
        status = response.status_code
        if status == 200:
            return
        detail = f"Slack answered HTTP {status}: {(response.body or '')[:200]}"
        if status == 429:
            raise TransportError(detail, retry_after=_retry_after(response.headers))
        raise TransportError(detail, permanent=status < 500)
