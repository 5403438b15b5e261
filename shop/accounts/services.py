"""Accounts: creating users, signing in, passwords, e-mail links, two-step sign-in, a customer's
orders, addresses and cart, closing an account. The only code that changes users.

Functions take plain values, check them, change rows and flush; the caller commits (and sends the
e-mails a function returns a link for, after the commit: ``shop/accounts/mails.py``). Errors are
``InvalidInput`` / ``InvalidFields`` (a form field named in ``details["field"]``) and ``NotFound``.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import pyotp
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from shop.accounts import passwords, tokens
from shop.accounts.enums import Role, ShopRole
from shop.accounts.models import Address, Membership, RecoveryCode, User, normalize_email
from shop.errors import FieldErrors, InvalidInput, NotFound
from shop.extensions import db
from shop.timeutil import utcnow

RECOVERY_CODE_COUNT = 10
SHOP_FIELD = "shop"  # vocabulary: the form field and CLI option that name shops
TOTP_ISSUER = "OCOP Shop"


# ---- creating and changing users (CLI, administrators) ----------------------------------------


def clean_email(raw: str | None, field: str = "email") -> str:
    """A syntactically valid address, lower case (``normalize_email``). Raises ``InvalidInput``."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 254:
        raise InvalidInput(_("Enter a valid e-mail address."), field=field)
    try:
        address = validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(_("Enter a valid e-mail address."), field=field) from None
    return normalize_email(address)


def clean_name(raw: str | None, field: str = "name", required: bool = False) -> str:
    name = " ".join((raw or "").split())
    if required and not name:
        raise InvalidInput(_("Enter your name."), field=field)
    if len(name) > 120:
        raise InvalidInput(_("A name can have at most %(n)d characters.", n=120), field=field)
    return name


def find_by_email(email: str | None) -> User | None:
    key = normalize_email(email)
    if not key or len(key) > 254:
        return None
    return db.session.scalar(select(User).where(User.email == key))


def _email_taken(email: str, except_user: User | None = None) -> bool:
    other = find_by_email(email)
    return other is not None and other is not except_user


def create_user(email: str, role: str, *, password: str | None = None, name: str = "",
                shops: Iterable[str] = (), shop_role: str = ShopRole.CLERK, producer: str | None = None,
                verified: bool = True) -> User:
    """A new user with ``role`` (``Role`` value) and its memberships, by shop and producer slugs.

    ``password`` None leaves the account without one (it can only be entered after a reset).
    Raises ``InvalidFields`` (email taken or invalid, password too short, unknown shop/producer,
    memberships that do not fit the role).
    """
    errors = FieldErrors()
    email = errors.check(clean_email, email)
    if email and _email_taken(email):
        errors.add("email", _("An account with this e-mail address already exists."))
    name = errors.check(clean_name, name) or ""
    if password is not None:
        errors.check(passwords.check_new_password, password)
    try:
        role = Role(role)
    except ValueError:
        errors.add("role", _("Unknown role."))
        role = None
    errors.raise_if_any()
    user = User(email=email, name=name, role=role,
                password_hash=passwords.hash_password(password) if password else None,
                email_verified_at=utcnow() if verified else None)
    db.session.add(user)
    set_memberships(user, shops=shops, shop_role=shop_role, producer=producer)
    db.session.flush()
    return user


