"""Every hold ends: expiry shown at once, late payments and confirmations re-checked, staff flags,
certificates that lapse while an order is open, and the limits that stop one customer (or one
address) from locking the shop's stock."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.cart import services as carts
from shop.errors import CustomerLimit, InvalidInput, InvalidTransition, NotAllowed, OutOfStock
from shop.extensions import db, limiter
from shop.inventory import services as inventory
from shop.inventory.models import Reservation, StockLevel
from shop.orders import services as orders
from shop.orders.models import Order, email_key
from shop.timeutil import today_vn, utcnow

CUSTOMER = orders.Customer(name="Nguyễn Thị Lan", phone="0912 345 678", email="lan@example.vn")
OTHER = orders.Customer(name="Trần Văn Minh", phone="0987 654 321", email="minh@example.vn")
DELIVERY = orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                             province="Thái Nguyên")
ADDRESS = {"street": "12 Trường Chinh", "ward": "Phường Đức Xuân", "province": "Thái Nguyên"}


@pytest.fixture
def stocked(make_product, make_shop):
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000)
    nep = make_product("Gạo Nếp Tài", stars=4, price=200_000)
    online = make_shop("Cửa hàng OCOP trung tâm", ships_online=True, offers_pickup=True)
    inventory.receive(online.id, mien.id, 300)
    inventory.receive(online.id, nep.id, 3)
    db.session.commit()
    return {"mien": mien, "nep": nep, "online": online}


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


def cart_with(*lines) -> str:
    cart = carts.get_or_create_cart(None)
    for product, quantity in lines:
        carts.set_quantity(cart, product.id, quantity)
    db.session.commit()
    return cart.token


def place(product, quantity, method="cod", customer=CUSTOMER, fulfilment=DELIVERY) -> Order:
    order = orders.place_order(cart_with((product, quantity)), customer, fulfilment, method)
    db.session.commit()
    return order


def available(shop, product) -> int:
    return inventory.availability_matrix([product.id], [shop.id]).get((shop.id, product.id), 0)


def on_hand(shop, product) -> int:
    return db.session.scalar(select(StockLevel.on_hand).where(
        StockLevel.shop_id == shop.id, StockLevel.product_id == product.id))


def run_out_of_time(order: Order) -> None:
    """The order's deadline passes (moved into the past, as the clock would)."""
    past = utcnow() - timedelta(seconds=1)
    order.hold_expires_at = past
    for line in order.lines:
        for reservation in line.reservations:
            if reservation.state == "held":
                reservation.expires_at = past
    db.session.commit()


