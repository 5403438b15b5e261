"""Account forms (Flask-WTF: every POST carries the CSRF token). Rules are the services'; the
forms only carry what was typed (``shop.forms`` pattern: every error at once, typed values kept)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"))
    password = PasswordField(_l("Password"))
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class TwoStepForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"))


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"))
    email = EmailField(_l("E-mail"))
    password = PasswordField(_l("Password"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"))


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"))
    new_password = PasswordField(_l("New password"))


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(_l("New e-mail address"))
    password = PasswordField(_l("Current password"))


class PasswordOnlyForm(FlaskForm):
    password = PasswordField(_l("Current password"))


class EnableTwoStepForm(FlaskForm):
    code = StringField(_l("The 6-digit code your app shows"))


class AddressForm(FlaskForm):
    recipient = StringField(_l("Recipient"))
    phone = StringField(_l("Phone"))
    street = StringField(_l("House number and street"))
    ward = StringField(_l("Ward or commune"))
    province = StringField(_l("Province or city"))


class EmptyForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class NewUserForm(FlaskForm):
    """An administrator creates a user; choices are filled in by the view (roles, shops, producers)."""

    email = EmailField(_l("E-mail"))
    name = StringField(_l("Name"))
    role = SelectField(_l("Role"), validate_choice=False)
    shop = SelectMultipleField(_l("Shops (staff)"), validate_choice=False)
    shop_role = SelectField(_l("Role in the shops"), validate_choice=False)
    producer = SelectField(_l("Producer (producer users)"), validate_choice=False)
