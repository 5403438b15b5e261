"""The e-mail a producer's people get when an administrator decides one of their proposals.

Queued in the outbox (``shop.mail.send_mail``) by ``shop.portal.proposals.decide``, in the
decision's transaction: both are committed or neither is, and delivery happens after the commit
(retried by the outbox), so the decision never waits for the mail server. Written to every active
user (not disabled, not deleted) whose scope is the producer, in Vietnamese: the shop keeps no
language per user (an account has no language setting; orders keep theirs, ``Order.lang``), so the
default language is the one known to be read.
"""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.enums import Role
from shop.accounts.models import Membership, User
from shop.extensions import db
from shop.i18n import language, localized, supported_lang
from shop.mail import send_mail
from shop.portal.enums import ProposalState
from shop.portal.models import Proposal


def recipients(producer_id: int) -> list[User]:
    """The producer's active users (role producer, scope this producer), by id."""
    users = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                               .where(Membership.producer_id == producer_id, User.role == Role.PRODUCER)
                               .order_by(User.id))
    return [user for user in users if user.is_active]


def user_lang(user: User) -> str:
    """The language to write to ``user`` in: the account's if it ever records one (``lang``), else
    the default (vi) — today no account records a language."""
    return supported_lang(getattr(user, "lang", None))


def decision_mail(proposal: Proposal, link: str) -> tuple[str, str]:
    """(subject, body) of the decision e-mail in the current language: what was proposed, the
    decision, the administrator's note and the link to the producer's proposals page."""
    shop = current_app.config["SHOP_NAME"]
    what = f"#{proposal.id} · {proposal.kind.label}"
    if proposal.product is not None:
        what += f" · {localized(proposal.product, 'name')}"
    approved = proposal.state is ProposalState.APPROVED
    subject = (_("Proposal %(what)s approved — %(shop)s", what=f"#{proposal.id}", shop=shop) if approved
               else _("Proposal %(what)s rejected — %(shop)s", what=f"#{proposal.id}", shop=shop))
    decision = (_("An administrator of the OCOP office approved your proposal %(what)s: the change is published.",
                  what=what) if approved
                else _("An administrator of the OCOP office rejected your proposal %(what)s: nothing has changed.",
                       what=what))
    lines = [decision, ""]
    if proposal.note:
        lines += [_("Note from the OCOP office:"), proposal.note, ""]
    lines += [_("Your proposals and their decisions:"), link]
    return subject, "\n".join(lines) + "\n"


def send_decision(proposal: Proposal) -> list[str]:
    """Queue the decision e-mail to each of the producer's active users (in the caller's
    transaction; the caller commits). Returns the addresses written to (none: no active user)."""
    link = url_for("portal.proposals", slug=proposal.producer.slug, _external=True) + f"#proposal-{proposal.id}"
    sent = []
    for user in recipients(proposal.producer_id):
        with language(user_lang(user)):
            send_mail(user.email, *decision_mail(proposal, link))
        sent.append(user.email)
    return sent
