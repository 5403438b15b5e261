"""Shipments per source shop (issue 9): each shop prepares, sends or hands over its own part."""
import pytest
from sqlalchemy import select

from shop.errors import InvalidInput, InvalidTransition, NotAllowed
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import StockMovement
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, ShipmentState
from shop.orders.returns import return_goods

from test_orders import CUSTOMER, DELIVERY, cart_with, on_hand

S = ShipmentState


@pytest.fixture(autouse=True)
def ledger_balances():
    yield
    db.session.rollback()
    assert inventory.ledger_mismatches() == []


@pytest.fixture
def two_shops(make_product, make_shop):
    """Rice at two online shops, 3 + 4 units: an order for 5 is split across them."""
    rice = make_product("Gạo Nếp Tài", stars=4, price=200_000)
    tea = make_product("Chè Shan tuyết", stars=4, price=150_000)
    north = make_shop("Cửa hàng OCOP Ba Bể", ships_online=True)
    south = make_shop("Kho tổng OCOP", ships_online=True)
    inventory.receive(north.id, rice.id, 3)
    inventory.receive(south.id, rice.id, 4)
    inventory.receive(south.id, tea.id, 2)
    db.session.commit()
    return {"rice": rice, "tea": tea, "north": north, "south": south}


def sales(shop) -> int:
    return -sum(db.session.scalars(select(StockMovement.delta).where(
        StockMovement.shop_id == shop.id, StockMovement.reason == "sale")))


def split_order(two_shops, method="cod"):
    order = orders.place_order(cart_with((two_shops["rice"], 5), (two_shops["tea"], 1)), CUSTOMER, DELIVERY, method)
    db.session.commit()
    return order


def by_shop(order, shop):
    return next(s for s in order.shipments if s.shop_id == shop.id)


def test_a_split_supply_order_is_prepared_and_shipped_by_two_shops_independently(two_shops):
    order = split_order(two_shops)
    north, south = by_shop(order, two_shops["north"]), by_shop(order, two_shops["south"])
    assert {s.state for s in order.shipments} == {S.TO_PREPARE}
    assert sorted((r.line.product_slug, r.quantity) for r in south.reservations) == sorted(
        [(two_shops["rice"].slug, 4), (two_shops["tea"].slug, 1)])
    assert [r.quantity for r in north.reservations] == [1]  # the shop with most stock gives most

    with pytest.raises(NotAllowed, match=order.number):  # a COD order is confirmed with the customer first
        orders.move_shipment(north, S.PACKED, actor="Ba Bể")
    db.session.rollback()
    orders.confirm_order(order, actor="staff")
    db.session.commit()

    orders.move_shipment(north, S.PACKED, actor="Ba Bể")
    orders.move_shipment(north, S.SHIPPED, actor="Ba Bể", carrier="Viettel Post", tracking_number="VTP 123")
    db.session.commit()
    assert (north.state, north.carrier, north.tracking_number) == (S.SHIPPED, "Viettel Post", "VTP 123")
    # Only the shop whose parcel left has sold its units; the other still holds them.
    assert (sales(two_shops["north"]), sales(two_shops["south"])) == (1, 0)
    assert order.status == OrderStatus.PROCESSING and south.state == S.TO_PREPARE

    orders.move_shipment(north, S.DELIVERED, actor="courier")
    orders.move_shipment(south, S.SHIPPED, actor="Kho tổng")
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED and sales(two_shops["south"]) == 5
    orders.move_shipment(south, S.DELIVERED, actor="courier")
    db.session.commit()
    assert order.status == OrderStatus.DELIVERED
    shipment_events = [(e.shipment_id, e.from_status, e.to_status) for e in order.events if e.shipment_id]
    assert shipment_events == [(north.id, S.TO_PREPARE, S.PACKED), (north.id, S.PACKED, S.SHIPPED),
                               (north.id, S.SHIPPED, S.DELIVERED), (south.id, S.TO_PREPARE, S.SHIPPED),
                               (south.id, S.SHIPPED, S.DELIVERED)]
    assert [e.to_status for e in order.events if not e.shipment_id] == [
        OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]


def test_the_command_line_moves_one_shops_shipment(two_shops, runner):
    order = split_order(two_shops)
    orders.confirm_order(order, actor="staff")
    db.session.commit()
    north, south = by_shop(order, two_shops["north"]), by_shop(order, two_shops["south"])

    listed = runner.invoke(args=["shipment", "list", "--shop", str(two_shops["north"].id)])
    assert listed.exit_code == 0 and f"#{north.id} {order.number}" in listed.output
    assert f"#{south.id}" not in listed.output and "1 shipment(s)." in listed.output

    assert runner.invoke(args=["shipment", "pack", str(north.id)]).exit_code == 0
    shipped = runner.invoke(args=["shipment", "ship", str(north.id), "--carrier", "VNPost", "--tracking", "EB1VN"])
    assert shipped.exit_code == 0 and "shipped [VNPost EB1VN]" in shipped.output
    refused = runner.invoke(args=["shipment", "ready", str(south.id)])
    assert refused.exit_code == 1 and "Error:" in refused.output  # a delivery order has nothing to collect
    unknown = runner.invoke(args=["shipment", "ship", "99999"])
    assert unknown.exit_code == 1 and "99999" in unknown.output
    db.session.expire_all()
    assert by_shop(order, two_shops["north"]).state == S.SHIPPED and order.status == OrderStatus.PROCESSING


