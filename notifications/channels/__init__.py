"""One module per delivery channel, all behind `Transport` (see base.py)."""

from ..models import Channel
from .base import Transport, TransportError
from .email import EmailTransport
from .slack import SlackTransport

__all__ = ["EmailTransport", "SlackTransport", "Transport", "TransportError", "transport_for"]


def transport_for(channel: str) -> Transport:
    if channel == Channel.EMAIL:
        return EmailTransport()
    if channel == Channel.SLACK:
        return SlackTransport()
    raise TransportError(f"Unknown channel {channel!r}.", permanent=True)
