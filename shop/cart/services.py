"""Carts: a token-addressed list of products and quantities. Prices are always read live."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from shop.cart.models import Cart, CartItem
from shop.catalog.models import Product
from shop.errors import DomainError, InvalidInput, NotFound, OutOfStock
from shop.extensions import db
from shop.i18n import localized
from shop.inputs import DB_INT_MAX, MAX_WHOLE_NUMBER, whole_number
from shop.inventory.services import availability_matrix

TOKEN_BYTES = 24

# What can stop a cart line from being ordered, checked by ``line_problems`` for the cart page, the
# API's cart, adding to the cart and ``place_order`` alike.
NOT_FOR_SALE = "not_for_sale"    # unlisted, or its OCOP certificate is no longer valid
OUT_OF_STOCK = "out_of_stock"    # no unit available in any shop
INSUFFICIENT = "insufficient"    # fewer units available than the line asks for
TOO_MANY = "too_many"            # more than MAX_LINE_QUANTITY (the limit may have been lowered)
PRICE_CHANGED = "price_changed"  # the price moved since the customer saw it: accept_prices first
PROBLEMS = (NOT_FOR_SALE, OUT_OF_STOCK, INSUFFICIENT, TOO_MANY, PRICE_CHANGED)


class CartOrdered(DomainError):
    """The cart has already become an order (``details["order_id"]``); it takes no more changes.

    Checkout answers it by showing that order (an idempotent checkout); elsewhere it is a 409.
    """

    code = "cart_ordered"
    status = 409

    def __init__(self, order):
        super().__init__(_("This cart has already become order %(number)s. Add a product to start a new cart.",
                           number=order.number), order_id=order.id, order_number=order.number)
        self.order = order


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
    """Re-read a cart and its items under a row lock (``FOR UPDATE`` on PostgreSQL; on SQLite,
    which has no row locks, the database's write lock, taken by a no-op update of the cart).

    Two clicks at once (add to cart, place order) then run one after the other instead of both
    inserting the same line or both turning one cart into two orders.
    """
    if cart.id is None:
        return cart
    db.session.flush()  # the reload below must not drop unsaved changes
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE: a write takes its database-wide write lock now, so a second
        # click waits here (busy_timeout) until the first commits, then reads the ordered cart.
        db.session.execute(update(Cart).where(Cart.id == cart.id).values(id=Cart.id))
    locked = db.session.scalars(
        select(Cart).where(Cart.id == cart.id).with_for_update()
        .options(selectinload(Cart.items).selectinload(CartItem.product).selectinload(Product.certificates))
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        raise InvalidInput(_("This cart has already been turned into an order."), problem="cart_gone")
    return locked


def ensure_open(cart: Cart | None) -> None:
    """Raise ``CartOrdered`` if the cart has already become an order (read it under ``lock_cart``)."""
    if cart is not None and cart.order_id is not None and cart.order is not None:
        raise CartOrdered(cart.order)


def get_or_create_cart(token: str | None, user_id: int | None = None) -> Cart:
    """The cart for ``token``, or a new one (new token) when there is none or it became an order.

    ``user_id``: the signed-in customer, who owns a new cart (and a guest cart they add to), so it
    waits for them on their next sign-in (``accounts.services.merge_guest_cart``).
    """
    cart = find_cart(token)
    if cart is None or cart.order_id is not None:
        cart = Cart(token=new_token(), user_id=user_id)
        db.session.add(cart)
        db.session.flush()
    elif user_id is not None and cart.user_id is None:
        cart.user_id = user_id
    return cart


def parse_quantity(raw, allow_zero: bool = False) -> int:
    """A whole number from 1 (or 0, meaning remove) up to ``MAX_LINE_QUANTITY``.

    ``raw`` is form text or a JSON int, read by ``shop.inputs.whole_number`` (ASCII digits,
    bounded length). Raises ``InvalidInput(field="quantity")``.
    """
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    quantity = whole_number(raw, -MAX_WHOLE_NUMBER, MAX_WHOLE_NUMBER)  # range message below
    if quantity is None:
        raise InvalidInput(_("Quantity must be a whole number."), field="quantity")
    low = 0 if allow_zero else 1
    if not low <= quantity <= maximum:
        raise InvalidInput(_("Quantity must be between %(low)d and %(high)d.", low=low, high=maximum),
                           field="quantity")
    return quantity


def parse_product_id(raw) -> int:
    """A product id as the database knows it (``shop.inputs.whole_number``, 1 .. 2**31-1); else NotFound."""
    product_id = whole_number(raw, 1, DB_INT_MAX)
    if product_id is None:
        raise NotFound(_("No such product."))
    return product_id


def _total_available(product_id: int) -> int:
    return sum(units for (_shop, _p), units in availability_matrix([product_id]).items())


def set_quantity(cart: Cart, product_id, quantity) -> CartItem | None:
    """Put exactly ``quantity`` of a product in the cart (0 removes it).

    Raises ``InvalidInput`` (quantity), ``NotFound`` (product), ``CartOrdered``, and for the new
    line's problems (``line_problems``, without the price check) ``InvalidInput``/``OutOfStock``.
    """
    quantity = parse_quantity(quantity, allow_zero=True)
    product_id = parse_product_id(product_id)
    cart = lock_cart(cart)
    ensure_open(cart)
    item = next((i for i in cart.items if i.product_id == product_id), None)
    if quantity == 0:
        if item is not None:
            cart.items.remove(item)
            db.session.flush()
        return None
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    available = _total_available(product.id)
    problems = line_problems(product, quantity, available)
    name = localized(product, "name")
    if NOT_FOR_SALE in problems:
        raise InvalidInput(_("%(name)s is not on sale at the moment.", name=name),
                           problem=NOT_FOR_SALE, product_id=product.id)
    if OUT_OF_STOCK in problems:
        raise OutOfStock(_("%(name)s is out of stock.", name=name), product_id=product.id)
    if INSUFFICIENT in problems:
        raise OutOfStock(_("Only %(n)d of %(name)s available.", n=available, name=name), product_id=product.id)
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


def line_problems(product: Product, quantity: int, available: int, price_seen: int | None = None) -> list[str]:
    """What stops ``quantity`` units of ``product`` from being ordered now (``PROBLEMS`` codes).

    ``available`` is the units free in all shops (``inventory.availability_matrix``);
    ``price_seen`` the price the customer last accepted (None: do not check the price). The one
    rule for the cart page, the API cart, adding to the cart and ``orders.place_order``.
    """
    problems = []
    if not product.sellable:
        problems.append(NOT_FOR_SALE)
    elif available <= 0:
        problems.append(OUT_OF_STOCK)
    elif available < quantity:
        problems.append(INSUFFICIENT)
    if quantity > current_app.config["MAX_LINE_QUANTITY"]:
        problems.append(TOO_MANY)
    if price_seen is not None and price_seen != product.price:
        problems.append(PRICE_CHANGED)
    return problems


def view(cart: Cart | None) -> CartView:
    """The cart with live prices and a list of problems per line (``line_problems``), in a fixed
    number of queries. The customer must fix every problem before checking out."""
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
        available = totals.get(product.id, 0)
        lines.append(CartLine(item=item, product=product, quantity=item.quantity, unit_price=product.price,
                              stars=cert.stars if cert else None, available=available,
                              problems=line_problems(product, item.quantity, available, item.price_seen)))
    return CartView(cart=cart, lines=lines)


def ensure_ready(cart_view: CartView) -> None:
    """Raise the first problem of a cart about to become an order (``place_order`` calls this on
    the cart as read under its lock; the cart page shows the same problems from ``view``).

    Raises ``InvalidInput`` (empty cart; ``problem`` = price_changed, not_for_sale or too_many,
    with ``product_id``) or ``OutOfStock`` (out_of_stock, insufficient).
    """
    if not cart_view.lines:
        raise InvalidInput(_("Your cart is empty."))
    for line in cart_view.lines:
        name, product_id = localized(line.product, "name"), line.product.id
        if PRICE_CHANGED in line.problems:
            raise InvalidInput(_("The price of %(name)s has changed. Please review your cart.", name=name),
                               problem=PRICE_CHANGED, product_id=product_id)
        if NOT_FOR_SALE in line.problems:
            raise InvalidInput(_("%(name)s is not on sale at the moment. Please remove it from your cart.",
                                 name=name), problem=NOT_FOR_SALE, product_id=product_id)
        if TOO_MANY in line.problems:
            raise InvalidInput(_("At most %(n)d of %(name)s per order. Please lower the quantity in your cart.",
                                 n=current_app.config["MAX_LINE_QUANTITY"], name=name),
                               problem=TOO_MANY, product_id=product_id)
        if line.problems:
            raise OutOfStock(_("Sorry, %(name)s has just sold out or has fewer units left than you asked for.",
                               name=name), problem=line.problems[0], product_id=product_id)


def accept_prices(cart: Cart) -> None:
    """The customer has seen the current prices: stop warning about changes."""
    for item in cart.items:
        item.price_seen = item.product.price
    db.session.flush()
