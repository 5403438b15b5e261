"""Card payments through Stripe Checkout, against a stand-in Stripe server on 127.0.0.1.

The real ``stripe`` SDK makes every call (tests only point ``stripe.api_base`` at the stand-in),
and webhooks are signed with Stripe's real ``t=…,v1=…`` scheme.
"""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select

from shop.cart import services as carts
from shop.errors import InvalidTransition, NotAllowed
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Reservation, StockMovement
from shop.orders import services as orders
from shop.orders.models import Order
from shop.payments import services as payments
from shop.payments.models import Payment, Refund, WebhookEvent
from shop.payments.services import PAYMENT_TRANSITIONS
from shop.timeutil import utcnow
from stripe_stub import StripeStub, sign

WEBHOOK_SECRET = "whsec_test_ocop"
CUSTOMER = orders.Customer(name="Nguyễn Thị Lan", phone="0912 345 678", email="lan@example.vn")
DELIVERY = orders.Fulfilment(type="delivery", street="12 Trường Chinh", ward="Phường Đức Xuân",
                             province="Thái Nguyên")


# ---- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="session")
def stripe_server():
    server = StripeStub().start()
    yield server
    server.stop()


@pytest.fixture
def stub(stripe_server, app, monkeypatch):
    """Stripe switched on for this test, talking to a fresh stand-in."""
    stripe_server.reset()
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_ocop")
    monkeypatch.setitem(app.config, "STRIPE_PUBLISHABLE_KEY", "pk_test_ocop")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setattr(stripe, "api_base", stripe_server.url)
    return stripe_server


@pytest.fixture
def client(client):
    client.set_cookie("lang", "en")  # pages are checked against their English source texts
    return client


@pytest.fixture
def stocked(make_product, make_shop):
    mien = make_product("Miến dong Tài Hoan", stars=5, price=110_000, unit="túi 500 g")
    nep = make_product("Gạo Nếp Tài", stars=4, price=200_000)
    shop = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    inventory.receive(shop.id, mien.id, 5)
    inventory.receive(shop.id, nep.id, 3)
    db.session.commit()
    return {"mien": mien, "nep": nep, "shop": shop}


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


def place_card_order(stocked, *lines) -> Order:
    cart = carts.get_or_create_cart(None)
    for name, quantity in lines or (("mien", 2),):
        carts.set_quantity(cart, stocked[name].id, quantity)
    db.session.commit()
    order = orders.place_order(cart.token, CUSTOMER, DELIVERY, "card")
    db.session.commit()
    return order


def start(client, order):
    return client.post(f"/payments/card/{order.number}/start", data={"token": order.access_token})


def session_of(stub, response) -> dict:
    """The stand-in's session behind a redirect to Checkout."""
    assert response.status_code == 303, response.get_data(as_text=True)
    session_id = response.headers["Location"].rsplit("/", 1)[-1]
    return stub.sessions[session_id]


def deliver(client, event: dict, *, secret: str = WEBHOOK_SECRET, signature: str | None = None,
            payload: str | None = None):
    payload = payload if payload is not None else json.dumps(event)
    headers = {} if signature == "" else {"Stripe-Signature": signature or sign(payload, secret)}
    return client.post("/payments/stripe/webhook", data=payload, headers=headers, content_type="application/json")


