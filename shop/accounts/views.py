"""Account pages under ``/account``: sign-in (with two-step), sign-out, registration, e-mail links,
password reset, and a customer's own pages (orders, reorder, addresses, e-mail, password, closing).

Every page that changes something is a POST carrying the CSRF token (Flask-WTF). Pages that
answer about an e-mail address (sign-in, forgotten password, registration) give the same answer,
in about the same time, whether or not the address has an account. How each session, link and
lockout ends is written in the README ("Accounts and roles").
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import segno
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from shop.accounts import bp, mails
from shop.accounts import services as accounts
from shop.accounts.enums import Role
from shop.accounts.forms import (AddressForm, ChangeEmailForm, ChangePasswordForm, EmptyForm, EnableTwoStepForm,
                                 ForgotForm, PasswordOnlyForm, RegisterForm, ResetForm, SignInForm, TwoStepForm)
from shop.accounts.models import User, normalize_email
from shop.errors import DomainError, NotFound
from shop.extensions import db, limiter
from shop.forms import apply_errors, field_errors
from shop.headers import NO_STORE, no_store
from shop.timeutil import utcnow

PENDING_KEY = "two_step_pending"   # {"u": user id, "v": session version, "r": remember, "t": epoch}
SETUP_KEY = "two_step_setup"       # the secret shown as a QR code until the first code confirms it
PENDING_SECONDS = 300              # the password step is good for 5 minutes of the two-step step


# ---- rate limits ------------------------------------------------------------------------------


def _config_limit(name: str):
    return lambda: current_app.config[name]


def _email_key() -> str:
    """The rate-limit key of the account a form names (its e-mail), whether or not it exists."""
    return "account:" + normalize_email(request.form.get("email"))[:254]


def _pending_key() -> str:
    pending = session.get(PENDING_KEY) or {}
    return f"two-step:{pending.get('u')}"


def _failed(response) -> bool:
    """Only failed attempts count towards a lockout (a success answers with a redirect)."""
    return response.status_code >= 400


def _too_many(_limit):
    """The page shown when a limit is reached: a 429 that says when to try again and how to get in
    at once (the e-mailed reset link is never locked)."""
    return no_store(make_response(render_template("accounts/too_many.html"), 429))


def _per_address(name, only_failures: bool = False):
    """A limit per client address. For sign-in (both steps) only failures count: several clerks
    behind one shop's NAT sign in many times a day, and a correct sign-in is no guessing; for
    registration and mails sent, every request does."""
    return limiter.limit(_config_limit(name), methods=["POST"], scope=f"{name}:ip", on_breach=_too_many,
                         deduct_when=_failed if only_failures else None, override_defaults=False)


def _per_account(name, key_func=_email_key, only_failures: bool = True):
    """A limit per account (the e-mail typed, or the account waiting for its second step). For
    sign-in only failures count (the lockout); for mails sent, every request does."""
    return limiter.limit(_config_limit(name), key_func=key_func, methods=["POST"], scope=name,
                         deduct_when=_failed if only_failures else None, on_breach=_too_many,
                         override_defaults=False)


# ---- helpers ---------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after signing in; anything else (another host, a
    scheme, ``//host``, backslashes) is dropped."""
    if not target or len(target) > 500 or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def landing_url(user: User) -> str:
    """Where a user lands after signing in: the back office, or a customer's account page."""
    return url_for("backoffice.index") if user.role.back_office else url_for("accounts.index")


def _no_store(response):
    return no_store(make_response(response))


def _render(template: str, form, order, status: int = 200, general=(), **context):
    return _no_store((render_template(template, form=form, field_errors=field_errors(form, order),
                                      general=list(general), **context), status))