def set_memberships(user: User, *, shops: Iterable[str] = (), shop_role: str = ShopRole.CLERK,
                    producer: str | None = None, shop_roles: dict[str, str] | None = None) -> None:
    """Replace the user's memberships: shops (staff, by slug, all with ``shop_role`` unless
    ``shop_roles`` gives a slug its own) or one producer (producer users). Administrators and
    customers have none.

    Raises ``InvalidInput`` for unknown slugs or memberships that do not fit the role.
    """
    from shop.producers.models import Producer
    from shop.shops.models import Shop

    shops = [s for s in shops if s]
    if shops and user.role is not Role.STAFF:
        raise InvalidInput(_("Only shop staff belong to shops."), field=SHOP_FIELD)
    if producer and user.role is not Role.PRODUCER:
        raise InvalidInput(_("Only producer users belong to a producer."), field="producer")
    if user.role is Role.PRODUCER and not producer:
        raise InvalidInput(_("A producer user needs a producer."), field="producer")
    if user.role is Role.STAFF and not shops:
        raise InvalidInput(_("Shop staff need at least one shop."), field=SHOP_FIELD)
    roles: dict[str, ShopRole] = {}
    try:
        shop_role = ShopRole(shop_role)
        for slug in dict.fromkeys(shops):
            roles[slug] = ShopRole((shop_roles or {}).get(slug) or shop_role)
    except ValueError:
        raise InvalidInput(_("Unknown role in the shop."), field="shop_role") from None
    wanted: dict[tuple[int | None, int | None], ShopRole | None] = {}  # (shop id, producer id): role
    for slug, role_in_shop in roles.items():
        shop = db.session.scalar(select(Shop).where(Shop.slug == slug))
        if shop is None:
            raise InvalidInput(_("No shop %(slug)s.", slug=slug), field=SHOP_FIELD)
        wanted[(shop.id, None)] = role_in_shop
    if producer:
        found = db.session.scalar(select(Producer).where(Producer.slug == producer))
        if found is None:
            raise InvalidInput(_("No producer %(slug)s.", slug=producer), field="producer")
        wanted[(None, found.id)] = None
    # Keep the rows that stay (their role may change), drop the others, then add the new ones:
    # replacing the list would insert before deleting and trip the unique constraints.
    for membership in list(user.memberships):
        key = (membership.shop_id, membership.producer_id)
        if key in wanted:
            membership.shop_role = wanted.pop(key)
        else:
            user.memberships.remove(membership)
    db.session.flush()
    for (shop_id, producer_id), role in wanted.items():
        user.memberships.append(Membership(shop_id=shop_id, shop_role=role, producer_id=producer_id))
    db.session.flush()


def set_role(user: User, role: str, *, shops: Iterable[str] = (), shop_role: str = ShopRole.CLERK,
             producer: str | None = None, shop_roles: dict[str, str] | None = None) -> None:
    """Give the user another role and the memberships that go with it (``set_memberships``);
    their sessions end."""
    try:
        user.role = Role(role)
    except ValueError:
        raise InvalidInput(_("Unknown role."), field="role") from None
    set_memberships(user, shops=shops, shop_role=shop_role, producer=producer, shop_roles=shop_roles)
    end_sessions(user)


def set_disabled(user: User, disabled: bool = True) -> None:
    """Disable (or enable again) an account; a disabled user's sessions end at once. The row stays,
    so history keeps naming them."""
    user.disabled = disabled
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every session and "remember me" cookie of the user (``User.get_id`` carries the version)."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


# ---- signing in ------------------------------------------------------------------------------