def reload(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def notes(order: Order) -> list[str]:
    return [event.note for event in reload(order).events]


# ---- item 8: an expired hold shows as expired at once ------------------------------------------


def test_an_expired_bank_transfer_shows_expired_on_the_page_and_the_api_before_any_job(stocked, client):
    order = place(stocked["nep"], 3, "bank_transfer")
    page = client.get(f"/orders/{order.number}?token={order.access_token}").get_data(as_text=True)
    assert "Chờ thanh toán" in page and "<svg" in page  # awaiting payment, with its QR code

    run_out_of_time(order)
    page = client.get(f"/orders/{order.number}?token={order.access_token}").get_data(as_text=True)
    assert 'order-status--expired">Hết hạn<' in page and "order-status--pending_payment" not in page
    assert "<svg" not in page and "Vui lòng thanh toán trước" not in page  # no QR, no deadline to meet
    api = client.get(f"/api/v1/orders/{order.number}?token={order.access_token}").get_json()
    assert api["status"] == "expired" and api["payment"]["vietqr_payload"] is None
    assert reload(order).status == "pending_payment"  # nothing was written: it is derived
    assert available(stocked["online"], stocked["nep"]) == 3


def test_an_expired_card_order_shows_expired_without_a_pay_button(stocked, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_stand_in")
    order = place(stocked["nep"], 1, "card")
    run_out_of_time(order)
    page = client.get(f"/orders/{order.number}?token={order.access_token}").get_data(as_text=True)
    assert 'order-status--expired">Hết hạn<' in page and "Đang chờ bạn thanh toán bằng thẻ" not in page
    assert client.get(f"/api/v1/orders/{order.number}?token={order.access_token}").get_json()["status"] == "expired"


def test_a_late_transfer_is_sold_if_the_stock_is_still_there_and_says_so(stocked, runner):
    order = place(stocked["nep"], 2, "bank_transfer")
    run_out_of_time(order)
    result = runner.invoke(args=["order", "show", order.number])
    assert f"{order.number}: expired" in result.output and "hold expired" in result.output

    result = runner.invoke(args=["order", "confirm-transfer", order.number])
    assert result.exit_code == 0 and f"{order.number}: paid" in result.output
    order = reload(order)
    assert order.status == "paid" and not order.needs_review and order.hold_expires_at is None
    assert on_hand(stocked["online"], stocked["nep"]) == 1
    assert any(n.startswith("the hold had expired") and n.endswith("still there") for n in notes(order))


def test_a_late_transfer_whose_stock_went_to_someone_else_is_paid_and_flagged(stocked, runner):
    order = place(stocked["nep"], 2, "bank_transfer")
    run_out_of_time(order)
    place(stocked["nep"], 3, "cod", customer=OTHER)  # the released units are sold to another customer

    result = runner.invoke(args=["order", "confirm-transfer", order.number])
    assert result.exit_code == 0 and f"{order.number}: paid" in result.output
    assert "no longer in stock" in result.output  # the warning staff read
    order = reload(order)
    assert order.status == "paid" and order.needs_review and "2 × Gạo Nếp Tài" in order.review_reason
    assert on_hand(stocked["online"], stocked["nep"]) == 3  # nothing sold twice
    assert available(stocked["online"], stocked["nep"]) == 0
    flagged = runner.invoke(args=["order", "flagged"])
    assert order.number in flagged.output and "1 flagged" in flagged.output

    # It cannot be prepared before the goods are there; once restocked, moving on sells them.
    refused = runner.invoke(args=["order", "set-status", order.number, "processing"])
    assert refused.exit_code != 0 and "không còn nữa" in refused.output
    inventory.receive(stocked["online"].id, stocked["nep"].id, 2)
    db.session.commit()
    assert runner.invoke(args=["order", "set-status", order.number, "processing"]).exit_code == 0
    assert on_hand(stocked["online"], stocked["nep"]) == 3
    assert runner.invoke(args=["order", "resolve", order.number]).exit_code != 0  # a note is required
    resolved = runner.invoke(args=["order", "resolve", order.number, "--note", "restocked from the farm"])
    assert resolved.exit_code == 0 and "WARNING" not in resolved.output
    assert not reload(order).needs_review


def test_a_transfer_for_an_order_already_cancelled_is_recorded_and_flagged_for_refund(stocked, runner):
    order = place(stocked["nep"], 2, "bank_transfer")
    run_out_of_time(order)
    assert order.number in runner.invoke(args=["release-expired"]).output
    result = runner.invoke(args=["order", "confirm-transfer", order.number])
    assert result.exit_code == 0 and f"{order.number}: cancelled" in result.output
    order = reload(order)
    assert order.status == "cancelled" and order.needs_review and "refund" in order.review_reason
    assert "bank transfer received" in notes(order)
    assert available(stocked["online"], stocked["nep"]) == 3


def test_a_late_card_payment_is_checked_again_and_noted(stocked, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_stand_in")
    order = place(stocked["nep"], 1, "card")
    run_out_of_time(order)
    orders.transition(order, "paid", actor="stripe", note="card payment received")
    db.session.commit()
    assert reload(order).status == "paid" and on_hand(stocked["online"], stocked["nep"]) == 2
    assert any(n.startswith("the hold had expired") for n in notes(order))


# ---- item 11: cash on delivery and pick-up holds end -------------------------------------------


def test_a_cod_order_must_be_confirmed_in_time_or_it_expires(stocked, runner, app):
    order = place(stocked["nep"], 3, "cod")
    assert order.hold_expires_at is not None
    hours = (order.hold_expires_at - order.created_at).total_seconds() / 3600
    assert round(hours) == app.config["COD_CONFIRM_HOURS"]
    assert available(stocked["online"], stocked["nep"]) == 0

    run_out_of_time(order)
    assert available(stocked["online"], stocked["nep"]) == 3  # at once, no job needed
    assert reload(order).shown_status() == "expired"
    assert order.number in runner.invoke(args=["release-expired"]).output
    order = reload(order)
    assert order.status == "cancelled" and "not confirmed in time; stock released" in notes(order)
    assert all(r.state == "released" for r in order.lines[0].reservations)


def test_confirming_a_cod_order_keeps_its_stock_until_it_ships(stocked, runner):
    order = place(stocked["nep"], 2, "cod")
    result = runner.invoke(args=["order", "confirm-cod", order.number])
    assert result.exit_code == 0 and f"{order.number}: processing" in result.output
    order = reload(order)
    assert order.hold_expires_at is None
    assert [r.expires_at for r in order.lines[0].reservations] == [None]
    assert "confirmed with the customer" in notes(order)
    assert runner.invoke(args=["release-expired"]).output.startswith("Released 0")
    assert available(stocked["online"], stocked["nep"]) == 1
    assert runner.invoke(args=["order", "set-status", order.number, "shipped"]).exit_code == 0
    assert on_hand(stocked["online"], stocked["nep"]) == 1


def test_confirm_cod_is_only_for_orders_paid_at_hand_over(stocked):
    order = place(stocked["nep"], 1, "bank_transfer")
    with pytest.raises(InvalidTransition):
        orders.confirm_order(order, actor="staff")


def test_a_late_confirmation_is_held_again_only_if_the_units_are_still_there(stocked):
    first = place(stocked["nep"], 2, "cod")
    run_out_of_time(first)
    orders.confirm_order(first, actor="staff")  # nobody took them: held again, no deadline
    db.session.commit()
    assert reload(first).status == "processing" and available(stocked["online"], stocked["nep"]) == 1
    assert any(n.startswith("the hold had expired") for n in notes(first))

    second = place(stocked["nep"], 1, "cod", customer=OTHER)
    run_out_of_time(second)
    place(stocked["mien"], 1, "cod", customer=OTHER)
    third = orders.place_order(cart_with((stocked["nep"], 1)),
                               orders.Customer(name="Lê Thu", phone="0911 222 333", email="thu@example.vn"),
                               DELIVERY, "cod")
    db.session.commit()
    with pytest.raises(OutOfStock, match="không còn nữa"):
        orders.confirm_order(second, actor="staff")
    db.session.rollback()
    assert reload(second).status == "placed" and reload(third).status == "placed"


def test_a_pay_at_shop_order_expires_unconfirmed_and_when_not_collected(stocked, runner, app):
    pickup = orders.Fulfilment(type="pickup", pickup_shop_id=stocked["online"].id)
    order = place(stocked["nep"], 2, "pay_at_shop", fulfilment=pickup)
    hours = (order.hold_expires_at - order.created_at).total_seconds() / 3600
    assert round(hours) == app.config["PICKUP_CONFIRM_HOURS"]

    orders.transition(order, "processing", actor="staff")
    orders.transition(order, "ready_for_pickup", actor="staff")
    db.session.commit()
    order = reload(order)
    days = (order.hold_expires_at - utcnow()).total_seconds() / 86400
    assert round(days) == app.config["PICKUP_COLLECT_DAYS"]
    assert order.shown_status() == "ready_for_pickup"

    run_out_of_time(order)
    assert reload(order).shown_status() == "expired" and available(stocked["online"], stocked["nep"]) == 3
    assert order.number in runner.invoke(args=["release-expired"]).output
    assert reload(order).status == "cancelled" and "not collected in time; stock released" in notes(order)


def test_a_paid_pickup_order_waiting_at_the_shop_never_expires(stocked, runner):
    pickup = orders.Fulfilment(type="pickup", pickup_shop_id=stocked["online"].id)
    order = place(stocked["nep"], 1, "bank_transfer", fulfilment=pickup)
    orders.confirm_bank_transfer(order, actor="staff")
    orders.transition(order, "processing", actor="staff")
    orders.transition(order, "ready_for_pickup", actor="staff")
    db.session.commit()
    order = reload(order)
    order.hold_expires_at = utcnow() - timedelta(days=30)  # even with an old deadline left over
    db.session.commit()
    assert reload(order).shown_status() == "ready_for_pickup"
    assert runner.invoke(args=["release-expired"]).output.startswith("Released 0")


# ---- item 11: per-customer limits --------------------------------------------------------------


def test_open_orders_per_customer_are_capped_by_phone_or_email(stocked, app):
    app.config.update(MAX_OPEN_ORDERS_PER_CUSTOMER=2)
    try:
        place(stocked["mien"], 1)
        # The same phone and email written differently: still the same customer.
        place(stocked["mien"], 1, customer=orders.Customer(name="Lan", phone="+84912345678", email="Lan+2@example.vn"))
        for other_door in (orders.Customer(name="Lan", phone="0912345678", email="y@example.vn"),
                           orders.Customer(name="Lan", phone="0900000001", email="LAN+shop@Example.VN")):
            with pytest.raises(CustomerLimit, match="đã có 2 đơn hàng đang chờ"):
                orders.place_order(cart_with((stocked["mien"], 1)), other_door, DELIVERY, "cod")
            db.session.rollback()
        assert email_key("LAN+shop@Example.VN") == "lan@example.vn"
        place(stocked["mien"], 1, customer=OTHER)  # someone else is not affected
    finally:
        app.config.update(MAX_OPEN_ORDERS_PER_CUSTOMER=3)


def test_held_units_per_customer_are_capped_and_expired_holds_do_not_count(stocked, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_OPEN_UNITS_PER_CUSTOMER", 30)
    limit = 30
    first = place(stocked["mien"], limit - 10)
    with pytest.raises(CustomerLimit, match=str(limit)):
        orders.place_order(cart_with((stocked["mien"], 11)), CUSTOMER, DELIVERY, "cod")
    db.session.rollback()
    place(stocked["mien"], 10)  # exactly up to the limit
    run_out_of_time(first)
    place(stocked["mien"], 11)  # the expired order no longer holds anything


def test_the_limit_message_reaches_the_checkout_page_and_the_api(stocked, client, app):
    app.config.update(MAX_OPEN_ORDERS_PER_CUSTOMER=1)
    try:
        place(stocked["mien"], 1)
        client.post("/cart/add", data={"product_id": stocked["mien"].id, "quantity": 1})
        page = client.post("/orders/checkout", data={"name": CUSTOMER.name, "phone": CUSTOMER.phone,
                                                      "email": CUSTOMER.email, "fulfilment": "delivery",
                                                      "payment_method": "cod", **ADDRESS})
        assert page.status_code == 409 and "đơn hàng đang chờ thanh toán hoặc xác nhận" in page.get_data(as_text=True)

        token = client.post("/api/v1/carts").get_json()["token"]
        client.put(f"/api/v1/carts/{token}/items/{stocked['mien'].id}", json={"quantity": 1})
        api = client.post("/api/v1/orders", json={
            "cart_token": token, "payment_method": "cod",
            "customer": {"name": CUSTOMER.name, "phone": CUSTOMER.phone, "email": CUSTOMER.email},
            "fulfilment": {"type": "delivery", "address": ADDRESS}})
        assert api.status_code == 409 and api.get_json()["error"]["code"] == "customer_limit"
    finally:
        app.config.update(MAX_OPEN_ORDERS_PER_CUSTOMER=3)


def _page_order(app, product, quantity, customer, env):
    client = app.test_client()  # a new visitor each time: a fresh cart cookie
    client.post("/cart/add", data={"product_id": product.id, "quantity": quantity}, environ_base=env)
    return client.post("/orders/checkout", environ_base=env, data={
        "name": customer.name, "phone": customer.phone, "email": customer.email,
        "fulfilment": "delivery", "payment_method": "cod", **ADDRESS})


def _api_order(app, product, quantity, customer, env):
    client = app.test_client()
    token = client.post("/api/v1/carts", environ_base=env).get_json()["token"]
    client.put(f"/api/v1/carts/{token}/items/{product.id}", json={"quantity": quantity}, environ_base=env)
    return client.post("/api/v1/orders", environ_base=env, json={
        "cart_token": token, "payment_method": "cod",
        "customer": {"name": customer.name, "phone": customer.phone, "email": customer.email},
        "fulfilment": {"type": "delivery", "address": ADDRESS}})


def test_the_cod_attack_replayed_leaves_the_stock_to_other_customers(stocked, app):
    """Issue 8 item 11: one address placed 12 COD orders in 14 seconds and locked 99.9 % of the
    stock that ships online. Replayed through both doors, the customer gets 3 orders, at most
    100 units, and everyone else can still buy the rest."""
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    mien = stocked["mien"]
    statuses = []
    for i in range(12):
        door = _page_order if i % 2 else _api_order
        variant = orders.Customer(name="Kẻ Phá", phone="0912 345 678" if i % 3 else "+84 912 345 678",
                                  email=f"Attacker+{i}@Example.vn")
        statuses.append(door(app, mien, 50, variant, attacker).status_code)
    placed = [s for s in statuses if s in (201, 302)]
    assert len(placed) == 2  # 2 × 50 units = the 100-unit limit; the 3rd order would exceed it
    assert all(s == 409 for s in statuses if s not in (201, 302))
    assert available(stocked["online"], mien) == 200
    held = db.session.scalars(select(Reservation).where(Reservation.state == "held")).all()
    assert sum(r.quantity for r in held) == 100

    # Others can still buy, through either door.
    other = orders.Customer(name="Trần Văn Minh", phone="0987 654 321", email="minh@example.vn")
    assert _api_order(app, mien, 40, other, {"REMOTE_ADDR": "198.51.100.20"}).status_code == 201
    hoa = orders.Customer(name="Hoa", phone="0977 000 111", email="hoa@example.vn")
    assert _page_order(app, mien, 40, hoa, {"REMOTE_ADDR": "198.51.100.21"}).status_code == 302
    # And what the attacker holds ends: unconfirmed COD orders expire.
    for order in db.session.scalars(select(Order).where(Order.email_key == "attacker@example.vn")):
        run_out_of_time(order)
    assert available(stocked["online"], mien) == 300 - 80


@pytest.fixture
def limited_app(app):
    """A second app with rate limiting on, on the same database (counters put back afterwards)."""
    from config import TestingConfig
    from shop import create_app

    was_enabled = limiter.enabled
    limited = create_app(TestingConfig, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                         SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"], ORDER_RATE_LIMIT="4/minute",
                         CART_RATE_LIMIT="6/minute", MAX_OPEN_ORDERS_PER_CUSTOMER=100)
    try:
        yield limited
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


def test_pages_and_api_share_one_order_budget_per_address(stocked, limited_app):
    here = {"REMOTE_ADDR": "203.0.113.7"}
    statuses = []
    for i in range(6):
        door = _page_order if i % 2 else _api_order
        statuses.append(door(limited_app, stocked["mien"], 1, CUSTOMER, here).status_code)
    # 4 orders in all, whichever door: the 5th and 6th are refused on both.
    assert statuses == [201, 302, 201, 302, 429, 429]


def test_cart_creation_is_rate_limited_through_the_api_and_the_pages(stocked, limited_app):
    client = limited_app.test_client()
    here = {"REMOTE_ADDR": "203.0.113.8"}
    statuses = [client.post("/api/v1/carts", environ_base=here).status_code for _ in range(4)]
    # A bot without a cookie creates a cart with every "add to cart": the same budget.
    for _ in range(3):
        bot = limited_app.test_client()
        statuses.append(bot.post("/cart/add", data={"product_id": stocked["mien"].id}, environ_base=here).status_code)
    assert statuses == [201] * 4 + [302, 302, 429]
    assert client.post("/api/v1/carts", environ_base=here).status_code == 429
    assert client.post("/api/v1/carts", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 201
    # A shopper adding to the cart they have is not limited by it.
    shopper = limited_app.test_client()
    other = {"REMOTE_ADDR": "203.0.113.10"}
    statuses = [shopper.post("/cart/add", data={"product_id": stocked["mien"].id}, environ_base=other).status_code
                for _ in range(10)]
    assert statuses == [302] * 10


def test_production_refuses_a_limiter_that_counts_per_worker(monkeypatch):
    from config import ProductionConfig

    env = {"SECRET_KEY": "x" * 32, "DATABASE_URL": "postgresql+psycopg://u@db/ocop", "TRUSTED_HOSTS": "ocop.example",
           "BANK_BIN": "970418", "BANK_ACCOUNT": "123456789", "BANK_ACCOUNT_NAME": "OCOP BAC KAN"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for storage in (None, "memory://", " memory:// "):
        if storage is None:
            monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
        else:
            monkeypatch.setenv("RATELIMIT_STORAGE_URI", storage)
        with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
            ProductionConfig.validate()
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://cache:6379/0")
    ProductionConfig.validate()


# ---- item 9: certificates that lapse while an order is open ------------------------------------


def revoke(product) -> None:
    cert = product.latest_certificate
    cert.status = "revoked"
    cert.revoked_on = today_vn()
    cert.revocation_decision = "99/QĐ-UBND"
    db.session.commit()


def test_a_revoked_product_stops_staff_moving_the_goods_unless_forced_with_a_note(stocked, runner):
    order = place(stocked["nep"], 1, "cod")
    revoke(stocked["nep"])
    shown = runner.invoke(args=["order", "show", order.number])
    assert "WARNING" in shown.output and "Gạo Nếp Tài" in shown.output and "revoked" in shown.output

    refused = runner.invoke(args=["order", "confirm-cod", order.number])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert reload(order).status == "placed"
    no_note = runner.invoke(args=["order", "confirm-cod", order.number, "--force"])
    assert no_note.exit_code != 0 and reload(order).status == "placed"

    forced = runner.invoke(args=["order", "confirm-cod", order.number, "--force",
                                 "--note", "customer agreed to receive it without the OCOP label"])
    assert forced.exit_code == 0 and f"{order.number}: processing" in forced.output
    assert any(n.startswith("went on despite: the OCOP certificate of Gạo Nếp Tài") for n in notes(order))
    # Once staff went on for that lapse, the next steps do not ask again.
    assert runner.invoke(args=["order", "set-status", order.number, "shipped"]).exit_code == 0


@pytest.mark.parametrize("step", ["shipped", "ready_for_pickup"])
def test_every_goods_step_checks_the_certificate(stocked, make_product, step):
    fulfilment = DELIVERY if step == "shipped" else orders.Fulfilment(type="pickup",
                                                                       pickup_shop_id=stocked["online"].id)
    order = place(stocked["nep"], 1, "cod" if step == "shipped" else "pay_at_shop", fulfilment=fulfilment)
    orders.transition(order, "processing", actor="staff")
    db.session.commit()
    cert = stocked["nep"].latest_certificate
    cert.expires_on = today_vn() - timedelta(days=1)  # expired rather than revoked
    cert.issued_on = today_vn() - timedelta(days=3 * 365)
    db.session.commit()
    with pytest.raises(NotAllowed, match="expired"):
        orders.transition(order, step, actor="staff")
    db.session.rollback()
    with pytest.raises(InvalidInput):
        orders.transition(order, step, actor="staff", force=True)
    db.session.rollback()
    orders.transition(order, step, actor="staff", force=True, note="checked with the customer")
    db.session.commit()
    assert reload(order).status == step


def test_a_transfer_for_a_revoked_product_is_recorded_and_the_order_flagged(stocked, runner):
    order = place(stocked["nep"], 1, "bank_transfer")
    revoke(stocked["nep"])
    result = runner.invoke(args=["order", "confirm-transfer", order.number])
    assert result.exit_code == 0 and f"{order.number}: paid" in result.output and "WARNING" in result.output
    order = reload(order)
    assert order.needs_review and "Gạo Nếp Tài" in order.review_reason and "revoked" in order.review_reason


def test_the_cron_job_flags_open_orders_once_when_a_certificate_lapses(stocked, runner):
    open_order = place(stocked["nep"], 1, "cod")
    unaffected = place(stocked["mien"], 1, "cod")
    revoke(stocked["nep"])
    result = runner.invoke(args=["release-expired"])
    assert f"Flagged 1 order(s)" in result.output and open_order.number in result.output
    assert reload(open_order).needs_review and not reload(unaffected).needs_review
    assert runner.invoke(args=["order", "resolve", open_order.number, "--note", "called: will accept"]).exit_code == 0
    assert "Flagged" not in runner.invoke(args=["release-expired"]).output  # not flagged twice
    assert not reload(open_order).needs_review


def test_the_migration_keeps_orders_and_gives_open_ended_holds_a_deadline(tmp_path):
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from config import TestingConfig
    from shop import create_app

    uri = f"sqlite:///{tmp_path / 'holds.db'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        upgrade(revision="0007_listing_read_model")
        with db.engine.begin() as conn:
            for oid, status, method in ((1, "placed", "cod"), (2, "paid", "bank_transfer")):
                conn.execute(sa.text(
                    'INSERT INTO "order" (id, number, access_token, status, customer_name, email, phone, fulfilment, '
                    "address_street, address_ward, address_province, payment_method, subtotal, shipping_fee, total, "
                    "note, created_at, updated_at, lang) VALUES (:id, :n, :t, :s, 'Lan', 'Lan+x@Example.vn', "
                    "'0912345678', 'delivery', '', '', '', :m, 1, 0, 1, '', '2026-01-01', '2026-01-01', 'vi')"),
                    {"id": oid, "n": f"OC-{oid}", "t": f"t{oid}", "s": status, "m": method})
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("order")}
        assert "needs_review" not in columns
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT id, email_key, needs_review, hold_expires_at IS NOT NULL FROM "order" ORDER BY id')).all()
        assert [tuple(r) for r in rows] == [(1, "lan@example.vn", 0, 1), (2, "lan@example.vn", 0, 0)]
        downgrade(revision="0007_listing_read_model")  # and back, keeping the orders
        with db.engine.connect() as conn:
            assert conn.execute(sa.text('SELECT count(*) FROM "order"')).scalar() == 2
        db.session.remove()
        db.engine.dispose()
