"""The producer portal (issue 15): a producer user sees their own profile, products, certificates,
stock by lot and sales by month — and nothing of another producer's."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.portal import queries

from accounts_helpers import make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


@pytest.fixture
def portal(make_product, make_producer, make_shop):
    """Producers X and Y with a product each, stock in two shops, a producer user for each."""
    x, y = make_producer(name="HTX Tài Hoan"), make_producer(name="HTX Bản Cháo")
    mien = make_product("Miến dong Tài Hoan", producer=x, price=110_000, stars=5)
    che = make_product("Chè Shan tuyết", producer=y, price=90_000)
    online = make_shop("Cửa hàng OCOP trung tâm", ships_online=True)
    kiosk = make_shop("Cửa hàng OCOP Ba Bể", ships_online=False)
    today = date.today()
    inventory.receive(online.id, mien.id, 5, lot_code="L-SOON", produced_on=today - timedelta(days=30),
                      best_before=today + timedelta(days=200))
    inventory.receive(kiosk.id, mien.id, 7, lot_code="L-LATE", produced_on=today - timedelta(days=3),
                      best_before=today + timedelta(days=400))
    inventory.receive(online.id, che.id, 4, lot_code="CHE-1")
    db.session.commit()
    users = {"x": make_user("producer", producer=x.slug, name="Anh Tài"),
             "y": make_user("producer", producer=y.slug, name="Chị Cháo")}
    return {"x": x, "y": y, "mien": mien, "che": che, "online": online, "kiosk": kiosk, "users": users}


def _signed_in(client, user):
    response = sign_in(client, user.email)
    assert response.status_code == 302
    return client


def test_a_producer_is_sent_to_their_own_portal_and_sees_products_and_certificates(client, portal):
    _signed_in(client, portal["users"]["x"])
    assert client.get("/portal/").headers["Location"].endswith(f"/portal/{portal['x'].slug}")
    page = client.get(f"/portal/{portal['x'].slug}").get_data(as_text=True)
    assert "Miến dong Tài Hoan" in page and "110.000" in page
    cert = portal["mien"].certificates[0]
    assert cert.decision_number in page and "5★" in page
    assert "Chè Shan tuyết" not in page


def test_stock_lists_each_shop_and_lot_with_best_before_first_expiring_first(client, portal):
    _signed_in(client, portal["users"]["x"])
    stock = queries.stock_of(portal["x"].id)
    (item,) = stock
    assert item.on_hand == 12 and {s.shop.name: s.on_hand for s in item.shops} == {
        "Cửa hàng OCOP trung tâm": 5, "Cửa hàng OCOP Ba Bể": 7}
    page = client.get(f"/portal/{portal['x'].slug}/stock").get_data(as_text=True)
    assert "L-SOON" in page and "L-LATE" in page and "CHE-1" not in page
    soon = (date.today() + timedelta(days=200)).strftime("%d/%m/%Y")
    assert soon in page


def test_the_stock_page_writes_nothing(client, portal):
    from sqlalchemy import func, select

    from shop.inventory.models import StockMovement

    _signed_in(client, portal["users"]["x"])
    before = db.session.scalar(select(func.count(StockMovement.id)))
    assert client.get(f"/portal/{portal['x'].slug}/stock").status_code == 200
    assert db.session.scalar(select(func.count(StockMovement.id))) == before


def test_sales_by_month_count_sold_units_at_the_price_paid_less_returns(client, portal):
    mien = portal["mien"]
    order = orders.place_order(cart_with((mien, 3)), CUSTOMER, DELIVERY, "bank_transfer")
    orders.confirm_bank_transfer(order, actor="staff@ocop")
    db.session.commit()
    # A later price change does not change what was paid.
    mien.price = 150_000
    # An order only held (not paid) is not a sale.
    orders.place_order(cart_with((mien, 1)), CUSTOMER, DELIVERY, "cod")
    db.session.commit()
    months = queries.sales_by_month(portal["x"].id)
    assert len(months) == 12 and months[-1].month == date.today().replace(day=1)
    assert (months[-1].units, months[-1].revenue) == (3, 330_000)
    assert sum(m.units for m in months[:-1]) == 0
    assert queries.sales_by_month(portal["y"].id)[-1].units == 0

    _signed_in(client, portal["users"]["x"])
    page = client.get(f"/portal/{portal['x'].slug}/sales").get_data(as_text=True)
    figure = page[page.index('<figure class="portal-chart">'):page.index("</figure>")]
    assert "330.000" in page and "<svg" in figure and "<script" not in figure and "<rect" in figure


def test_the_chart_scales_bars_to_the_best_month():
    chart = queries.bar_chart([("01/26", 0), ("02/26", 50), ("03/26", 100), ("04/26", -20)])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[3] == 0 and heights[2] == pytest.approx(2 * heights[1])
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in chart.bars)
    assert all(b.x + b.width <= chart.width for b in chart.bars)


@pytest.mark.parametrize("path", ["", "/stock", "/sales"])
def test_producer_a_gets_a_404_for_every_page_of_producer_b(client, portal, path):
    _signed_in(client, portal["users"]["x"])
    assert client.get(f"/portal/{portal['y'].slug}{path}").status_code == 404
    assert client.get(f"/portal/no-such-producer{path}").status_code == 404
    assert client.get(f"/portal/{portal['x'].slug}{path}").status_code == 200


def test_customers_and_staff_get_a_403_and_guests_are_sent_to_sign_in(client, portal):
    assert client.get(f"/portal/{portal['x'].slug}").status_code == 302
    customer = make_user("customer")
    _signed_in(client, customer)
    assert client.get(f"/portal/{portal['x'].slug}").status_code == 403
    assert client.get("/portal/").status_code == 403


def test_an_administrator_sees_every_producers_portal(client, portal):
    admin = make_user("admin")
    _signed_in(client, admin)
    listing = client.get("/portal/").get_data(as_text=True)
    assert portal["x"].name in listing and portal["y"].name in listing
    assert client.get(f"/portal/{portal['y'].slug}/stock").status_code == 200