def authenticate(email: str | None, password: str | None) -> User | None:
    """The user whose e-mail and password match, or None — in about the same time either way
    (an unknown address is checked against a dummy hash). A disabled or closed account is None.
    A hash of an older cost is replaced on success."""
    user = find_by_email(email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def record_sign_in(user: User) -> None:
    user.last_sign_in_at = utcnow()
    db.session.flush()


def needs_two_step(user: User) -> bool:
    return user.two_step_enabled


def must_set_up_two_step(user: User) -> bool:
    """An administrator without two-step sign-in where ``TOTP_REQUIRED_FOR_ADMINS`` is on (it is
    in production): they may do nothing but set it up."""
    return (user.role is Role.ADMIN and not user.two_step_enabled
            and bool(current_app.config.get("TOTP_REQUIRED_FOR_ADMINS")))


# ---- passwords -------------------------------------------------------------------------------


def set_password(user: User, new_password: str, field: str = "password") -> None:
    """Set a new password: every other session and every reset link of the user ends."""
    passwords.check_new_password(new_password, field)
    user.password_hash = passwords.hash_password(new_password)
    end_sessions(user)


def change_password(user: User, current: str, new: str) -> None:
    """Raises ``InvalidFields`` (current password wrong; new one too short or long)."""
    errors = FieldErrors()
    if not passwords.verify_password(user.password_hash, current):
        errors.add("current_password", _("This is not your current password."))
    errors.check(passwords.check_new_password, new, "new_password")
    errors.raise_if_any()
    set_password(user, new, "new_password")


def reset_token(user: User) -> str:
    return tokens.make("reset", {"u": user.id, "f": tokens.fingerprint(user.password_hash, user.email)})


def user_for_reset(token: str | None) -> User | None:
    """The user a valid, unused, unexpired reset link is for (None otherwise)."""
    payload = tokens.read("reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    if not payload or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active:
        return None
    if payload.get("f") != tokens.fingerprint(user.password_hash, user.email):
        return None  # the password (or e-mail) changed since: the link was used or is stale
    return user


def reset_password(token: str | None, new_password: str) -> User:
    """Set the password from a reset link; the link is spent (the fingerprint changes). A reset
    also proves the address, so it counts as verification. Raises ``NotFound`` (link bad, expired
    or used) or ``InvalidInput(field="password")``."""
    user = user_for_reset(token)
    if user is None:
        raise NotFound(_("This link has expired or has already been used. Ask for a new one."))
    set_password(user, new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


# ---- registration and e-mail verification ----------------------------------------------------


@dataclass
class Registration:
    """What ``register`` did: a new user (send them the verification link) or, for an address that
    already has an account, that account (tell its owner by mail) — the page says the same."""

    user: User
    created: bool


def register(email: str, name: str, password: str) -> Registration:
    """A customer registers. Raises ``InvalidFields`` (email, name, password)."""
    errors = FieldErrors()
    email = errors.check(clean_email, email)
    name = errors.check(clean_name, name, required=True)
    errors.check(passwords.check_new_password, password)
    errors.raise_if_any()
    existing = find_by_email(email)
    if existing is not None:
        passwords.verify_password(None, password)  # the same work as hashing: no timing difference
        return Registration(user=existing, created=False)
    user = User(email=email, name=name, role=Role.CUSTOMER, password_hash=passwords.hash_password(password))
    db.session.add(user)
    db.session.flush()
    return Registration(user=user, created=True)


def verify_token(user: User) -> str:
    return tokens.make("verify", {"u": user.id, "e": user.email})


def verify_link_user(token: str | None) -> User | None:
    """The user a valid verification link is for (None: bad, expired, or the e-mail changed)."""
    payload = tokens.read("verify", token, current_app.config["EMAIL_VERIFY_MAX_AGE"])
    user = db.session.get(User, payload["u"]) if payload and isinstance(payload.get("u"), int) else None
    if user is None or not user.is_active or payload.get("e") != user.email:
        return None
    return user


def verify_email(token: str | None) -> User:
    """Mark the address proven. Raises ``NotFound`` (bad, expired, or for an e-mail since changed)."""
    user = verify_link_user(token)
    if user is None:
        raise NotFound(_("This link has expired or is no longer valid."))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def change_email_token(user: User, password: str, new_email: str) -> tuple[str, str]:
    """Check the password and the new address; return (new address, link token) to mail to it.
    The address changes only when the link is opened. Raises ``InvalidFields``."""
    errors = FieldErrors()
    new = errors.check(clean_email, new_email, "new_email")
    if not passwords.verify_password(user.password_hash, password):
        errors.add("password", _("This is not your current password."))
    if new and new == user.email:
        errors.add("new_email", _("This is already your e-mail address."))
    errors.raise_if_any()
    token = tokens.make("change-email", {"u": user.id, "e": new,
                                         "f": tokens.fingerprint(user.password_hash, user.email)})
    return new, token


def _read_email_change(token: str | None) -> tuple[User, str] | None:
    payload = tokens.read("change-email", token, current_app.config["EMAIL_VERIFY_MAX_AGE"])
    user = db.session.get(User, payload["u"]) if payload and isinstance(payload.get("u"), int) else None
    if (user is None or not user.is_active or not isinstance(payload.get("e"), str)
            or payload.get("f") != tokens.fingerprint(user.password_hash, user.email)):
        return None
    return user, payload["e"]


def email_change_user(token: str | None) -> User | None:
    """The user a valid e-mail change link is for (None: bad, expired, or already used)."""
    found = _read_email_change(token)
    return found[0] if found else None


def confirm_email_change(token: str | None) -> User:
    """Move the account to the new, now proven, address. Raises ``NotFound`` (bad link) or
    ``InvalidInput`` (the address has meanwhile been taken by another account)."""
    found = _read_email_change(token)
    if found is None:
        raise NotFound(_("This link has expired or is no longer valid."))
    user, new_email = found
    if _email_taken(new_email, user):
        raise InvalidInput(_("An account with this e-mail address already exists."))
    user.email = new_email
    user.email_verified_at = utcnow()
    end_sessions(user)
    return user


# ---- two-step sign-in (TOTP) and recovery codes -----------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _digits(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())[:20]


def _totp_step(secret: str, code: str) -> int | None:
    """The time step at which ``code`` is valid for ``secret`` (now, or one step either side for
    clock drift), or None."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for drift in (0, -1, 1):
        at = now.timestamp() + drift * totp.interval
        if secrets.compare_digest(totp.at(int(at)), code):
            return totp.timecode(now) + drift
    return None


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes by ``RECOVERY_CODE_COUNT`` new ones, returned once in
    clear (``xxxxx-xxxxx``, 10 hex-like characters: 40 bits each)."""
    codes = [f"{secrets.token_hex(3)[:5]}-{secrets.token_hex(3)[:5]}" for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = [RecoveryCode(code_hash=_hash_code(c)) for c in codes]
    db.session.flush()
    return codes


def enable_two_step(user: User, secret: str, code: str) -> list[str]:
    """Turn two-step sign-in on once the app shows a valid code for ``secret``; returns the new
    recovery codes. Raises ``InvalidInput(field="code")``."""
    if not secret or len(secret) > 64:
        raise InvalidInput(_("Start again: the set-up has expired."), field="code")
    step = _totp_step(secret, _digits(code))
    if step is None:
        raise InvalidInput(_("This code is not right. Check the time on your phone and try again."), field="code")
    user.totp_secret = secret
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    end_sessions(user)  # other sessions signed in with one factor end
    return codes


def disable_two_step(user: User, password: str) -> None:
    """Raises ``InvalidInput(field="password")``."""
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidInput(_("This is not your current password."), field="password")
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    db.session.flush()


def check_second_factor(user: User, code: str | None) -> bool:
    """True for a current authenticator code not used before, or an unused recovery code (which
    is then spent). A TOTP code is accepted once: its time step is remembered."""
    if not user.two_step_enabled:
        return False
    code = _digits(code)
    step = _totp_step(user.totp_secret, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # replayed
        user.totp_last_step = step
        db.session.flush()
        return True
    if len(code) in (10, 11):
        digest = _hash_code(code)
        for recovery in user.recovery_codes:
            if recovery.used_at is None and secrets.compare_digest(recovery.code_hash, digest):
                recovery.used_at = utcnow()
                db.session.flush()
                return True
    return False


def recovery_codes_left(user: User) -> int:
    return sum(1 for c in user.recovery_codes if c.used_at is None)


# ---- a customer's orders, addresses and cart --------------------------------------------------


def orders_query(user: User):
    """``select(Order)`` of the customer's orders: placed while signed in, and guest orders placed
    with their address once it is verified (the ``email_key`` of the order)."""
    from shop.orders.models import Order, email_key

    mine = Order.user_id == user.id
    if user.email_verified and user.deleted_at is None:
        mine = or_(mine, Order.email_key == email_key(user.email))
    return select(Order).where(mine, Order.number.is_not(None)).order_by(Order.created_at.desc(), Order.id.desc())


def owns_order(user: User, order) -> bool:
    from shop.orders.models import email_key

    return order.user_id == user.id or (user.email_verified and user.deleted_at is None
                                        and order.email_key == email_key(user.email))


def find_own_order(user: User, number: str):
    from shop.orders.models import Order

    order = db.session.scalar(select(Order).where(Order.number == (number or "")[:20]))
    if order is None or not owns_order(user, order):
        raise NotFound(_("We could not find that order."))
    return order


def reorder(user: User, number: str, cart) -> tuple[list[str], list[str]]:
    """Put the lines of one of the customer's orders into ``cart`` again, at today's prices.

    Returns (names added, names that could not be added with the reason). Each line goes through
    ``cart.services.add`` (same limits and checks as the cart page).
    """
    from shop.cart import services as carts
    from shop.errors import DomainError

    order = find_own_order(user, number)
    added, skipped = [], []
    for line in order.lines:
        name = line.product_name
        if line.product_id is None:
            skipped.append(_("%(name)s is no longer sold.", name=name))
            continue
        try:
            with db.session.begin_nested():
                carts.add(cart, line.product_id, line.quantity)
            added.append(name)
        except DomainError as exc:
            skipped.append(exc.message)
    return added, skipped


ADDRESS_FIELDS = ("recipient", "phone", "street", "ward", "province")  # vocabulary: form field names


def add_address(user: User, recipient: str, phone: str, street: str, ward: str, province: str) -> Address:
    """Keep a delivery address. Raises ``InvalidFields`` (each field in ``ADDRESS_FIELDS``)."""
    from shop.phone import normalize_phone

    errors = FieldErrors()
    recipient = errors.check(clean_name, recipient, "recipient", required=True)
    values = {}
    for field, raw, limit in zip(ADDRESS_FIELDS[2:], (street, ward, province), (200, 120, 120)):
        text = " ".join((raw or "").split())
        if not text:
            errors.add(field, _("This field is required."))
        elif len(text) > limit:
            errors.add(field, _("At most %(n)d characters.", n=limit))
        values[field] = text
    stored_phone = errors.check(normalize_phone, phone)
    errors.raise_if_any()
    if len(user.addresses) >= 20:
        raise InvalidInput(_("You can keep at most %(n)d addresses.", n=20))
    address = Address(recipient=recipient, phone=stored_phone, **values)
    user.addresses.append(address)
    db.session.flush()
    return address


def delete_address(user: User, address_id: int) -> None:
    address = next((a for a in user.addresses if a.id == address_id), None)
    if address is None:
        raise NotFound(_("No such address."))
    user.addresses.remove(address)
    db.session.flush()


def merge_guest_cart(user: User, guest_token: str | None):
    """On sign-in: the guest's cart and the account's open cart become one, the account's.

    Lines of the guest cart are added to the account's cart; a product in both gets the sum,
    capped at ``MAX_LINE_QUANTITY``. Nothing is refused here: a line that cannot be sold (no longer
    certified, out of stock, too many) stays and is flagged on the cart page as any line would be
    (``cart.services.view``). Returns the cart to remember in the cookie, or None (no cart at all).
    """
    from shop.cart.models import Cart, CartItem
    from shop.cart.services import find_cart, lock_cart

    maximum = current_app.config["MAX_LINE_QUANTITY"]
    guest = find_cart(guest_token)
    if guest is not None and (guest.order_id is not None or (guest.user_id not in (None, user.id))):
        guest = None  # an ordered cart, or somebody else's: not ours to take
    own = db.session.scalar(select(Cart).where(Cart.user_id == user.id, Cart.order_id.is_(None))
                            .order_by(Cart.updated_at.desc(), Cart.id.desc()).limit(1))
    if guest is None or own is None or guest.id == own.id:
        cart = own or guest
        if cart is not None and cart.user_id is None:
            cart.user_id = user.id
            db.session.flush()
        return cart
    own = lock_cart(own)
    guest = lock_cart(guest)
    lines = {item.product_id: item for item in own.items}
    for item in list(guest.items):
        mine = lines.get(item.product_id)
        if mine is None:
            own.items.append(CartItem(product_id=item.product_id, quantity=min(item.quantity, maximum),
                                      price_seen=item.price_seen))
        else:
            mine.quantity = min(mine.quantity + item.quantity, maximum)
    db.session.delete(guest)
    db.session.flush()
    return own


# ---- closing an account -----------------------------------------------------------------------


def delete_account(user: User, password: str) -> None:
    """Close a customer's account (Decree 13/2023/NĐ-CP on personal data, art. 16: erasure on request).

    Removed: name, e-mail, phone, password, two-step secret and recovery codes, saved addresses,
    the cart, the link from orders to the account. Kept: the orders themselves with the name,
    phone, e-mail and address written on them — they are the shop's sales and accounting records,
    which the Law on Accounting (88/2015/QH13, art. 41) requires to be kept (at least 5 years;
    10 for records behind the financial statements), a case where the decree allows refusal of
    erasure (art. 16(2)); they are no longer linked to any account. The row stays (as ``#id``) so
    that nothing pointing at it breaks. Raises ``InvalidInput(field="password")``.
    """
    from shop.cart.models import Cart
    from shop.orders.models import Order

    if not passwords.verify_password(user.password_hash, password):
        raise InvalidInput(_("This is not your current password."), field="password")
    if user.role is not Role.CUSTOMER:
        raise InvalidInput(_("Staff, producer and administrator accounts are closed by an administrator."))
    for cart in db.session.scalars(select(Cart).where(Cart.user_id == user.id)):
        if cart.order_id is None:
            db.session.delete(cart)
        else:
            cart.user_id = None
    for order in db.session.scalars(select(Order).where(Order.user_id == user.id)):
        order.user_id = None
    user.email = f"closed-{user.id}-{secrets.token_hex(6)}@invalid"
    user.name = ""
    user.phone = ""
    user.password_hash = None
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    user.addresses = []
    user.email_verified_at = None
    user.deleted_at = utcnow()
    user.disabled = True
    end_sessions(user)


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
