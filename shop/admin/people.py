"""Administrators' work on users: the list with search and filters, and the user's page — role,
shop memberships (manager or clerk in each shop), producer, disable and enable — each change kept
in the audit history (object type ``USER``).

The changes go through the services the CLI uses (``shop.accounts.services.set_role`` and
``set_disabled``), so the user's sessions and "remember me" cookies end as README "How each
session, link and lockout ends" says (the session version is raised). Guards, whoever asks:

- an administrator cannot disable their own account or take away their own administrator role;
- the last active administrator can be neither disabled nor given another role (someone must be
  able to administer the shop);
- a closed account (``deleted_at``) is not changed: it keeps its row only so that history names it.

Users are never deleted.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.accounts import services as accounts
from shop.accounts.enums import Role, ShopRole
from shop.accounts.models import Membership, User
from shop.admin.enums import AuditAction, AuditObject
from shop.admin.records import log
from shop.errors import InvalidInput, InvalidTransition, NotFound
from shop.extensions import db
from shop.text import fold

LIST_LIMIT = 300


class UserState:
    """The list's state filter (query values)."""

    ANY = ""
    ENABLED = "enabled"
    DISABLED = "disabled"
    CLOSED = "closed"


@dataclass
class UserFilters:
    """``q``: e-mail or name (diacritics and case ignored); ``role``: a Role value or ""; ``shop``:
    a shop slug (its members) or ""; ``state``: ``UserState``."""

    q: str = ""
    role: str = ""
    shop: str = ""
    state: str = UserState.ANY


def search(filters: UserFilters) -> tuple[list[User], bool]:
    """(users matching ``filters``, by id, at most ``LIST_LIMIT``; whether more matched). Unknown
    filter values filter nothing out, except an unknown shop (nobody is a member of it)."""
    from shop.shops.models import Shop

    query = select(User).order_by(User.id)
    if filters.role in Role.values():
        query = query.where(User.role == Role(filters.role))
    if filters.shop:
        query = query.where(User.memberships.any(Membership.shop_id.in_(
            select(Shop.id).where(Shop.slug == filters.shop[:120]))))
    if filters.state == UserState.ENABLED:
        query = query.where(User.disabled.is_(False), User.deleted_at.is_(None))
    elif filters.state == UserState.DISABLED:
        query = query.where(User.disabled.is_(True), User.deleted_at.is_(None))
    elif filters.state == UserState.CLOSED:
        query = query.where(User.deleted_at.is_not(None))
    words = fold(filters.q).split()
    found = []
    for user in db.session.scalars(query):
        text = f"{fold(user.email)} {fold(user.name)}"
        if all(word in text for word in words):
            found.append(user)
            if len(found) > LIST_LIMIT:
                return found[:LIST_LIMIT], True
    return found, False


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def active_admins() -> int:
    """How many administrators can sign in (not disabled, not closed)."""
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.disabled.is_(False),
                                                               User.deleted_at.is_(None))) or 0


def _is_last_admin(user: User) -> bool:
    return user.role is Role.ADMIN and user.is_active and active_admins() <= 1


def scope(user: User) -> dict:
    """The user's role and memberships as the history shows them."""
    shops = sorted(f"{m.shop.name} ({m.shop_role.label})" for m in user.shop_memberships)
    producer = user.producer_membership
    return {"role": user.role.value, "shops": ", ".join(shops),
            "producer": producer.producer.name if producer is not None else ""}


def _check_open(user: User) -> None:
    if user.deleted_at is not None:
        raise InvalidTransition(_("This account is closed: it is kept only so that history names it."))


def change_role(user_id: int, *, role: str, shop_roles: dict[str, str], producer: str | None, by: User | None,
                actor: str = "", user_id_by: int | None = None) -> bool:
    """Give the user ``role`` (a Role value) with the memberships that go with it: ``shop_roles``
    {shop slug: ShopRole value} for staff, ``producer`` (a slug) for producer users. Through
    ``accounts.set_role``: the user's sessions end. ``by``: the administrator asking (None from
    a command). Returns False when nothing would change (no entry, sessions kept).

    Raises ``NotFound``, ``InvalidTransition`` (a closed account), ``InvalidInput`` (field
    ``role``: one's own administrator role, the last active administrator; or the accounts
    service's own: unknown role, shop or producer, memberships that do not fit the role)."""
    user = get(user_id)
    _check_open(user)
    if role not in Role.values():
        raise InvalidInput(_("Unknown role."), field="role")
    if user.role is Role.ADMIN and role != Role.ADMIN:
        if by is not None and by.id == user.id:
            raise InvalidInput(_("You cannot take away your own administrator role: ask another administrator."),
                               field="role")
        if _is_last_admin(user):
            raise InvalidInput(_("This is the last active administrator: make someone else an administrator first."),
                               field="role")
    shop_roles = {slug: shop_role for slug, shop_role in shop_roles.items() if slug and shop_role}
    for value in shop_roles.values():
        if value not in ShopRole.values():
            raise InvalidInput(_("Unknown role in the shop."), field="shops")
    wanted_shops = {(slug, value) for slug, value in shop_roles.items()} if role == Role.STAFF else set()
    current_shops = {(m.shop.slug, m.shop_role.value) for m in user.shop_memberships}
    current_producer = user.producer_membership.producer.slug if user.producer_membership else ""
    wanted_producer = (producer or "") if role == Role.PRODUCER else ""
    if role == user.role.value and wanted_shops == current_shops and wanted_producer == current_producer:
        return False
    before = scope(user)
    accounts.set_role(user, role, shops=list(shop_roles) if role == Role.STAFF else [],
                      shop_role=ShopRole.CLERK, shop_roles=shop_roles if role == Role.STAFF else None,
                      producer=wanted_producer or None)
    db.session.refresh(user, ["memberships"])
    after = scope(user)
    changed = [key for key in after if after[key] != before[key]]
    log(AuditObject.USER, user.id, AuditAction.ROLE, {k: before[k] for k in changed}, {k: after[k] for k in changed},
        actor=actor, user_id=user_id_by)
    db.session.flush()
    return True


def set_disabled(user_id: int, disabled: bool, *, by: User | None, actor: str = "",
                 user_id_by: int | None = None) -> User:
    """Disable (or enable again) an account through ``accounts.set_disabled``: a disabled user's
    sessions end at once and they cannot sign in; the row stays. Raises ``NotFound``,
    ``InvalidTransition`` (closed, or already in that state) or ``InvalidInput`` (one's own
    account; the last active administrator)."""
    user = get(user_id)
    _check_open(user)
    if bool(user.disabled) == bool(disabled):
        raise InvalidTransition(_("This account is disabled already.") if disabled
                                else _("This account is enabled already."))
    if disabled:
        if by is not None and by.id == user.id:
            raise InvalidInput(_("You cannot disable your own account."))
        if _is_last_admin(user):
            raise InvalidInput(_("This is the last active administrator: it cannot be disabled."))
    accounts.set_disabled(user, disabled)
    log(AuditObject.USER, user.id, AuditAction.DISABLE if disabled else AuditAction.ENABLE,
        {"disabled": not disabled}, {"disabled": bool(disabled)}, actor=actor, user_id=user_id_by)
    db.session.flush()
    return user