def _finish_sign_in(user: User, remember: bool, next_url: str | None):
    """Start the session (a fresh one: nothing from before sign-in is kept), merge the guest's
    cart into the account's, and go on."""
    from shop.cart.views import current_cart_token, set_cart_cookie

    guest_token = current_cart_token()
    session.clear()
    login_user(user, remember=remember, duration=timedelta(days=current_app.config["REMEMBER_DAYS"]))
    accounts.record_sign_in(user)
    cart = accounts.merge_guest_cart(user, guest_token)
    token = cart.token if cart is not None else None
    db.session.commit()
    if accounts.must_set_up_two_step(user):
        flash(_("Administrators must use two-step sign-in. Set it up to continue."), "info")
        response = redirect(url_for("accounts.two_step_setup"))
    else:
        response = redirect(next_url or landing_url(user))
    return set_cart_cookie(response, token) if token else response


# ---- signing in and out -----------------------------------------------------------------------

SIGN_IN_FIELDS = ("email", "password")


@bp.route("/sign-in", methods=["GET", "POST"])
@_per_address("SIGN_IN_LIMIT_PER_ADDRESS", only_failures=True)
@_per_account("SIGN_IN_LIMIT_PER_ACCOUNT")
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = _safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(landing_url(current_user))
        return _render("accounts/sign_in.html", form, SIGN_IN_FIELDS)
    if not form.validate_on_submit():  # the CSRF token
        return _render("accounts/sign_in.html", form, SIGN_IN_FIELDS, 400,
                       general=[_("The form has expired. Please try again.")])
    user = accounts.authenticate(form.email.data, form.password.data)
    if user is None:
        db.session.rollback()
        return _render("accounts/sign_in.html", form, SIGN_IN_FIELDS, 400,
                       general=[_("The e-mail address or the password is not right.")])
    next_url = _safe_next(form.next.data)
    if accounts.needs_two_step(user):
        db.session.commit()  # a rehashed password
        session[PENDING_KEY] = {"u": user.id, "v": user.session_version, "r": bool(form.remember.data),
                                "t": int(utcnow().timestamp()), "n": next_url}
        return redirect(url_for("accounts.two_step"))
    return _finish_sign_in(user, bool(form.remember.data), next_url)


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("u"), int):
        return None
    if int(utcnow().timestamp()) - int(pending.get("t") or 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending["u"])
    if user is None or not user.is_active or user.session_version != pending.get("v"):
        return None
    return user


@bp.route("/sign-in/two-step", methods=["GET", "POST"])
@_per_address("TWO_STEP_LIMIT_PER_ADDRESS", only_failures=True)
@_per_account("TWO_STEP_LIMIT_PER_ACCOUNT", key_func=_pending_key)
def two_step():
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("accounts.sign_in"))
    form = TwoStepForm()
    if request.method == "POST":
        if form.validate_on_submit() and accounts.check_second_factor(user, form.code.data):
            pending = session.pop(PENDING_KEY)
            return _finish_sign_in(user, bool(pending.get("r")), _safe_next(pending.get("n")))
        db.session.rollback()
        form.code.errors = [_("This code is not right, or has been used already.")]
        return _render("accounts/two_step.html", form, ("code",), 400)
    return _render("accounts/two_step.html", form, ("code",))


@bp.post("/sign-out")
def sign_out():
    from shop.cart.views import clear_cart_cookie

    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("catalog.home"))
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)  # this device and every other, remember cookies too
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return clear_cart_cookie(redirect(url_for("catalog.home")))


# ---- registration, verification, forgotten password ------------------------------------------

REGISTER_FIELDS = ("name", "email", "password")