def reload(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def available(stocked, name="mien") -> int:
    shop, product = stocked["shop"], stocked[name]
    return inventory.availability_matrix([product.id], [shop.id]).get((shop.id, product.id), 0)


def sales() -> list[tuple[int, int]]:
    return db.session.execute(select(StockMovement.product_id, StockMovement.delta)
                              .where(StockMovement.reason == "sale")).all()


def pay(client, stub, order) -> dict:
    """Start Checkout, pay, and let the webhook arrive."""
    session = session_of(stub, start(client, order))
    completed = stub.complete(session["id"])
    assert deliver(client, stub.event("checkout.session.completed", completed)).status_code == 200
    return completed


# ---- configuration --------------------------------------------------------------------------


def test_card_is_offered_only_when_stripe_is_configured(app, monkeypatch):
    assert "card" not in orders.payment_methods("delivery")
    assert "card" not in orders.payment_methods("pickup")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_ocop")
    assert "card" in orders.payment_methods("delivery") and "card" in orders.payment_methods("pickup")


def test_without_keys_the_webhook_refuses_everything_and_nothing_breaks(client, stocked):
    event = StripeStub.event("checkout.session.completed", {"id": "cs_x"})
    assert deliver(client, event).status_code == 400
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 0


# ---- the happy path -------------------------------------------------------------------------


def test_checkout_session_in_vnd_then_webhook_marks_the_order_paid(client, stub, stocked):
    order = place_card_order(stocked, ("mien", 2), ("nep", 1))
    assert (order.subtotal, order.shipping_fee, order.total) == (420_000, 30_000, 450_000)

    response = start(client, order)
    session = session_of(stub, response)
    assert response.headers["Location"] == session["url"]

    [call] = stub.calls("POST", "/v1/checkout/sessions")
    params = call.params
    assert call.headers["Idempotency-Key"].startswith(f"ocop-checkout-{order.number}-1-")
    assert params["mode"] == "payment" and params["currency"] == "vnd"
    # Zero-decimal: unit_amount is whole đồng, not hundredths.
    assert [(i["price_data"]["product_data"]["name"], i["price_data"]["unit_amount"], i["quantity"],
             i["price_data"]["currency"]) for i in params["line_items"]] == [
        ("Miến dong Tài Hoan (túi 500 g)", "110000", "2", "vnd"),
        ("Gạo Nếp Tài (túi 500 g)", "200000", "1", "vnd"),
        ("Phí vận chuyển (Shipping)", "30000", "1", "vnd"),
    ]
    assert session["amount_total"] == order.total == 450_000
    assert params["customer_email"] == "lan@example.vn"
    assert params["client_reference_id"] == order.number
    assert params["metadata"]["order_number"] == order.number
    assert params["metadata"]["order_id"] == str(order.id)
    assert params["payment_intent_data"]["metadata"]["order_number"] == order.number
    assert params["success_url"].endswith("&session_id={CHECKOUT_SESSION_ID}")
    assert f"/payments/card/{order.number}/return?token=" in params["success_url"]
    assert f"/payments/card/{order.number}/cancel?token=" in params["cancel_url"]

    # The session and the stock hold end at the same second, at least 30 minutes from now.
    order = reload(order)
    expires_at = int(params["expires_at"])
    assert expires_at == int(order.hold_expires_at.timestamp())
    assert expires_at >= time.time() + 30 * 60
    assert {r.expires_at for r in db.session.scalars(select(Reservation))} == {order.hold_expires_at}
    assert order.status == "pending_payment" and sales() == []

    completed = stub.complete(session["id"])
    response = deliver(client, stub.event("checkout.session.completed", completed))
    assert response.status_code == 200 and response.json["outcome"] == "paid"

    order = reload(order)
    assert order.status == "paid"
    assert sorted(sales()) == sorted([(stocked["mien"].id, -2), (stocked["nep"].id, -1)])
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.status, payment.amount, payment.amount_received, payment.currency) == (
        "succeeded", 450_000, 450_000, "vnd")
    assert payment.provider_reference == session["id"] and payment.payment_intent == completed["payment_intent"]
    assert [(e.from_status, e.to_status, e.actor) for e in order.events][-1] == ("pending_payment", "paid", "stripe")

    page = client.get(f"/payments/card/{order.number}/return?token={order.access_token}&session_id={session['id']}")
    assert page.status_code == 200 and "Thank you, your payment has been received" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"


def test_checkout_view_helper_redirects_to_stripe(app, stub, stocked):
    from shop.payments.views import card_checkout_redirect

    order = place_card_order(stocked)
    with app.test_request_context("/orders/checkout", method="POST"):
        response = card_checkout_redirect(order)
    assert response.status_code == 303
    assert response.headers["Location"] == next(iter(stub.sessions.values()))["url"]


# ---- idempotency ----------------------------------------------------------------------------


def test_double_submit_reuses_the_one_open_session(client, stub, stocked):
    order = place_card_order(stocked)
    first, second = start(client, order), start(client, order)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(stub.sessions) == 1 and len(stub.calls("POST", "/v1/checkout/sessions")) == 1
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_session(client, stub, stocked):
    order = place_card_order(stocked)
    stub.drop_next_response = True  # Stripe creates the session, the answer never arrives
    response = start(client, order)
    calls = stub.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2 and len({c.headers["Idempotency-Key"] for c in calls}) == 1
    assert len(stub.sessions) == 1
    assert response.headers["Location"] == next(iter(stub.sessions.values()))["url"]


