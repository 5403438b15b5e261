"""Benchmark the public pages: latency and SQL statements per page as the catalogue grows.

    .venv/bin/python scripts/bench.py [--products 2000] [--requests 50]

Builds a throw-away SQLite database (or uses BENCH_DATABASE_URL, e.g. a scratch PostgreSQL
database — it is wiped), loads the demo catalogue plus N generated products, then requests each
page through the WSGI app in-process and prints median / p95 time and queries per request.
Nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event

from config import TestingConfig
from shop import create_app
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.extensions import db
from shop.inventory.models import StockLevel, StockMovement
from shop.producers.models import Producer
from shop.shops.models import Shop
from shop.timeutil import today_vn


def grow(extra: int) -> None:
    producers = db.session.query(Producer).all()
    groups = db.session.query(ProductGroup).filter(ProductGroup.parent_id.isnot(None)).all()
    shops = db.session.query(Shop).all()
    issued = today_vn() - timedelta(days=100)
    batch = []
    for i in range(extra):
        batch.append(Product(name=f"Đặc sản Bắc Kạn số {i}", slug=f"bench-{i}", price=20_000 + 1_000 * (i % 300),
                             producer=producers[i % len(producers)], group=groups[i % len(groups)], unit="gói"))
    db.session.add_all(batch)
    db.session.flush()
    for i, product in enumerate(batch):
        db.session.add(Certificate(product_id=product.id, stars=3 + i % 3, decision_number=f"B{i}/QĐ",
                                   issuing_body="UBND tỉnh", level="province", issued_on=issued,
                                   expires_on=issued + timedelta(days=1000)))
        shop = shops[i % len(shops)]
        db.session.add(StockLevel(shop_id=shop.id, product_id=product.id, on_hand=10))
        db.session.add(StockMovement(shop_id=shop.id, product_id=product.id, delta=10, reason="receive"))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000, help="generated products on top of the demo")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="ocop-bench-")
    uri = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=f"{tmp}/uploads")
    with app.app_context():
        db.drop_all()
        db.create_all()
        from shop.seed.demo import seed_demo

        seed_demo()
        grow(args.products)
        product = db.session.query(Product).filter_by(slug="bench-7").one()
        producer = product.producer.slug
        total = db.session.query(Product).count()

    pages = {
        "home": "/",
        "catalogue": "/products",
        "catalogue filtered": "/products?stars=4&stars=5&in_stock=1&sort=price_asc&page=3",
        "search 'nep tai'": "/products?q=nep+tai",
        "product": f"/products/{product.slug}",
        "producer": f"/producers/{producer}",
        "shops": "/shops",
        "api products": "/api/v1/products?q=mien+dong",
    }
    client = app.test_client()
    print(f"{total} products, {args.requests} requests per page, database {uri.split(':')[0]}")
    print(f"{'page':<22}{'status':>7}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    with app.app_context():
        engine = db.engine
    for name, url in pages.items():
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        times = []
        status = None
        for _ in range(args.requests):
            statements.clear()
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            status = response.status_code
        event.remove(engine, "before_cursor_execute", listener)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        print(f"{name:<22}{status:>7}{statistics.median(times):>11.1f}{p95:>9.1f}{len(statements):>9}")


if __name__ == "__main__":
    main()
