"""E-mails about an account, written in the page's language and queued in the outbox
(``shop.mail.send_mail``): the caller commits them with the change they report; delivery happens
after the commit, so the page's answer never depends on the mail server (which would tell who has
an account)."""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

from shop.accounts import services
from shop.accounts.models import User
from shop.mail import send_mail


def _minutes(seconds: int) -> int:
    return max(1, seconds // 60)


def send_reset(user: User) -> None:
    link = url_for("accounts.reset_password", token=services.reset_token(user), _external=True)
    minutes = _minutes(current_app.config["PASSWORD_RESET_MAX_AGE"])
    send_mail(user.email, _("Choose a new password — %(shop)s", shop=current_app.config["SHOP_NAME"]),
              _("Someone (we hope you) asked to choose a new password for your account.\n\n"
                "Open this link within %(minutes)d minutes to choose it; it works once:\n%(link)s\n\n"
                "If it was not you, ignore this message: your password stays as it is.",
                minutes=minutes, link=link))


def send_verification(user: User) -> None:
    link = url_for("accounts.verify_email", token=services.verify_token(user), _external=True)
    send_mail(user.email, _("Confirm your e-mail address — %(shop)s", shop=current_app.config["SHOP_NAME"]),
              _("Welcome! Open this link to confirm your e-mail address. Orders you placed as a guest "
                "with this address will then appear in your account:\n%(link)s\n\n"
                "If you did not create an account, ignore this message.", link=link))


def send_already_registered(user: User) -> None:
    link = url_for("accounts.forgot_password", _external=True)
    send_mail(user.email, _("Your account — %(shop)s", shop=current_app.config["SHOP_NAME"]),
              _("Someone (we hope you) tried to create an account with this e-mail address, which "
                "already has one. To sign in without your password, choose a new one here:\n%(link)s\n\n"
                "If it was not you, ignore this message.", link=link))


def send_email_change(user: User, new_email: str, token: str) -> None:
    link = url_for("accounts.confirm_email", token=token, _external=True)
    send_mail(new_email, _("Confirm your new e-mail address — %(shop)s", shop=current_app.config["SHOP_NAME"]),
              _("Open this link to use this address for your account from now on:\n%(link)s\n\n"
                "If you did not ask for this, ignore this message.", link=link))
