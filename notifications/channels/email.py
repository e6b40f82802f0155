"""Email through Django's default mailer: SMTP, an anymail ESP, or the console in the demo."""

from __future__ import annotations

import contextlib
import smtplib
import threading
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from ..models import Delivery
from ..rendering import render_email
from .base import Transport, TransportError


def _smtp_error(exc: smtplib.SMTPException) -> TransportError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return TransportError(
            f"SMTP refused the recipient: {exc.recipients}",
            permanent=bool(codes) and all(code >= 500 for code in codes),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        message = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        # 5xx is the server's final word; 4xx means "try again later".
        return TransportError(f"SMTP {exc.smtp_code}: {message}", permanent=exc.smtp_code >= 500)
    return TransportError(f"SMTP: {exc}")


def _anymail_error(exc: Exception) -> TransportError | None:
    try:
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        return None
    if isinstance(exc, AnymailRecipientsRefused):
        return TransportError(f"The ESP refused the recipient: {exc}", permanent=True)
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        transient = status is None or status == 429 or status >= 500
        return TransportError(f"ESP error: {exc}", permanent=not transient)
    return None


def message_id(delivery: Delivery) -> str:
    """The same on every send of a delivery: when a worker dies after the server took a
    message but before it could record so, the retry's copy is dropped by mail clients."""
    domain = (
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
        or urlsplit(settings.SITE_URL).hostname
        or "localhost"
    )
    # created_at tells apart the deliveries of two databases that reuse the same ids.
    return f"<delivery-{delivery.pk}.{int(delivery.created_at.timestamp())}@{domain}>"


class EmailTransport(Transport):
    """Keeps one mail connection per worker thread open across batches: an SMTP session
    (TCP, EHLO, STARTTLS, AUTH) costs more than the message it carries."""

    def message(self, delivery: Delivery) -> EmailMultiAlternatives:
        subject, text, html = render_email(delivery.template, delivery.payload)
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.recipient],
            headers={"Message-ID": message_id(delivery), "X-Deployflow-Delivery": str(delivery.pk)},
        )
        message.attach_alternative(html, "text/html")
        return message

    def send(self, delivery: Delivery) -> None:
        message = self.message(delivery)
        try:
            try:
                sent = _connection().send_messages([message])
            except smtplib.SMTPServerDisconnected:
                # The kept session went stale (the server's idle timeout): one fresh try.
                _drop_connection()
                sent = _connection().send_messages([message])
        except smtplib.SMTPException as exc:
            _drop_connection()
            raise _smtp_error(exc) from exc
        except OSError as exc:
            _drop_connection()
            raise TransportError(f"Mail server unreachable: {exc}") from exc
        except Exception as exc:
            error = _anymail_error(exc)
            if error is None:
                raise
            raise error from exc
        if not sent:
            raise TransportError("The mail backend accepted no message.")


_local = threading.local()


def _connection() -> Any:
    """This thread's mail connection for the current MAILERS setting, opened once."""
    config = repr(settings.MAILERS.get("default"))
    cached = getattr(_local, "connection", None)
    if cached is None or _local.config != config:
        _drop_connection()
        cached = _local.connection = mail.mailers.default
        _local.config = config
        # Backends without sessions (console, locmem, most ESPs) make open() a no-op.
        cached.open()
    return cached


def _drop_connection() -> None:
    cached = getattr(_local, "connection", None)
    _local.connection = None
    if cached is not None:
        with contextlib.suppress(Exception):
            cached.close()