@bp.route("/register", methods=["GET", "POST"])
@_per_address("REGISTER_LIMIT_PER_ADDRESS")
@_per_account("FORGOT_LIMIT_PER_ACCOUNT", only_failures=False)  # each one may mail the address
def register():
    form = RegisterForm()
    if request.method == "GET":
        return _render("accounts/register.html", form, REGISTER_FIELDS)
    if not form.validate_on_submit():
        return _render("accounts/register.html", form, REGISTER_FIELDS, 400,
                       general=[_("The form has expired. Please try again.")])
    try:
        result = accounts.register(form.email.data, form.name.data, form.password.data)
    except DomainError as exc:
        db.session.rollback()
        _fields, general = apply_errors(form, exc, REGISTER_FIELDS)
        return _render("accounts/register.html", form, REGISTER_FIELDS, 400, general=general)
    if result.created:
        mails.send_verification(result.user)
    else:
        mails.send_already_registered(result.user)
    db.session.commit()  # the account and its mail together (the outbox)
    return _no_store(render_template("accounts/check_mail.html", email=normalize_email(form.email.data)))


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """GET shows a button (mail scanners open links); the POST verifies. A bad link is a 404."""
    if accounts.verify_link_user(token) is None:
        raise NotFound(_("This link has expired or is no longer valid."))
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        accounts.verify_email(token)  # NotFound: the error page
        db.session.commit()
        flash(_("Thank you: your e-mail address is confirmed."), "success")
        return redirect(url_for("accounts.index") if current_user.is_authenticated else url_for("accounts.sign_in"))
    return _no_store(render_template("accounts/confirm_link.html", form=form,
                                     title=_("Confirm your e-mail address"),
                                     button=_("Confirm my e-mail address")))


