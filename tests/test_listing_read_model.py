"""The listing read model (shop.catalog.listing) and the per-row availability reads.

Every test of the suite ends with the agreement check (tests/conftest.py: stored stars ==
certificates, per-row availability == every hold grouped); these tests add the time-based cases
and the costs that must not grow with the catalogue.
"""
from datetime import timedelta

import pytest

from shop.catalog import listing
from shop.catalog.models import Product
from shop.catalog.services import CatalogFilters, browse
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import Reservation
from shop.orders import services as orders
from shop.timeutil import today_vn, utcnow


def _slugs(page):
    return [item.product.slug for item in page.items]


def test_stars_follow_every_certificate_change_in_the_same_transaction(make_product, make_certificate):
    product = make_product(stars=3)
    assert product.current_stars == 3
    better = make_certificate(product, stars=5)
    assert db.session.get(Product, product.id).current_stars == 5
    better.status = "revoked"
    db.session.flush()
    assert product.current_stars == 3
    for cert in product.certificates:
        db.session.delete(cert)
    db.session.flush()
    assert product.current_stars is None
    assert listing.mismatches(db.session) == []


def test_a_certificate_moved_to_another_product_updates_both(make_product):
    first, second = make_product(stars=4), make_product(stars=None)
    cert = first.certificates[0]
    cert.product = second
    db.session.flush()
    assert (first.current_stars, second.current_stars) == (None, 4)


# Time moves forward for the code under test only; the end-of-test check runs at the real time.
@pytest.mark.no_read_model_check
def test_an_expiry_takes_effect_at_the_instant_without_a_job(make_product):
    today = today_vn()
    product = make_product(stars=4, issued_on=today - timedelta(days=30), expires_on=today)
    db.session.commit()
    end = listing.vn_midnight(today + timedelta(days=1))
    assert product.stars_until == end
    just_before, at_end = end - timedelta(seconds=1), end
    # Before anything recomputes it, a stale row is already refused by the listing condition.
    visible = lambda now: db.session.scalars(  # noqa: E731
        db.select(Product.id).where(listing.sellable_clause(now))).all()
    assert visible(just_before) == [product.id]
    assert visible(at_end) == []
    # ...and the page's refresh recomputes that product only, once.
    assert listing.refresh_stale(db.session, now=at_end) == 1
    assert db.session.get(Product, product.id).current_stars is None
    assert db.session.get(Product, product.id).stars_until is None
    assert listing.refresh_stale(db.session, now=at_end) == 0


# Time moves forward for the code under test only; the end-of-test check runs at the real time.
@pytest.mark.no_read_model_check
def test_a_pending_certificate_starts_counting_on_its_first_day(make_product):
    tomorrow = today_vn() + timedelta(days=1)
    product = make_product(stars=5, issued_on=tomorrow, expires_on=tomorrow + timedelta(days=1000))
    db.session.commit()
    assert product.current_stars is None and product.stars_until == listing.vn_midnight(tomorrow)
    assert listing.refresh_stale(db.session, now=listing.vn_midnight(tomorrow)) == 1
    assert db.session.get(Product, product.id).current_stars == 5
    assert db.session.get(Product, product.id).stars_until == listing.vn_midnight(
        tomorrow + timedelta(days=1001))


# Time moves forward for the code under test only; the end-of-test check runs at the real time.
@pytest.mark.no_read_model_check
def test_the_catalogue_refreshes_lapsed_products_before_reading(make_product, monkeypatch):
    today = today_vn()
    lapsing = make_product(name="Sắp hết hạn", stars=4, issued_on=today - timedelta(days=30), expires_on=today)
    make_product(name="Còn hạn", stars=4)
    db.session.commit()
    assert len(browse(CatalogFilters()).items) == 2
    # Time moves past the end of the certificate's last day (in Vietnam).
    later = listing.vn_midnight(today + timedelta(days=1)) + timedelta(minutes=1)
    monkeypatch.setattr(listing, "utcnow", lambda: later)
    monkeypatch.setattr("shop.catalog.services.utcnow", lambda: later)
    page = browse(CatalogFilters())
    assert lapsing.slug not in _slugs(page) and page.total == 1
    assert db.session.get(Product, lapsing.id).current_stars is None


@pytest.fixture
def held(make_product, make_shop):
    """A product with 2 units at one shop, both held by a bank-transfer order until its deadline."""
    from tests.test_orders import CUSTOMER, DELIVERY, cart_with

    product, shop = make_product(), make_shop(ships_online=True)
    inventory.receive(shop.id, product.id, 2)
    db.session.commit()
    order = orders.place_order(cart_with((product, 2)), CUSTOMER, DELIVERY, "bank_transfer")
    db.session.commit()
    expires = db.session.scalars(db.select(Reservation.expires_at)).one()
    assert expires is not None and expires == order.hold_expires_at
    return product, expires


def test_held_units_are_not_in_stock_until_the_hold_lapses(held):
    product, expires = held
    before, after = expires - timedelta(seconds=1), expires
    in_stock = lambda now: db.session.scalars(  # noqa: E731
        db.select(Product.id).where(inventory.in_stock_clause(Product.id, now))).all()
    assert in_stock(before) == [] and in_stock(after) == [product.id]
    units = lambda now: db.session.scalar(db.select(inventory.available_units_expr(product.id, now)))  # noqa: E731
    assert (units(before), units(after)) == (0, 2)
    assert inventory.slow_availability(after) == {product.id: 2}
    assert listing.read_model_mismatches(db.session, now=after) == []


