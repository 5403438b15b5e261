"""Pages run a fixed number of SQL statements however large the catalogue grows."""
from datetime import timedelta

import pytest

from shop.catalog.models import Certificate, Product
from shop.extensions import db
from shop.inventory.models import Lot, LotStock, StockLevel, StockMovement
from shop.producers.models import Producer
from shop.timeutil import today_vn


def grow_catalogue(size: int, producer_id: int, group_id: int, shop_id: int) -> dict:
    """Add ``size`` certified, stocked products in bulk (the ledger still explains each level)."""
    issued = today_vn() - timedelta(days=200)
    # New producers as the catalogue grows, so a per-producer lazy load would show up too.
    producers = [Producer(name=f"HTX số {size}-{i}", slug=f"htx-{size}-{i}") for i in range(size // 10)]
    db.session.add_all(producers)
    db.session.flush()
    products = [
        Product(name=f"Sản phẩm OCOP số {i}", slug=f"bulk-{size}-{i}", price=50_000 + i,
                producer_id=producers[i // 10].id if i >= 10 else producer_id, group_id=group_id, unit="túi 500 g")
        for i in range(size)
    ]
    db.session.add_all(products)
    db.session.flush()
    db.session.add_all(
        Certificate(product_id=p.id, stars=3 + i % 3, decision_number=f"{i}/QĐ-UBND", issuing_body="UBND tỉnh",
                    level="province", issued_on=issued, expires_on=issued + timedelta(days=1000))
        for i, p in enumerate(products)
    )
    lots = [Lot(product_id=p.id, code="L1") for p in products]
    db.session.add_all(lots)
    db.session.flush()
    db.session.add_all(StockLevel(shop_id=shop_id, product_id=p.id, on_hand=5) for p in products)
    db.session.add_all(LotStock(shop_id=shop_id, lot_id=lot.id, product_id=lot.product_id, on_hand=5) for lot in lots)
    db.session.add_all(StockMovement(shop_id=shop_id, product_id=lot.product_id, lot_id=lot.id, delta=5,
                                     reason="receive") for lot in lots)
    db.session.commit()
    return {"slug": products[0].slug, "producer": products[0].producer.slug}


PAGES = [
    lambda p: "/",
    lambda p: "/products",
    lambda p: "/products?q=san+pham&stars=4&in_stock=1&sort=price_desc&page=2",
    lambda p: "/products?q=sna+phamm+ocop",  # typos: the search's second, any-word step runs too
    lambda p: "/search/suggest?q=san+ph",
    lambda p: f"/products/{p['slug']}",
    lambda p: f"/producers/{p['producer']}",
    lambda p: "/producers",
    lambda p: "/shops",
]


@pytest.mark.parametrize("page", PAGES, ids=["home", "catalogue", "filtered", "typo search", "suggest", "product", "producer",
                                              "producers", "shops"])
def test_queries_per_page_do_not_grow_with_the_catalogue(client, count_queries, make_producer, make_group,
                                                         make_shop, page):
    ids = make_producer().id, make_group().id, make_shop().id
    db.session.commit()
    counts = []
    for size in (10, 990):
        url = page(grow_catalogue(size, *ids))
        client.get(url)  # warm-up: first requests may load things once
        db.session.remove()  # the request starts with an empty identity map, as in production
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts.append(queries.count)
        db.session.remove()
    assert counts[0] == counts[1], f"{counts} queries for 10 vs 1000 products"