def test_when_stripe_is_down_the_next_click_repeats_the_same_attempt(client, stub, stocked):
    order = place_card_order(stocked)
    stub.failures.append((503, "api_error", "Stripe is down", {"Stripe-Should-Retry": "false"}))
    response = start(client, order)
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert "We could not open the card payment page" in page and "Pay 250.000" in page
    assert reload(order).status == "pending_payment"

    session = session_of(stub, start(client, order))
    calls = stub.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2 and calls[0].headers["Idempotency-Key"] == calls[1].headers["Idempotency-Key"]
    assert calls[0].form == calls[1].form
    assert list(stub.sessions) == [session["id"]]


# ---- webhook events -------------------------------------------------------------------------


def test_a_replayed_event_changes_nothing(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    event = stub.event("checkout.session.completed", stub.complete(session["id"]))
    assert deliver(client, event).json["outcome"] == "paid"
    events_before = len(reload(order).events)

    replay = deliver(client, event)
    assert replay.status_code == 200 and replay.json["outcome"] == "duplicate"
    order = reload(order)
    assert order.status == "paid" and len(order.events) == events_before
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 1
    assert len(sales()) == 1


def test_events_out_of_order_do_no_harm(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    unpaid = stub.complete(session["id"], payment_status="unpaid")
    paid = stub.pay_async(session["id"])

    # async_payment_succeeded overtakes checkout.session.completed
    assert deliver(client, stub.event("checkout.session.async_payment_succeeded", paid)).json["outcome"] == "paid"
    late = deliver(client, stub.event("checkout.session.completed", unpaid))
    assert late.status_code == 200 and late.json["outcome"].startswith("ignored")
    # a stale "expired" (or a second "completed") after payment changes nothing either
    for kind, obj in [("checkout.session.expired", {**unpaid, "status": "expired"}),
                      ("checkout.session.completed", paid)]:
        response = deliver(client, stub.event(kind, obj))
        assert response.status_code == 200 and response.json["outcome"].startswith("ignored")
    order = reload(order)
    assert order.status == "paid" and len(sales()) == 1
    assert [e.to_status for e in order.events] == ["pending_payment", "paid"]


def test_events_for_unknown_orders_are_recorded_and_ignored(client, stub, stocked):
    order = place_card_order(stocked)
    foreign = {"id": "cs_test_elsewhere", "object": "checkout.session", "status": "complete",
               "payment_status": "paid", "amount_total": order.total, "currency": "vnd",
               "client_reference_id": order.number, "payment_intent": "pi_elsewhere",
               "metadata": {"order_number": "OC-2026-999999", "order_id": "999999", "payment_id": "424242"}}
    for kind, obj in [("checkout.session.completed", foreign), ("checkout.session.expired", foreign),
                      ("charge.refunded", {"id": "ch_x", "payment_intent": "pi_elsewhere", "amount_refunded": 5}),
                      ("customer.created", {"id": "cus_1"})]:
        response = deliver(client, stub.event(kind, obj))
        assert response.status_code == 200 and response.json["outcome"].startswith("ignored"), kind
    assert reload(order).status == "pending_payment" and sales() == []
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 4


def test_an_expired_session_cancels_the_order_and_releases_the_stock(client, stub, stocked):
    order = place_card_order(stocked, ("mien", 5))
    session = session_of(stub, start(client, order))
    assert available(stocked) == 0

    response = deliver(client, stub.event("checkout.session.expired", stub.expire(session["id"])))
    assert response.json["outcome"] == "expired: order cancelled"
    order = reload(order)
    assert order.status == "cancelled" and available(stocked) == 5
    assert {r.state for r in db.session.scalars(select(Reservation))} == {"released"}
    assert db.session.scalars(select(Payment)).one().status == "expired"
    page = client.get(f"/payments/card/{order.number}/return?token={order.access_token}")
    assert "This order has been cancelled" in page.get_data(as_text=True)
    assert start(client, order).status_code == 303  # back to the page that says so
    assert len(stub.sessions) == 1


def test_a_failed_delayed_payment_cancels_the_order_and_releases_the_stock(client, stub, stocked):
    """Decision: a failed delayed payment ends the order (stock released) rather than waiting for expiry."""
    order = place_card_order(stocked, ("nep", 3))
    session = session_of(stub, start(client, order))
    unpaid = stub.complete(session["id"], payment_status="unpaid")
    assert deliver(client, stub.event("checkout.session.completed", unpaid)).json["outcome"] == "processing"

    order = reload(order)
    assert order.status == "pending_payment" and sales() == []
    # The goods stay held while the bank works, well past the Checkout expiry.
    assert order.hold_expires_at > utcnow() + timedelta(days=1)
    assert available(stocked, "nep") == 0
    assert orders.release_expired() == []
    page = client.get(f"/payments/card/{order.number}/return?token={order.access_token}").get_data(as_text=True)
    assert "Your payment is being processed" in page
    assert start(client, order).status_code == 303 and len(stub.sessions) == 1  # no second session

    failed = deliver(client, stub.event("checkout.session.async_payment_failed", unpaid))
    assert failed.json["outcome"] == "failed: order cancelled"
    order = reload(order)
    assert order.status == "cancelled" and available(stocked, "nep") == 3 and sales() == []
    assert db.session.scalars(select(Payment)).one().status == "failed"


def test_a_delayed_payment_that_succeeds_marks_the_order_paid(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    deliver(client, stub.event("checkout.session.completed", stub.complete(session["id"], payment_status="unpaid")))
    response = deliver(client, stub.event("checkout.session.async_payment_succeeded", stub.pay_async(session["id"])))
    assert response.json["outcome"] == "paid" and reload(order).status == "paid"


def test_a_wrong_amount_is_not_marked_paid_but_flagged_for_staff(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    completed = stub.complete(session["id"], amount_total=order.total - 100_000)
    response = deliver(client, stub.event("checkout.session.completed", completed))
    assert response.status_code == 200 and response.json["outcome"].startswith("flagged")

    order = reload(order)
    assert order.status == "pending_payment" and sales() == []
    payment = db.session.scalars(select(Payment)).one()
    assert payment.status == "mismatch" and payment.needs_review and payment.amount_received == 150_000
    assert "flagged for staff" in order.events[-1].note and "150000 VND" in order.events[-1].note
    page = client.get(f"/payments/card/{order.number}/return?token={order.access_token}").get_data(as_text=True)
    assert "We are checking your payment" in page


def test_a_wrong_currency_is_not_marked_paid(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    completed = stub.complete(session["id"], currency="usd")
    assert deliver(client, stub.event("checkout.session.completed", completed)).json["outcome"].startswith("flagged")
    assert reload(order).status == "pending_payment" and sales() == []


def test_money_for_an_order_cancelled_meanwhile_is_flagged_not_sold(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    orders.cancel_by_customer(reload(order))
    db.session.commit()

    response = deliver(client, stub.event("checkout.session.completed", stub.complete(session["id"])))
    assert response.status_code == 200 and "cancelled order" in response.json["outcome"]
    order = reload(order)
    assert order.status == "cancelled" and sales() == [] and available(stocked) == 5
    payment = db.session.scalars(select(Payment)).one()
    assert payment.needs_review and payment.amount_received == order.total

    # Staff give the money back with the same refund command.
    assert payments.refund(order, actor="staff").amount == order.total
    order = reload(order)
    assert order.status == "cancelled" and "refunded in full" in order.events[-1].note


def test_cancelling_a_card_order_closes_its_checkout_page(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    orders.cancel_by_customer(reload(order))
    db.session.commit()
    payments.close_open_sessions(order)
    assert stub.sessions[session["id"]]["status"] == "expired"
    payments.close_open_sessions(order)  # already closed: Stripe says no, nothing breaks

    response = deliver(client, stub.event("checkout.session.expired", stub.sessions[session["id"]]))
    assert response.json["outcome"] == "expired"
    order = reload(order)
    assert order.status == "cancelled" and available(stocked) == 5
    assert [e.to_status for e in order.events if e.shipment_id is None] == ["pending_payment", "cancelled"]


# ---- signatures -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["wrong secret", "missing header", "tampered body", "stale timestamp",
                                  "future timestamp", "garbage header", "not utf-8", "huge timestamp"])
def test_unsigned_or_badly_signed_webhooks_are_refused_and_change_nothing(client, stub, stocked, case):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    event = stub.event("checkout.session.completed", stub.complete(session["id"]))
    payload = json.dumps(event)
    kwargs = {
        "wrong secret": {"secret": "whsec_someone_else"},
        "missing header": {"signature": ""},
        "tampered body": {"signature": sign(payload, WEBHOOK_SECRET),
                          "payload": payload.replace(str(order.total), "1")},
        "stale timestamp": {"signature": sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)},
        # Stripe's SDK refuses only old timestamps; one signed an hour ahead used to pass.
        "future timestamp": {"signature": sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) + 3600)},
        "garbage header": {"signature": "v1=abc,t=notanumber"},
        "not utf-8": {"payload": payload.encode() + b"\xff"},
        "huge timestamp": {"signature": "t=" + "9" * 5000 + ",v1=" + "0" * 64},
    }[case]
    response = deliver(client, event, **kwargs)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_webhook"
    assert reload(order).status == "pending_payment" and sales() == []
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 0


# ---- signed but unusable events (issue 8 item 12) --------------------------------------------


def assert_untouched(order, stocked):
    order = reload(order)
    assert order.status == "pending_payment" and sales() == [] and available(stocked) == 3
    assert [p.status for p in db.session.scalars(select(Payment))] == ["pending"]
    assert all(not p.needs_review for p in db.session.scalars(select(Payment)))


@pytest.mark.parametrize("change", [
    pytest.param(lambda s: s.update(id=12345), id="integer data.object.id"),
    pytest.param(lambda s: s.update(metadata=["order_number", "OC-1"]), id="metadata as a list"),
    pytest.param(lambda s: s.update(id=s["id"] + "\x00"), id="NUL in the id"),
    pytest.param(lambda s: s.update(payment_intent="pi_\x00"), id="NUL in the payment intent"),
    pytest.param(lambda s: s.update(payment_intent={"id": 7}), id="expanded intent with an integer id"),
    pytest.param(lambda s: s.update(amount_total="250000"), id="amount as text"),
    pytest.param(lambda s: s.update(amount_total=2.5e5), id="amount as a float"),
    pytest.param(lambda s: s.update(amount_total=10**30), id="amount too large for the column"),
    pytest.param(lambda s: s.update(currency=["vnd"]), id="currency as a list"),
    pytest.param(lambda s: s.update(payment_status={"paid": True}), id="payment_status as an object"),
    pytest.param(lambda s: s["metadata"].update(payment_id=3), id="integer payment_id"),
    pytest.param(lambda s: s["metadata"].update(payment_id="١"), id="Arabic-Indic payment_id"),
])
def test_signed_but_malformed_events_are_recorded_for_staff_and_change_nothing(client, stub, stocked, runner,
                                                                              change):
    order = place_card_order(stocked)
    session = dict(stub.complete(session_of(stub, start(client, order))["id"]))
    session["metadata"] = dict(session["metadata"])
    change(session)
    event = stub.event("checkout.session.completed", session)
    response = deliver(client, event)
    # They used to answer 500, which Stripe retries for three days.
    assert response.status_code == 200 and response.json["outcome"].startswith(payments.UNUSABLE)
    assert_untouched(order, stocked)
    [record] = payments.unusable_events()
    assert (record.event_id, record.type) == (event["id"], "checkout.session.completed")
    assert deliver(client, event).json["outcome"] == "duplicate"
    listed = runner.invoke(args=["payments-review"])
    assert listed.exit_code == 0 and event["id"] in listed.output and payments.UNUSABLE in listed.output


@pytest.mark.parametrize("payload", [
    pytest.param("not json at all", id="not JSON"),
    pytest.param("[1, 2, 3]", id="a list"),
    pytest.param('"evt_1"', id="a string"),
    pytest.param(json.dumps({"id": 42, "type": "checkout.session.completed", "data": {"object": {}}}), id="integer id"),
    pytest.param(json.dumps({"id": "evt_\u0000", "type": "charge.refunded", "data": {"object": {}}}), id="NUL in id"),
    pytest.param(json.dumps({"id": "evt_" + "x" * 300, "type": "charge.refunded", "data": {"object": {}}}),
                 id="id longer than the column"),
    pytest.param(json.dumps({"id": "evt_1", "type": ["charge.refunded"], "data": {"object": {}}}), id="type as list"),
    pytest.param(json.dumps({"id": "evt_2", "type": "a" * 101, "data": {"object": {}}}), id="type too long"),
    pytest.param(json.dumps({"id": "evt_3", "type": "charge.refunded"}), id="no data"),
    pytest.param(json.dumps({"id": "evt_4", "type": "charge.refunded", "data": {"object": [1]}}), id="object as list"),
    pytest.param(json.dumps({"id": "evt_5", "type": "charge.refunded", "data": []}), id="data as list"),
])
def test_signed_bodies_that_are_not_events_are_recorded_once(client, stub, stocked, payload):
    order = place_card_order(stocked)
    session_of(stub, start(client, order))
    response = deliver(client, {}, payload=payload)
    assert response.status_code == 200 and response.json["outcome"].startswith(payments.UNUSABLE)
    assert deliver(client, {}, payload=payload).json["outcome"] == "duplicate"
    assert len(payments.unusable_events()) == 1
    assert_untouched(order, stocked)


def test_an_event_that_fails_half_way_is_rolled_back_whole(client, stub, stocked, monkeypatch):
    order = place_card_order(stocked)
    session = stub.complete(session_of(stub, start(client, order))["id"])
    real_flag = payments._flag

    def paid_then_broken(payment, order, session):
        payments.move(payment, "succeeded")
        payment.amount_received = session["amount_total"]
        orders.transition(order, "paid", actor="stripe")  # sells the stock…
        raise TypeError("…and then meets something it cannot use")

    monkeypatch.setattr(payments, "_money_received", paid_then_broken)
    response = deliver(client, stub.event("checkout.session.completed", session))
    assert response.status_code == 200 and response.json["outcome"] == payments.UNUSABLE + "TypeError while applying it"
    assert_untouched(order, stocked)
    assert payments._flag is real_flag


def test_the_webhook_never_answers_500_whatever_a_signed_event_holds(client, stub, stocked):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    order = place_card_order(stocked)
    session = stub.complete(session_of(stub, start(client, order))["id"])
    names = ["id", "metadata", "payment_intent", "payment_status", "status", "currency", "amount_total",
             "amount_refunded", "payment_id", "order_number", "order_id", "object"]
    plausible = [session["id"], session["payment_intent"], order.number, str(order.id), "paid", "unpaid",
                 "complete", "expired", "vnd", order.total, 0, -1, 2**31, 2**63]
    leaves = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
              | st.sampled_from(plausible))
    values = st.recursive(leaves, lambda children: st.lists(children, max_size=3)
                          | st.dictionaries(st.sampled_from(names) | st.text(max_size=5), children, max_size=4),
                          max_leaves=12)
    objects = st.dictionaries(st.sampled_from(names), values, max_size=8)
    kinds = st.sampled_from(list(payments.HANDLERS) + ["customer.created"]) | st.text(max_size=10)
    event_ids = st.from_regex(r"evt_[A-Za-z0-9]{1,12}", fullmatch=True) | values

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(event_id=event_ids, kind=kinds, obj=objects | values)
    def run(event_id, kind, obj):
        payload = json.dumps({"id": event_id, "type": kind, "data": {"object": obj}})
        response = deliver(client, {}, payload=payload)
        assert response.status_code == 200, (payload, response.get_data(as_text=True))
        db.session.rollback()

    run()
    assert inventory.ledger_mismatches() == []


def test_the_webhook_needs_no_csrf_token_but_the_pay_button_does(app, client, stub, stocked, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    order = place_card_order(stocked)
    response = deliver(client, stub.event("checkout.session.expired", {"id": "cs_test_unknown"}))
    assert response.status_code == 200 and response.json["outcome"] == "ignored: unknown session"
    assert start(client, order).status_code == 400 and stub.sessions == {}


# ---- the return page ------------------------------------------------------------------------


def test_the_return_page_tells_the_truth_before_the_webhook_arrives(client, stub, stocked):
    order = place_card_order(stocked)
    session = session_of(stub, start(client, order))
    url = f"/payments/card/{order.number}/return?token={order.access_token}&session_id={session['id']}"

    page = client.get(url).get_data(as_text=True)
    assert "Your payment has not been completed" in page and "Pay 250.000" in page
    back = client.get(f"/payments/card/{order.number}/cancel?token={order.access_token}").get_data(as_text=True)
    assert "You have not paid yet" in back and "Pay 250.000" in back

    stub.complete(session["id"])  # paid at Stripe, webhook still on its way
    page = client.get(url).get_data(as_text=True)
    assert "Payment received, we are confirming it" in page and "Pay 250.000" not in page
    assert reload(order).status == "pending_payment"  # only the webhook marks it paid
    assert db.session.scalars(select(Payment)).one().status == "pending"
    assert len(stub.calls("GET", f"/v1/checkout/sessions/{session['id']}")) == 3  # one per page view

    assert client.get(f"/payments/card/{order.number}/return?token=wrong").status_code == 404


# ---- refunds --------------------------------------------------------------------------------


def test_partial_then_full_refund_through_the_cli(client, stub, stocked, runner):
    order = place_card_order(stocked, ("mien", 2))  # 220.000 + 30.000 shipping
    completed = pay(client, stub, order)
    intent = completed["payment_intent"]

    result = runner.invoke(args=["refund", order.number, "50.000"])
    assert result.exit_code == 0, result.output
    [call] = stub.calls("POST", "/v1/refunds")
    assert call.form["amount"] == "50000" and call.form["payment_intent"] == intent
    assert call.form["metadata[order_number]"] == order.number
    assert call.headers["Idempotency-Key"].startswith(f"ocop-refund-{order.number}-1-")
    order = reload(order)
    payment = db.session.scalars(select(Payment)).one()
    assert order.status == "paid" and payment.status == "partially_refunded" and payment.amount_refunded == 50_000
    assert "refund of 50.000" in order.events[-1].note and "partial" in order.events[-1].note

    # Stripe's charge.refunded for that refund is already booked: nothing changes.
    event = stub.event("charge.refunded", stub.charge(intent))
    assert deliver(client, event).json["outcome"] == "ignored: already recorded"

    result = runner.invoke(args=["refund", order.number, "300000"])
    assert result.exit_code != 0 and "200.000" in result.output and len(stub.calls("POST", "/v1/refunds")) == 1
    result = runner.invoke(args=["refund", order.number])
    assert result.exit_code == 0, result.output
    assert stub.calls("POST", "/v1/refunds")[-1].form["amount"] == "200000"

    order = reload(order)
    payment = db.session.scalars(select(Payment)).one()
    assert order.status == "refunded" and payment.status == "refunded" and payment.amount_refunded == 250_000
    assert order.events[-1].to_status == "refunded" and "refunded in full" in order.events[-1].note
    assert [r.amount for r in db.session.scalars(select(Refund).order_by(Refund.id))] == [50_000, 200_000]
    # Paid but never handed over: the units go back on the shelf.
    assert available(stocked) == 5
    page = client.get(f"/payments/card/{order.number}/return?token={order.access_token}").get_data(as_text=True)
    assert "This order has been refunded" in page

    result = runner.invoke(args=["refund", order.number])
    assert result.exit_code != 0 and len(stub.calls("POST", "/v1/refunds")) == 2


def test_a_card_order_being_prepared_is_refunded_not_cancelled_and_its_stock_released(client, stub, stocked, runner):
    order = place_card_order(stocked, ("mien", 2))
    pay(client, stub, order)
    orders.transition(reload(order), "processing", actor="staff")
    db.session.commit()
    refused = runner.invoke(args=["order", "set-status", order.number, "cancelled"])
    assert refused.exit_code != 0 and f"flask refund {order.number}" in refused.output
    assert runner.invoke(args=["refund", order.number, "--reference", "FT1"]).exit_code != 0
    assert stub.calls("POST", "/v1/refunds") == []

    result = runner.invoke(args=["refund", order.number, "--note", "customer changed their mind"])
    assert result.exit_code == 0, result.output
    order = reload(order)
    # Before this, a full card refund of an order being prepared left it "processing" with its
    # units sold: the goods that never left the shop were lost to the shelf.
    assert order.status == "refunded" and available(stocked) == 5
    assert db.session.scalars(select(Refund.reason)).one() == "customer changed their mind"


def test_a_delivered_card_order_is_refunded_and_its_goods_returned(client, stub, stocked, runner):
    from shop.orders import returns

    order = place_card_order(stocked, ("mien", 2))
    pay(client, stub, order)
    for status in ("processing", "shipped", "delivered"):
        orders.transition(reload(order), status, actor="staff")
    db.session.commit()
    assert runner.invoke(args=["refund", order.number]).exit_code == 0
    order = reload(order)
    assert order.status == "refunded" and available(stocked) == 3  # the goods are still with the customer
    returns.return_goods(order, None, actor="staff", note="sent back by post")
    db.session.commit()
    assert available(stocked) == 5
    reasons = db.session.scalars(select(StockMovement.reason).where(StockMovement.reference == order.number)
                                 .order_by(StockMovement.id)).all()
    assert reasons == ["sale", "return"]


def test_a_refund_made_in_the_stripe_dashboard_is_recorded_from_the_webhook(client, stub, stocked):
    order = place_card_order(stocked)
    intent = pay(client, stub, order)["payment_intent"]
    stub.refund_in_dashboard(intent, 20_000)
    event = stub.event("charge.refunded", stub.charge(intent))
    assert deliver(client, event).json["outcome"] == "refund recorded"
    assert deliver(client, {**event, "id": event["id"] + "_again"}).json["outcome"] == "ignored: already recorded"
    payment = db.session.scalars(select(Payment)).one()
    assert payment.amount_refunded == 20_000 and payment.status == "partially_refunded"
    assert [(r.amount, r.actor) for r in payment.refunds] == [(20_000, "stripe")]


def test_a_refund_whose_answer_was_lost_is_repeated_not_doubled(client, stub, stocked):
    order = place_card_order(stocked)
    pay(client, stub, order)
    stub.failures.extend([(500, "api_error", "boom", {"Stripe-Should-Retry": "false"})])
    with pytest.raises(payments.PaymentError):
        payments.refund(reload(order), 10_000, actor="staff")
    assert db.session.scalars(select(Refund)).one().status == "requested"
    with pytest.raises(NotAllowed):
        payments.refund(reload(order), 20_000, actor="staff")
    db.session.rollback()

    row = payments.refund(reload(order), actor="staff")  # repeats the waiting 10.000 refund
    assert row.amount == 10_000 and row.status == "succeeded"
    keys = [c.headers["Idempotency-Key"] for c in stub.calls("POST", "/v1/refunds")]
    assert len(keys) == 2 and keys[0] == keys[1] and len(stub.refunds) == 1
    assert db.session.scalars(select(Payment)).one().amount_refunded == 10_000


def test_an_order_that_was_never_paid_cannot_be_refunded(client, stub, stocked, runner):
    order = place_card_order(stocked)
    result = runner.invoke(args=["refund", order.number])
    assert result.exit_code != 0 and stub.calls("POST", "/v1/refunds") == []
    assert runner.invoke(args=["refund", "OC-0000-000000"]).exit_code != 0


PAYMENT_STATES = list(PAYMENT_TRANSITIONS)


@pytest.mark.parametrize("start_status", PAYMENT_STATES)
@pytest.mark.parametrize("target", PAYMENT_STATES)
def test_the_payment_life_cycle_allows_exactly_its_table(start_status, target):
    payment = Payment(status=start_status, amount=1, idempotency_key="k")
    if target in PAYMENT_TRANSITIONS[start_status]:
        payments.move(payment, target)
        assert payment.status == target
    else:
        with pytest.raises(InvalidTransition):
            payments.move(payment, target)
        assert payment.status == start_status


# ---- concurrency (PostgreSQL: real row locks) ------------------------------------------------


@pytest.mark.postgres
def test_simultaneous_clicks_and_webhook_deliveries_pay_once(app, stub, stocked):
    import threading

    from config import TestingConfig
    from shop import create_app

    order = place_card_order(stocked, ("mien", 2))
    number, token = order.number, order.access_token
    racing = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12, "max_overflow": 0},
                        STRIPE_SECRET_KEY="sk_test_ocop", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)

    def race(requests: list) -> list:
        barrier = threading.Barrier(len(requests), timeout=30)
        results: list = [None] * len(requests)

        def run(i: int, send) -> None:
            client = racing.test_client()
            barrier.wait()
            results[i] = send(client)

        threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results

    clicks = race([lambda c: c.post(f"/payments/card/{number}/start", data={"token": token})] * 6)
    assert {r.status_code for r in clicks} == {303} and len({r.headers["Location"] for r in clicks}) == 1
    assert len(stub.sessions) == 1
    [session_id] = stub.sessions

    completed = stub.complete(session_id)
    replayed = stub.event("checkout.session.completed", completed)
    others = [stub.event("checkout.session.completed", completed),
              stub.event("checkout.session.async_payment_succeeded", completed)]
    deliveries = race([lambda c, e=e: deliver(c, e) for e in [replayed] * 4 + others])
    with racing.app_context():
        db.engine.dispose()

    assert {r.status_code for r in deliveries} == {200}
    outcomes = sorted(r.json["outcome"] for r in deliveries)
    assert outcomes.count("paid") == 1 and outcomes.count("duplicate") == 3, outcomes
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
    assert len(sales()) == 1 and db.session.scalar(select(func.count(Payment.id))) == 1
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 3