def test_order_show_prints_each_shipment_with_its_shop_state_carrier_tracking_and_lines(two_shops, runner):
    order = split_order(two_shops)
    orders.confirm_order(order, actor="staff")
    db.session.commit()
    north, south = by_shop(order, two_shops["north"]), by_shop(order, two_shops["south"])
    assert runner.invoke(args=["shipment", "pack", str(north.id)]).exit_code == 0
    assert runner.invoke(args=["shipment", "ship", str(north.id), "--carrier", "VNPost",
                               "--tracking", "EB1VN"]).exit_code == 0

    shown = runner.invoke(args=["order", "show", order.number])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"{order.number}: processing"
    assert lines[1].startswith("  payment: unpaid (cod)") and "total 1.150.000" in lines[1]
    assert lines[2] == "  goods: partly_shipped · state: open · delivery"
    assert lines[3] == (f"  shipment #{north.id} from Cửa hàng OCOP Ba Bể (shop {two_shops['north'].id}): "
                        "shipped · carrier VNPost · tracking EB1VN")
    assert lines[4] == f"    1 × Gạo Nếp Tài ({two_shops['rice'].slug}) [committed]"
    assert lines[5] == (f"  shipment #{south.id} from Kho tổng OCOP (shop {two_shops['south'].id}): "
                        "to_prepare · carrier — · tracking —")
    assert sorted(lines[6:8]) == sorted([f"    4 × Gạo Nếp Tài ({two_shops['rice'].slug}) [held]",
                                         f"    1 × Chè Shan tuyết ({two_shops['tea'].slug}) [held]"])
    assert len(lines) == 8
    assert runner.invoke(args=["order", "show", "OC-1999-000001"]).exit_code == 1


def test_a_paid_order_starts_preparation_at_its_first_shipment_step_and_sold_nothing_twice(two_shops):
    order = split_order(two_shops, "bank_transfer")
    orders.confirm_bank_transfer(order, actor="staff")
    db.session.commit()
    assert (sales(two_shops["north"]), sales(two_shops["south"])) == (1, 5)  # sold at payment
    orders.move_shipment(by_shop(order, two_shops["south"]), S.PACKED, actor="Kho tổng")
    db.session.commit()
    assert order.status == OrderStatus.PROCESSING
    for shipment in order.shipments:
        orders.move_shipment(shipment, S.SHIPPED, actor="staff")
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED and (sales(two_shops["north"]), sales(two_shops["south"])) == (1, 5)
    with pytest.raises(NotAllowed, match="flask refund"):  # cancelled or refunded as a whole
        orders.move_shipment(order.shipments[0], S.CANCELLED, actor="staff", note="lost")


def test_pick_up_is_readied_then_collected_and_sold_at_collection(two_shops):
    from shop.orders.services import Fulfilment

    pickup = Fulfilment(type="pickup", pickup_shop_id=two_shops["south"].id)
    order = orders.place_order(cart_with((two_shops["tea"], 2)), CUSTOMER, pickup, "pay_at_shop")
    orders.confirm_order(order, actor="staff")
    db.session.commit()
    (shipment,) = order.shipments
    with pytest.raises(InvalidTransition):
        orders.move_shipment(shipment, S.SHIPPED, actor="staff")
    orders.move_shipment(shipment, S.READY_FOR_PICKUP, actor="staff")
    db.session.commit()
    assert order.status == OrderStatus.READY_FOR_PICKUP and order.hold_expires_at is not None
    assert sales(two_shops["south"]) == 0
    orders.move_shipment(shipment, S.COLLECTED, actor="staff")
    db.session.commit()
    assert order.status == OrderStatus.COLLECTED and sales(two_shops["south"]) == 2 and shipment.left_the_shop


def test_cancelling_one_shipment_of_a_cash_order_puts_its_units_back_and_flags_the_order(two_shops):
    order = split_order(two_shops)
    orders.confirm_order(order, actor="staff")
    db.session.commit()
    north = by_shop(order, two_shops["north"])
    with pytest.raises(InvalidInput):
        orders.move_shipment(north, S.CANCELLED, actor="staff")  # a note says why
    orders.move_shipment(north, S.CANCELLED, actor="staff", note="bag torn on the shelf")
    db.session.commit()
    assert inventory.availability_matrix([two_shops["rice"].id], [two_shops["north"].id]) == {
        (two_shops["north"].id, two_shops["rice"].id): 3}
    assert order.needs_review and "pays less" in order.review_reason
    orders.move_shipment(by_shop(order, two_shops["south"]), S.SHIPPED, actor="staff")
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED  # the order follows the shipments still going
    assert on_hand(two_shops["north"], two_shops["rice"]) == 3


