"""Outgoing e-mail goes through the outbox (``shop/outbox/``): nothing is sent from here.

``send_mail`` writes the message into the current database transaction; it is delivered after the
commit (at once in-process, or by a worker when ``REDIS_URL`` is set), retried with back-off when
the SMTP server fails, and rolled back with the change that caused it.
"""
from __future__ import annotations


def send_mail(to: str, subject: str, body: str) -> None:
    """Queue a plain-text message to ``to`` in the current session (``db.session``).

    Call it *before* committing the change the message reports, so both commit or neither does.
    A message queued after the last commit of a request or CLI command is committed on its own
    when the request or command ends, provided nothing else is left uncommitted
    (``shop.outbox.services.commit_late_mail``). Never sends, so never fails on SMTP.
    """
    from shop.outbox.services import queue_mail

    queue_mail(to, subject, body)
