"""Handing one message to SMTP (or to the log when ``MAIL_SERVER`` is unset), and telling a
temporary failure from a permanent one.

SMTP reply codes (RFC 5321 §4.2.1): 4xx is "try again later" (greylisting, a full queue, a server
restarting), 5xx is "this will not work" (unknown mailbox, message refused, bad credentials).
A connection refused, reset or timed out is temporary too: the server may be back in a minute.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app


@dataclass
class DeliveryFailed(Exception):
    """A try failed. ``permanent``: the server answered 5xx (or the message cannot be built), so
    retrying will most likely fail the same way; ``reason`` is kept as ``last_error``."""

    reason: str
    permanent: bool

    def __str__(self) -> str:
        return self.reason


def build_message(row) -> EmailMessage:
    """The e-mail of an ``OutboxMessage`` row, with its stable ``Message-ID`` and its ``Date``
    (when it was queued), so every try sends the very same message."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(row.body)
    return message


def send(row) -> None:
    """Send one row's message. Returns when the server accepted it; raises ``DeliveryFailed``.

    Without ``MAIL_SERVER`` (development, the demo) the message is written to the log at INFO and
    counts as sent.
    """
    config = current_app.config
    try:
        message = build_message(row)
    except Exception as exc:  # noqa: BLE001 - a message that cannot be built never will be
        raise DeliveryFailed(f"cannot build the message: {exc!r}"[:1000], permanent=True) from exc
    if not config.get("MAIL_SERVER"):
        current_app.logger.info("Email (not sent: MAIL_SERVER unset)\n%s", message)
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                          timeout=config.get("MAIL_TIMEOUT_SECONDS", 10)) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        raise DeliveryFailed(f"recipient refused: {exc.recipients!r}"[:1000],
                             permanent=bool(codes) and all(code >= 500 for code in codes)) from exc
    except smtplib.SMTPResponseException as exc:  # sender or data refused, HELO, AUTH, connect
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryFailed(f"{exc.smtp_code} {text}"[:1000], permanent=exc.smtp_code >= 500) from exc
    except smtplib.SMTPNotSupportedError as exc:  # e.g. STARTTLS asked of a server without it
        raise DeliveryFailed(f"server does not support: {exc}"[:1000], permanent=True) from exc
    except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, disconnected
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:1000], permanent=False) from exc
