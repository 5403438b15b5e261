"""No oversell: many customers check out the last units at the same moment (PostgreSQL)."""
import threading

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from shop import create_app
from shop.cart import services as carts
from shop.errors import CustomerLimit, OutOfStock
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Reservation
from shop.orders import services as orders
from shop.orders.models import Order

BUYERS = 40
UNITS = 10


@pytest.mark.postgres
def test_forty_simultaneous_checkouts_for_ten_units_sell_exactly_ten(app, make_product, make_shop):
    product = make_product("Miến dong Tài Hoan", stars=5, price=110_000)
    shop = make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, UNITS)
    tokens = []
    for _ in range(BUYERS):
        cart = carts.get_or_create_cart(None)
        carts.set_quantity(cart, product.id, 1)
        tokens.append(cart.token)
    db.session.commit()
    product_id, shop_id = product.id, shop.id

    # A second app on the same database with a pool big enough for every buyer at once.
    racing = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": BUYERS, "max_overflow": 0})
    start = threading.Barrier(BUYERS, timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(token: str, n: int) -> None:
        with racing.app_context():
            # Forty different travellers (one customer may only hold a few open orders).
            customer = orders.Customer(name="Khách du lịch", phone=f"09123456{n:02d}", email=f"guest{n}@example.vn")
            fulfilment = orders.Fulfilment(type="delivery", street="1 Phố Cũ", ward="Phường Nam Mẫu",
                                           province="Thái Nguyên")
            db.session.execute(select(1))  # open the connection before the race starts
            start.wait()
            try:
                orders.place_order(token, customer, fulfilment, "cod")
                db.session.commit()
                result = "sold"
            except OutOfStock:
                db.session.rollback()
                result = "out_of_stock"
            except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
                db.session.rollback()
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=buy, args=(t, n)) for n, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with racing.app_context():
        db.engine.dispose()

    assert sorted(set(outcomes)) == ["out_of_stock", "sold"], outcomes
    assert outcomes.count("sold") == UNITS and outcomes.count("out_of_stock") == BUYERS - UNITS
    db.session.expire_all()
    held = db.session.scalar(select(func.sum(Reservation.quantity)).where(
        Reservation.product_id == product_id, Reservation.state == "held"))
    assert held == UNITS
    assert db.session.scalar(select(func.count(Order.id))) == UNITS
    assert inventory.availability_matrix([product_id], [shop_id])[(shop_id, product_id)] == 0
    assert inventory.ledger_mismatches() == []


def test_a_double_click_on_place_order_makes_one_order(app, make_product, make_shop):
    """On both databases: PostgreSQL's row lock, SQLite's write lock (``carts.lock_cart``)."""
    product = make_product("Gạo Nếp Tài", stars=4, price=200_000)
    shop = make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, 5)
    cart = carts.get_or_create_cart(None)
    carts.set_quantity(cart, product.id, 2)
    db.session.commit()
    token = cart.token

    racing = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    start = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def click() -> None:
        with racing.app_context():
            customer = orders.Customer(name="Nguyễn Thị Lan", phone="0912345678", email="lan@example.vn")
            fulfilment = orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                                           province="Thái Nguyên")
            db.session.execute(select(1))
            start.wait()
            try:
                order = orders.place_order(token, customer, fulfilment, "cod")
                numbers.append(order.number)
                db.session.commit()
                outcomes.append("order")
            except carts.CartOrdered as exc:  # the second click waited, then is shown the first's order
                db.session.rollback()
                numbers.append(exc.details["order_number"])
                outcomes.append("shown")
            finally:
                db.session.remove()

    numbers: list[str] = []
    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with racing.app_context():
        db.engine.dispose()
    assert sorted(outcomes) == ["order", "shown"] and len(set(numbers)) == 1
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert inventory.availability_matrix([product.id], [shop.id])[(shop.id, product.id)] == 3


@pytest.mark.postgres
def test_one_customer_racing_checkouts_gets_no_more_open_orders_than_the_limit(app, make_product, make_shop):
    """Eight simultaneous checkouts by one customer (different carts): the per-customer limit holds
    under concurrency, because place_order takes the customer's advisory locks."""
    product = make_product("Miến dong Tài Hoan", stars=5, price=110_000)
    shop = make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, 100)
    tokens = []
    for _ in range(8):
        cart = carts.get_or_create_cart(None)
        carts.set_quantity(cart, product.id, 1)
        tokens.append(cart.token)
    db.session.commit()
    limit = app.config["MAX_OPEN_ORDERS_PER_CUSTOMER"]

    racing = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 8, "max_overflow": 0})
    start = threading.Barrier(8, timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(token: str, n: int) -> None:
        with racing.app_context():
            # The same person, writing the phone and email a little differently each time.
            customer = orders.Customer(name="Kẻ Phá", phone="0912 345 678" if n % 2 else "+84912345678",
                                       email=f"Lan+{n}@example.vn")
            fulfilment = orders.Fulfilment(type="delivery", street="1 Phố Cũ", ward="Phường Nam Mẫu",
                                           province="Thái Nguyên")
            db.session.execute(select(1))
            start.wait()
            try:
                orders.place_order(token, customer, fulfilment, "cod")
                db.session.commit()
                result = "placed"
            except CustomerLimit:
                db.session.rollback()
                result = "limited"
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=buy, args=(t, n)) for n, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with racing.app_context():
        db.engine.dispose()

    assert outcomes.count("placed") == limit and outcomes.count("limited") == 8 - limit, outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == limit