def test_moving_the_whole_order_moves_every_shipment(two_shops):
    order = split_order(two_shops)
    for status in (OrderStatus.PROCESSING, OrderStatus.SHIPPED):
        orders.transition(order, status, actor="staff")
    db.session.commit()
    assert {s.state for s in order.shipments} == {S.SHIPPED} and all(s.left_the_shop for s in order.shipments)
    orders.transition(order, OrderStatus.CANCELLED, actor="staff", note="refused at the door")
    db.session.commit()
    assert {s.state for s in order.shipments} == {S.CANCELLED}
    # The parcels had left: nothing is put back until the goods come back as returns.
    assert on_hand(two_shops["north"], two_shops["rice"]) == 2
    return_goods(order, None, actor="staff")
    db.session.commit()
    assert on_hand(two_shops["north"], two_shops["rice"]) == 3


def test_goods_of_a_delivered_shipment_can_come_back_while_the_other_is_still_prepared(two_shops):
    order = split_order(two_shops)
    orders.confirm_order(order, actor="staff")
    north = by_shop(order, two_shops["north"])
    orders.move_shipment(north, S.SHIPPED, actor="staff")
    orders.move_shipment(north, S.DELIVERED, actor="staff")
    db.session.commit()
    done = return_goods(order, None, actor="staff", note="wrong rice")
    db.session.commit()
    assert [(r.shop_id, r.quantity) for r in done] == [(two_shops["north"].id, 1)]
    assert on_hand(two_shops["north"], two_shops["rice"]) == 3 and order.status == OrderStatus.PROCESSING


# ---- the three views of one order: order state, payment status, fulfilment status -------------


def read_everywhere(client, order, lang="en"):
    """(the order page's text, the API's order) as the customer and a partner read them."""
    page = client.get(f"/orders/{order.number}?token={order.access_token}&lang={lang}")
    assert page.status_code == 200
    api = client.get(f"/api/v1/orders/{order.number}?token={order.access_token}")
    assert api.status_code == 200
    return page.get_data(as_text=True), api.get_json()


def test_a_half_shipped_order_says_so_on_its_page_in_the_api_and_the_email(two_shops, client, app):
    from shop.orders.notifications import confirmation_text

    order = split_order(two_shops)
    orders.confirm_order(order, actor="staff")
    orders.move_shipment(by_shop(order, two_shops["north"]), S.SHIPPED, actor="staff", carrier="VNPost",
                         tracking_number="EB1VN")
    db.session.commit()
    html, data = read_everywhere(client, order)
    assert "Partly shipped" in html and "Not paid" in html and "EB1VN" in html
    assert (data["status"], data["payment_status"], data["fulfilment_status"], data["state"]) == (
        "processing", "unpaid", "partly_shipped", "open")
    assert {(s["shop_id"], s["state"], s["tracking_number"]) for s in data["shipments"]} == {
        (two_shops["north"].id, "shipped", "EB1VN"), (two_shops["south"].id, "to_prepare", "")}
    assert [h["to_state"] for h in data["shipments"][0]["history"] + data["shipments"][1]["history"]] == ["shipped"]
    assert all(h["to_status"] in [s.value for s in OrderStatus] for h in data["history"])  # v1 history unchanged
    with app.test_request_context():
        _subject, body = confirmation_text(order)
    assert "Chưa thanh toán" in body and "Đã gửi một phần" in body  # the order was placed in Vietnamese


def test_a_delivered_cod_order_whose_cash_partly_came_back_reads_exactly(two_shops, client, runner):
    order = orders.place_order(cart_with((two_shops["tea"], 2)), CUSTOMER, DELIVERY, "cod")
    for status in (OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        orders.transition(order, status, actor="staff")
    db.session.commit()
    assert order.payment_status == "paid" and order.state == "completed"

    result = runner.invoke(args=["refund", order.number, "100.000", "--note", "one bag torn"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    html, data = read_everywhere(client, order)
    assert (data["status"], data["payment_status"], data["refunded_vnd"], data["fulfilment_status"],
            data["state"]) == ("delivered", "partially_refunded", 100_000, "delivered", "completed")
    assert "Partly refunded" in html and "100.000" in html and "Delivered" in html

    assert runner.invoke(args=["refund", order.number]).exit_code == 0  # the rest of the cash
    db.session.expire_all()
    html, data = read_everywhere(client, order)
    assert (data["status"], data["payment_status"], data["refunded_vnd"], data["fulfilment_status"],
            data["state"]) == ("refunded", "refunded", order.total, "delivered", "completed")
    # Goods delivered stay out until they come back as returns: nothing went back on the shelf.
    assert on_hand(two_shops["south"], two_shops["tea"]) == 0


def test_payment_status_follows_card_and_transfer_orders_and_cancellations(two_shops):
    order = split_order(two_shops, "bank_transfer")
    assert order.payment_status == "pending" and order.fulfilment_status == "unfulfilled"
    orders.transition(order, OrderStatus.CANCELLED, actor="customer")
    db.session.commit()
    assert (order.payment_status, order.state, order.fulfilment_status) == ("unpaid", "cancelled", "cancelled")
    orders.confirm_bank_transfer(order, actor="staff")  # the money came anyway
    db.session.commit()
    assert order.payment_status == "paid" and order.needs_review and order.state == "cancelled"