def test_released_and_committed_holds_leave_availability_right(held):
    product, _expires = held
    reservation = db.session.scalars(db.select(Reservation)).one()
    inventory.release_reservation(reservation)
    assert inventory.total_availability([product.id]) == {product.id: 2}
    assert listing.read_model_mismatches(db.session) == []


def test_a_shop_units_counted_away_under_a_hold_do_not_hide_another_shops(make_product, make_shop, held):
    """Totals clamp each shop at zero: one shop's shortfall never cancels another's units."""
    product, _expires = held
    other = make_shop(name="Kho Chợ Mới")
    inventory.receive(other.id, product.id, 1)
    first_shop = db.session.scalars(db.select(Reservation)).one().shop_id
    inventory.adjust(first_shop, product.id, -2, note="broken")  # 0 on hand, 2 still held
    db.session.commit()
    assert inventory.total_availability([product.id]) == {product.id: 1}
    assert inventory.slow_availability() == {product.id: 1}
    assert _slugs(browse(CatalogFilters(in_stock=True))) == [product.slug]


def test_the_catalogue_count_is_bounded_and_says_so(make_product, monkeypatch):
    monkeypatch.setattr("shop.catalog.services.MAX_PAGES", 2)
    for i in range(7):
        make_product(name=f"Sản phẩm {i}")
    db.session.commit()
    page = browse(CatalogFilters(page=99), per_page=3)
    assert (page.total, page.capped, page.pages, page.page) == (6, True, 2, 2)
    assert len(page.items) == 3
    exact = browse(CatalogFilters(), per_page=4)
    assert (exact.total, exact.capped) == (7, False)  # two pages of 4 hold them all
    monkeypatch.setattr("shop.catalog.services.MAX_PAGES", 3)
    assert browse(CatalogFilters(), per_page=3).capped is False


def test_writing_one_product_costs_the_same_for_a_small_or_a_large_producer(make_producer, make_group,
                                                                          count_queries, monkeypatch):
    """Adding a product to a producer refolds that product only (it used to refold all of them)."""
    from shop.catalog import search

    group = make_group()
    folded = []
    original = search.refresh_search_fields
    monkeypatch.setattr(search, "refresh_search_fields", lambda p: (folded.append(p), original(p)))

    def add_product(producer, n):
        product = Product(name=f"Gạo nếp số {n}", slug=f"p-{producer.id}-{n}", price=10_000,
                          producer=producer, group=group, unit="kg")
        db.session.add(product)
        folded.clear()
        with count_queries() as queries:
            db.session.flush()
        return queries.count, len(folded)

    costs = []
    for size in (3, 300):
        producer = make_producer(name=f"HTX {size}")
        for n in range(size):
            add_product(producer, n)
        db.session.commit()
        producer = db.session.get(type(producer), producer.id)
        producer.products  # loaded, as on any page that showed them  # noqa: B018
        costs.append(add_product(producer, size))
    assert costs[0] == costs[1] and costs[0][1] == 1, costs


def test_a_producer_edit_refolds_its_products_only_when_their_search_text_changes(make_product, count_queries):
    product = make_product(name="Miến dong")
    db.session.commit()
    producer = product.producer
    before = product.search_text
    producer.story = "Một câu chuyện mới"
    with count_queries() as queries:
        db.session.flush()
    # The producer's own UPDATE and the catalogue version; nothing reads or writes its products.
    assert not [q for q in queries.statements if "product" in q.lower().split("producer")[0]], queries.statements
    assert queries.count == 2
    producer.name = "HTX Dong Riềng Côn Minh"
    db.session.flush()
    assert product.search_text != before and "con minh" in product.search_text


def test_the_producer_page_lists_every_product_page_by_page(client, make_producer, make_product, monkeypatch):
    monkeypatch.setattr("shop.producers.services.PROFILE_PRODUCTS", 2)
    producer = make_producer(name="HTX Tài Hoan")
    names = [f"Sản phẩm {i}" for i in range(5)]
    for name in names:
        make_product(name=name, producer=producer)
    db.session.commit()
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/producers/{producer.slug}?page={page}").get_data(as_text=True)
        seen += [name for name in names if f">{name}<" in html]
    assert sorted(seen) == names
    assert client.get(f"/producers/{producer.slug}?page=abc").status_code == 200


def test_per_producer_counts_are_cached_per_catalogue_version(make_product, count_queries):
    """Counts grouped over the whole catalogue are computed once per version and follow every
    change that alters them: a certificate revoked, a product unlisted, a certificate lapsing."""
    from shop.producers.services import list_producers

    product = make_product(stars=4)
    make_product(stars=5)
    db.session.commit()
    counts = lambda: {s.producer.id: s.sellable for s in list_producers()}  # noqa: E731
    assert counts() == {product.producer_id: 2}
    with count_queries() as queries:
        assert counts() == {product.producer_id: 2}
    assert not [q for q in queries.statements if "GROUP BY" in q.upper()], "served from the cache"
    product.certificates[0].status = "revoked"
    db.session.commit()
    assert counts() == {product.producer_id: 1}
    product.certificates[0].status = "active"
    product.listed = False
    db.session.commit()
    assert counts() == {product.producer_id: 1}
    product.listed = True
    db.session.commit()
    assert counts() == {product.producer_id: 2}


def test_a_rolled_back_change_never_poisons_the_cache(make_product):
    from shop.producers.services import list_producers

    product = make_product(stars=4)
    db.session.commit()
    product.certificates[0].status = "revoked"
    db.session.flush()
    assert list_producers()[0].sellable == 0  # seen inside the transaction...
    db.session.rollback()
    assert list_producers()[0].sellable == 1  # ...and forgotten with it
