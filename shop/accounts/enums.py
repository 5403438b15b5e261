"""The accounts area's vocabulary: a user's role and a staff member's role in a shop."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class Role(LabelledEnum):
    """What kind of person a user is (``User.role``); their scope comes from ``Membership`` rows.

    ADMIN: everything. STAFF: the shops they are members of (manager or clerk). PRODUCER: the one
    producer they belong to. CUSTOMER: their own orders, addresses and cart.
    """

    ADMIN = "admin", _l("Administrator")
    STAFF = "staff", _l("Shop staff")
    PRODUCER = "producer", _l("Producer")
    CUSTOMER = "customer", _l("Customer")

    @property
    def back_office(self) -> bool:
        """Whether the role works in the back office (and may turn on two-step sign-in)."""
        return self is not Role.CUSTOMER


class ShopRole(LabelledEnum):
    """A staff member's role in one shop (``Membership.shop_role``)."""

    MANAGER = "manager", _l("Manager")
    CLERK = "clerk", _l("Clerk")