@bp.post("/verify/resend")
@login_required
@_per_address("FORGOT_LIMIT_PER_ADDRESS")
def resend_verification():
    form = EmptyForm()
    if form.validate_on_submit() and not current_user.email_verified:
        mails.send_verification(current_user)
        db.session.commit()
        flash(_("We have sent the link again to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("accounts.index"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@_per_address("FORGOT_LIMIT_PER_ADDRESS")
@_per_account("FORGOT_LIMIT_PER_ACCOUNT", only_failures=False)  # no mailbox flooded with links
def forgot_password():
    form = ForgotForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _render("accounts/forgot.html", form, ("email",), 400,
                           general=[_("The form has expired. Please try again.")])
        if not (form.email.data or "").strip():
            form.email.errors = [_("Enter a valid e-mail address.")]
            return _render("accounts/forgot.html", form, ("email",), 400)
        user = accounts.find_by_email(form.email.data)
        if user is not None and user.is_active:
            mails.send_reset(user)
            db.session.commit()
        else:
            accounts.passwords.verify_password(None, "")  # about the time of writing the mail
        return _no_store(render_template("accounts/check_mail.html", email=normalize_email(form.email.data)[:254],
                                         reset=True))
    return _render("accounts/forgot.html", form, ("email",))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@_per_address("FORGOT_LIMIT_PER_ADDRESS")
def reset_password(token: str):
    """Choose a new password from the e-mailed link; success signs in (never locked out: a lockout
    on the password form does not stop the owner of the mailbox)."""
    if accounts.user_for_reset(token) is None:
        raise NotFound(_("This link has expired or has already been used. Ask for a new one."))
    form = ResetForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = accounts.reset_password(token, form.password.data)
            except DomainError as exc:
                db.session.rollback()
                _fields, general = apply_errors(form, exc, ("password",))
                return _render("accounts/reset.html", form, ("password",), 400, general=general)
            if accounts.needs_two_step(user):
                db.session.commit()
                session.clear()
                session[PENDING_KEY] = {"u": user.id, "v": user.session_version, "r": False,
                                        "t": int(utcnow().timestamp()), "n": None}
                flash(_("Your new password is set."), "success")
                return redirect(url_for("accounts.two_step"))
            response = _finish_sign_in(user, False, None)
            flash(_("Your new password is set."), "success")
            return response
        return _render("accounts/reset.html", form, ("password",), 400,
                       general=[_("The form has expired. Please try again.")])
    return _render("accounts/reset.html", form, ("password",))


# ---- the customer's own pages ----------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    orders = db.session.scalars(accounts.orders_query(current_user).limit(100)).all()
    return _no_store(render_template("accounts/index.html", orders=orders, reorder_form=EmptyForm(),
                                     Role=Role))


@bp.post("/orders/<number>/reorder")
@login_required
def reorder(number: str):
    from shop.cart import services as carts
    from shop.cart.views import current_cart_token, set_cart_cookie

    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("accounts.index"))
    cart = accounts.merge_guest_cart(current_user, current_cart_token())
    if cart is None:
        cart = carts.get_or_create_cart(None)
        cart.user_id = current_user.id
    added, skipped = accounts.reorder(current_user, number, cart)
    db.session.commit()
    if added:
        flash(_("Added to your cart: %(names)s.", names=", ".join(added)), "success")
    for message in skipped:
        flash(message, "error")
    return set_cart_cookie(redirect(url_for("cart.index")), cart.token)


@bp.route("/addresses", methods=["GET", "POST"])
@login_required
def addresses():
    form = AddressForm()
    fields = accounts.ADDRESS_FIELDS
    status, general = 200, []
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                accounts.add_address(current_user, *(form[f].data for f in fields))
                db.session.commit()
                flash(_("The address is saved."), "success")
                return redirect(url_for("accounts.addresses"))
            except DomainError as exc:
                db.session.rollback()
                _fields, general = apply_errors(form, exc, fields)
        else:
            general = [_("The form has expired. Please try again.")]
        status = 400
    return _render("accounts/addresses.html", form, fields, status, general=general, delete_form=EmptyForm())


@bp.post("/addresses/<int(max=2147483647):address_id>/delete")
@login_required
def delete_address(address_id: int):
    if EmptyForm().validate_on_submit():
        accounts.delete_address(current_user, address_id)
        db.session.commit()
        flash(_("The address is deleted."), "info")
    return redirect(url_for("accounts.addresses"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    fields = ("current_password", "new_password")
    if request.method == "POST":
        general = [_("The form has expired. Please try again.")]
        if form.validate_on_submit():
            try:
                accounts.change_password(current_user, form.current_password.data, form.new_password.data)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                _fields, general = apply_errors(form, exc, fields)
            else:
                login_user(current_user._get_current_object())  # this session goes on with the new version; others end
                flash(_("Your password is changed. You have been signed out everywhere else."), "success")
                return redirect(landing_url(current_user))
        return _render("accounts/password.html", form, fields, 400, general=general)
    return _render("accounts/password.html", form, fields)


@bp.route("/email", methods=["GET", "POST"])
@login_required
def change_email():
    form = ChangeEmailForm()
    fields = ("new_email", "password")
    if request.method == "POST":
        general = [_("The form has expired. Please try again.")]
        if form.validate_on_submit():
            try:
                new_email, token = accounts.change_email_token(current_user, form.password.data, form.new_email.data)
            except DomainError as exc:
                db.session.rollback()
                _fields, general = apply_errors(form, exc, fields)
            else:
                mails.send_email_change(current_user, new_email, token)
                db.session.commit()
                flash(_("We have sent a link to %(email)s. Your address changes when you open it.",
                        email=new_email), "info")
                return redirect(url_for("accounts.index"))
        return _render("accounts/email.html", form, fields, 400, general=general)
    return _render("accounts/email.html", form, fields)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    if accounts.email_change_user(token) is None:
        raise NotFound(_("This link has expired or is no longer valid."))
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            accounts.confirm_email_change(token)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, NotFound):
                raise
            flash(exc.message, "error")
            return redirect(url_for("catalog.home"))
        logout_user()
        flash(_("Your e-mail address is changed. Please sign in with it."), "success")
        return redirect(url_for("accounts.sign_in"))
    return _no_store(render_template("accounts/confirm_link.html", form=form,
                                     title=_("Confirm your new e-mail address"),
                                     button=_("Use this address")))


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    from shop.cart.views import clear_cart_cookie

    if current_user.role is not Role.CUSTOMER:
        from werkzeug.exceptions import Forbidden

        raise Forbidden()
    form = PasswordOnlyForm()
    if request.method == "POST":
        general = [_("The form has expired. Please try again.")]
        if form.validate_on_submit():
            try:
                accounts.delete_account(current_user, form.password.data)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                _fields, general = apply_errors(form, exc, ("password",))
            else:
                logout_user()
                session.clear()
                flash(_("Your account is closed and your personal data removed."), "info")
                return clear_cart_cookie(redirect(url_for("catalog.home")))
        return _render("accounts/delete.html", form, ("password",), 400, general=general)
    return _render("accounts/delete.html", form, ("password",))


# ---- two-step sign-in: setting it up ----------------------------------------------------------


def _qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (segno; no script, no outside service)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))


