"""Who may do what to which object: the one place that decides, asked by every back-office view.

``can(user, action, obj)`` answers yes or no; ``authorize(user, action, obj)`` is what views call:
it raises ``Forbidden`` (403) when the user's role lacks the action altogether and ``NotFound``
(404) when the role has the action but the object lies outside the user's scope — a staff member
of shop B asking for shop A's page is told that there is no such page, never that it exists.

Scopes (``Membership`` rows): an administrator has everything; staff have the shops they belong to
(manager or clerk: managers may also manage the shop's people); a producer user has one producer
and its products; a customer has their own orders. The scoped queries (``shops_for``,
``products_for``…) narrow lists the same way, so a list never shows what the detail would refuse.
"""
from __future__ import annotations

import enum

from sqlalchemy import Select, exists, false, select, true
from werkzeug.exceptions import Forbidden, NotFound

from shop.accounts.enums import Role, ShopRole
from shop.accounts.models import Membership, User


class Action(enum.StrEnum):
    """Things a signed-in person may ask to do (never stored: no labels)."""

    ENTER_BACK_OFFICE = "backoffice.enter"   # obj: None
    VIEW_SHOP = "shop.view"                  # obj: Shop
    MANAGE_SHOP = "shop.manage"              # obj: Shop (its people)
    HANDLE_SHIPMENT = "shipment.handle"      # obj: Shipment
    VIEW_PRODUCER = "producer.view"          # obj: Producer
    PROPOSE_PRODUCT = "product.propose"      # obj: Product (a producer's proposed change)
    VIEW_ORDER = "order.view"                # obj: Order
    MANAGE_USERS = "users.manage"            # obj: None
    ADMINISTER = "catalogue.administer"      # obj: None (certificates, the province's list: /admin)


# Which roles have each action at all; anyone else gets a 403. Administrators have every action.
ROLES_FOR = {
    Action.ENTER_BACK_OFFICE: {Role.STAFF, Role.PRODUCER},
    Action.VIEW_SHOP: {Role.STAFF},
    Action.MANAGE_SHOP: {Role.STAFF},  # and, in scope, only as manager (a clerk gets a 403)
    Action.HANDLE_SHIPMENT: {Role.STAFF},
    Action.VIEW_PRODUCER: {Role.PRODUCER},
    Action.PROPOSE_PRODUCT: {Role.PRODUCER},
    Action.VIEW_ORDER: {Role.STAFF, Role.CUSTOMER},
    Action.MANAGE_USERS: set(),
    Action.ADMINISTER: set(),
}


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and isinstance(user, User)


def shop_role(user: User, shop_id: int | None) -> ShopRole | None:
    """The user's role in a shop, or None when they are not a member of it."""
    return next((m.shop_role for m in user.memberships if m.shop_id == shop_id and shop_id is not None), None)


def producer_id_of(user: User) -> int | None:
    membership = user.producer_membership
    return membership.producer_id if membership else None


def _role_has(user: User, action: Action) -> bool:
    if user.role is Role.ADMIN:
        return True
    if action is Action.MANAGE_SHOP and user.role is Role.STAFF:
        # Clerks lack the action; a manager of some other shop has it (and gets 404 out of scope).
        return any(m.shop_role is ShopRole.MANAGER for m in user.shop_memberships)
    return user.role in ROLES_FOR[action]


def _in_scope(user: User, action: Action, obj) -> bool:
    if user.role is Role.ADMIN:
        return True
    if obj is None:
        return True
    if action is Action.VIEW_SHOP:
        return shop_role(user, obj.id) is not None
    if action is Action.MANAGE_SHOP:
        return shop_role(user, obj.id) is ShopRole.MANAGER
    if action is Action.HANDLE_SHIPMENT:
        return shop_role(user, obj.shop_id) is not None
    if action is Action.VIEW_PRODUCER:
        return producer_id_of(user) == obj.id
    if action is Action.PROPOSE_PRODUCT:
        return producer_id_of(user) == obj.producer_id
    if action is Action.VIEW_ORDER:
        if user.role is Role.CUSTOMER:
            return obj.user_id == user.id
        return any(shop_role(user, s.shop_id) is not None for s in obj.shipments)
    return False


def can(user, action: Action, obj=None) -> bool:
    """Whether ``user`` (a ``User``, or Flask-Login's anonymous user) may do ``action`` to ``obj``."""
    if not _signed_in(user) or not user.is_active:
        return False
    return _role_has(user, action) and _in_scope(user, action, obj)


def require(user, action: Action) -> None:
    """Raise ``Forbidden`` unless the user's role has ``action`` at all. Views call it before
    loading the object, so that a role without the action gets a 403 whether or not the object
    exists; ``authorize`` then decides the scope."""
    if not _signed_in(user) or not user.is_active or not _role_has(user, action):
        raise Forbidden()


def authorize(user, action: Action, obj=None) -> None:
    """Raise ``Forbidden`` if the role lacks ``action``, ``NotFound`` if ``obj`` is out of scope.

    Views call it after loading the object (an object that does not exist is a 404 as well, so the
    two cannot be told apart). Guests never reach it: ``login_required`` sends them to sign in.
    """
    if not _signed_in(user) or not user.is_active or not _role_has(user, action):
        raise Forbidden()
    if not _in_scope(user, action, obj):
        raise NotFound()


# ---- scoped queries: lists narrowed the way ``authorize`` narrows details --------------------


def shops_for(user: User) -> Select:
    """``select(Shop)`` of the shops the user works in (all of them for an administrator)."""
    from shop.shops.models import Shop

    query = select(Shop).order_by(Shop.name)
    if user.role is Role.ADMIN:
        return query
    if user.role is not Role.STAFF:
        return query.where(false())
    return query.where(exists().where(Membership.user_id == user.id, Membership.shop_id == Shop.id))


def producers_for(user: User) -> Select:
    from shop.producers.models import Producer

    query = select(Producer).order_by(Producer.name)
    if user.role is Role.ADMIN:
        return query
    producer_id = producer_id_of(user) if user.role is Role.PRODUCER else None
    return query.where(Producer.id == producer_id if producer_id else false())


def products_for(user: User) -> Select:
    from shop.catalog.models import Product

    query = select(Product).order_by(Product.name)
    if user.role is Role.ADMIN:
        return query
    producer_id = producer_id_of(user) if user.role is Role.PRODUCER else None
    return query.where(Product.producer_id == producer_id if producer_id else false())


def shipments_for(user: User) -> Select:
    from shop.orders.models import Shipment

    query = select(Shipment).order_by(Shipment.id.desc())
    if user.role is Role.ADMIN:
        return query
    if user.role is not Role.STAFF:
        return query.where(false())
    shop_ids = [m.shop_id for m in user.shop_memberships]
    return query.where(Shipment.shop_id.in_(shop_ids) if shop_ids else false())


def users_for(user: User) -> Select:
    return select(User).order_by(User.id).where(true() if user.role is Role.ADMIN else false())


__all__ = ["Action", "authorize", "can", "shops_for", "producers_for", "products_for", "shipments_for",
           "users_for"]
