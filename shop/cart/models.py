from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.model_mixins import TimestampMixin
from shop.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from shop.catalog.models import Product
    from shop.orders.models import Order


class Cart(TimestampMixin, db.Model):
    """A shopping cart, found by an unguessable token kept in a signed cookie (or an API client).

    When checkout succeeds the cart's lines go and ``order_id`` remembers the order it became, so a
    repeated submission (a retry after a lost answer) shows that order instead of "empty cart".
    Such a cart is read-only; adding a product starts a new cart (and a new cookie).
    """

    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)  # a signed-in customer's cart
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"))

    items: Mapped[list["CartItem"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )
    order: Mapped[Optional["Order"]] = relationship()


class CartItem(db.Model):
    """A product and quantity in a cart. ``price_seen`` is only used to warn about price changes."""

    __tablename__ = "cart_item"
    __table_args__ = (
        UniqueConstraint("cart_id", "product_id", name="uq_cart_item_cart_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    price_seen: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cart: Mapped["Cart"] = relationship(back_populates="items")
    product: Mapped["Product"] = relationship()