@bp.route("/two-step", methods=["GET", "POST"])
@login_required
def two_step_setup():
    if not current_user.role.back_office:
        from werkzeug.exceptions import Forbidden

        raise Forbidden()
    form = EnableTwoStepForm()
    if current_user.two_step_enabled:
        return _no_store(render_template("accounts/two_step_on.html", form=PasswordOnlyForm(),
                                         codes_form=PasswordOnlyForm(prefix="codes"),
                                         left=accounts.recovery_codes_left(current_user)))
    secret = session.get(SETUP_KEY)
    if request.method == "POST" and secret and form.validate_on_submit():
        try:
            codes = accounts.enable_two_step(current_user, secret, form.code.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc, ("code",))
        else:
            session.pop(SETUP_KEY, None)
            login_user(current_user._get_current_object())  # this session continues with the new version
            return _no_store(render_template("accounts/recovery_codes.html", codes=codes))
    if not secret or request.method == "GET":
        secret = session[SETUP_KEY] = secret or accounts.new_totp_secret()
    uri = accounts.totp_uri(current_user, secret)
    status = 400 if request.method == "POST" else 200
    return _render("accounts/two_step_setup.html", form, ("code",), status, secret=secret, qr=_qr_svg(uri))


@bp.post("/two-step/disable")
@login_required
def two_step_disable():
    form = PasswordOnlyForm()
    if not form.validate_on_submit():
        return redirect(url_for("accounts.two_step_setup"))
    try:
        accounts.disable_two_step(current_user, form.password.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Two-step sign-in is off."), "info")
    return redirect(url_for("accounts.two_step_setup"))


@bp.post("/two-step/recovery-codes")
@login_required
def two_step_new_codes():
    form = PasswordOnlyForm(prefix="codes")
    if not (form.validate_on_submit() and current_user.two_step_enabled
            and accounts.passwords.verify_password(current_user.password_hash, form.password.data)):
        flash(_("This is not your current password."), "error")
        return redirect(url_for("accounts.two_step_setup"))
    codes = accounts.new_recovery_codes(current_user)
    db.session.commit()
    return _no_store(render_template("accounts/recovery_codes.html", codes=codes))


# ---- wiring ----------------------------------------------------------------------------------


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>.<session_version>"``; an older version, a disabled or
    closed account gives no user (the session has ended)."""
    user_part, _dot, version = (user_id or "").partition(".")
    if not (user_part.isdigit() and version.isdigit()) or len(user_part) > 10 or len(version) > 10:
        return None
    user = db.session.get(User, int(user_part))
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


def may_be_signed_in() -> bool:
    """Whether the request carries a session or "remember me" cookie at all. Without either the
    visitor is a guest, found without reading the session (reading it would add ``Vary: Cookie``
    to every anonymous page and spoil caching of the catalogue)."""
    return bool(request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
                or request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"]))


def is_signed_in_request() -> bool:
    """Whether the request comes from a signed-in person (session or "remember me" cookie). A page
    cache must not answer such a request with a page cached for guests, nor keep its answer: the
    header names the person. Guests are told apart without reading the session."""
    return may_be_signed_in() and bool(
        session.get("_user_id") or request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"]))


def header_user():
    """The signed-in user for the page header, or None (a guest) without touching the session."""
    if not is_signed_in_request() or not current_user.is_authenticated:
        return None
    return current_user


def private_when_signed_in(response):
    """Pages seen by a signed-in person are theirs: never stored by a shared cache (the header
    names them). Read from the session without loading the user (static files included)."""
    if request.endpoint in ("static", "media") or response.mimetype != "text/html":
        return response  # files and JSON carry nobody's name
    if is_signed_in_request():
        cache_control = response.headers.get("Cache-Control", "")
        if NO_STORE not in cache_control:
            response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Cookie")
    return response
