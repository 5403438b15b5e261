"""Carts: a token-addressed list of products and quantities. Prices are always read live."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.cart.models import Cart, CartItem
from shop.catalog.models import Product
from shop.errors import InvalidInput, NotFound, OutOfStock
from shop.extensions import db
from shop.i18n import localized
from shop.inventory.services import availability_matrix

TOKEN_BYTES = 24


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def find_cart(token: str | None) -> Cart | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalars(
        select(Cart).where(Cart.token == token)
        .options(selectinload(Cart.items).selectinload(CartItem.product).selectinload(Product.certificates))
    ).first()


def lock_cart(cart: Cart) -> Cart:
    """Re-read a cart and its items under a row lock (``FOR UPDATE`` on PostgreSQL).

    Two clicks at once (add to cart, place order) then run one after the other instead of both
    inserting the same line or both turning one cart into two orders.
    """
    if cart.id is None:
        return cart
    db.session.flush()  # the reload below must not drop unsaved changes
    locked = db.session.scalars(
        select(Cart).where(Cart.id == cart.id).with_for_update()
        .options(selectinload(Cart.items).selectinload(CartItem.product).selectinload(Product.certificates))
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        raise InvalidInput(_("This cart has already been turned into an order."), problem="cart_gone")
    return locked


def get_or_create_cart(token: str | None) -> Cart:
    cart = find_cart(token)
    if cart is None:
        cart = Cart(token=new_token())
        db.session.add(cart)
        db.session.flush()
    return cart


def parse_quantity(raw, allow_zero: bool = False) -> int:
    """A whole number from 1 (or 0, meaning remove) up to ``MAX_LINE_QUANTITY``."""
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    if isinstance(raw, bool):
        raw = None
    try:
        quantity = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except (TypeError, ValueError):
        raise InvalidInput(_("Quantity must be a whole number.")) from None
    low = 0 if allow_zero else 1
    if not low <= quantity <= maximum:
        raise InvalidInput(_("Quantity must be between %(low)d and %(high)d.", low=low, high=maximum))
    return quantity


def parse_product_id(raw) -> int:
    """A product id as the database knows it: plain ASCII digits, in range; else NotFound."""
    text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**31:
        raise NotFound(_("No such product."))
    return int(text)


def _sellable_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    if not product.sellable:
        raise InvalidInput(_("%(name)s is not on sale at the moment.", name=localized(product, "name")))
    return product


def _total_available(product_id: int) -> int:
    return sum(units for (_shop, _p), units in availability_matrix([product_id]).items())


def set_quantity(cart: Cart, product_id, quantity) -> CartItem | None:
    """Put exactly ``quantity`` of a product in the cart (0 removes it)."""
    quantity = parse_quantity(quantity, allow_zero=True)
    product_id = parse_product_id(product_id)
    cart = lock_cart(cart)
    item = next((i for i in cart.items if i.product_id == product_id), None)
    if quantity == 0:
        if item is not None:
            cart.items.remove(item)
            db.session.flush()
        return None
    product = _sellable_product(product_id)
    available = _total_available(product.id)
    if quantity > available:
        raise OutOfStock(
            _("Only %(n)d of %(name)s available.", n=available, name=localized(product, "name"))
            if available else _("%(name)s is out of stock.", name=localized(product, "name"))
        )
    if item is None:
        item = CartItem(product=product, quantity=quantity, price_seen=product.price)
        cart.items.append(item)
    else:
        # price_seen stays: a changed price must still be accepted explicitly (accept_prices).
        item.quantity = quantity
    db.session.flush()
    return item


def add(cart: Cart, product_id, quantity=1) -> CartItem | None:
    """Add ``quantity`` units to what is already in the cart."""
    quantity = parse_quantity(quantity)
    product_id = parse_product_id(product_id)
    cart = lock_cart(cart)
    current = next((i.quantity for i in cart.items if i.product_id == product_id), 0)
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    return set_quantity(cart, product_id, min(current + quantity, maximum))


@dataclass
class CartLine:
    item: CartItem
    product: Product
    quantity: int
    unit_price: int
    stars: int | None
    available: int
    problems: list[str] = field(default_factory=list)

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class CartView:
    cart: Cart | None
    lines: list[CartLine]

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def ok(self) -> bool:
        return bool(self.lines) and all(line.ok for line in self.lines)


def view(cart: Cart | None) -> CartView:
    """The cart with live prices and a list of problems per line, in a fixed number of queries.

    Problems: ``not_for_sale`` (unlisted or certificate no longer valid), ``out_of_stock``,
    ``insufficient`` (fewer units available than asked), ``price_changed`` (the customer must
    accept the new price, see ``accept_prices``, before checking out).
    """
    if cart is None or not cart.items:
        return CartView(cart=cart, lines=[])
    matrix = availability_matrix([i.product_id for i in cart.items])
    totals: dict[int, int] = {}
    for (_shop, product_id), units in matrix.items():
        totals[product_id] = totals.get(product_id, 0) + units
    lines = []
    for item in cart.items:
        product = item.product
        cert = product.valid_certificate()
        line = CartLine(item=item, product=product, quantity=item.quantity, unit_price=product.price,
                        stars=cert.stars if cert else None, available=totals.get(product.id, 0))
        if not product.listed or cert is None:
            line.problems.append("not_for_sale")
        elif line.available <= 0:
            line.problems.append("out_of_stock")
        elif line.available < item.quantity:
            line.problems.append("insufficient")
        if item.price_seen != product.price:
            line.problems.append("price_changed")
        lines.append(line)
    return CartView(cart=cart, lines=lines)


def accept_prices(cart: Cart) -> None:
    """The customer has seen the current prices: stop warning about changes."""
    for item in cart.items:
        item.price_seen = item.product.price
    db.session.flush()
