"""A delivery's message as its recipient got it, for the admin: rendered from the delivery's
payload by rendering.py, the functions the worker's channels send with, so that the page
cannot show one message while the worker sends another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .models import Channel, Delivery
from .rendering import render_email, render_slack


@dataclass(frozen=True, slots=True)
class Preview:
    channel: str
    subject: str = ""
    from_email: str = ""
    to: str = ""
    text: str = ""
    # The email's HTML part; empty for Slack.
    html: str = ""
    # Why the payload could not be rendered (a payload from before a template changed).
    error: str = ""


def delivery_preview(delivery: Delivery) -> Preview:
    try:
        if delivery.channel == Channel.SLACK:
            headline, blocks = render_slack(delivery.template, delivery.payload)
            return Preview(channel=delivery.channel, subject=headline, text=slack_text(blocks))
        subject, text, html = render_email(delivery.template, delivery.payload)
    except (KeyError, ValueError, TypeError) as exc:
        # A preview never takes the page down: say what is missing instead.
        return Preview(channel=delivery.channel, error=f"{type(exc).__name__}: {exc}")
    return Preview(
        channel=delivery.channel,
        subject=subject,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=delivery.recipient,
        text=text,
        html=html,
    )


def slack_text(blocks: list[dict[str, Any]]) -> str:
    """The Block Kit message as a reader sees it in Slack, in plain lines."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(block["text"]["text"])
        elif kind == "section" and "fields" in block:
            for field in block["fields"]:
                label, _, value = field["text"].partition("\n")
                lines.append(f"{label.strip('*')}: {value}")
        elif kind == "section":
            lines.append(block["text"]["text"])
        elif kind == "actions":
            lines.extend(
                f"[{element['text']['text']}] {element.get('url', '')}"
                for element in block["elements"]
            )
        lines.append("")
    return "\n".join(lines).strip()
