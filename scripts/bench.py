"""Benchmark the public pages: latency and SQL statements per page as the catalogue grows.

    .venv/bin/python scripts/bench.py [--products 2000] [--requests 50]
    .venv/bin/python scripts/bench.py --search [--sizes 1000,10000,100000] [--requests 30]

Builds a throw-away SQLite database (or uses BENCH_DATABASE_URL, e.g. a scratch PostgreSQL
database — it is wiped), loads the demo catalogue plus N generated products, then requests each
page through the WSGI app in-process and prints median / p95 time and queries per request.
Nothing leaves the machine.

``--search`` (the search section, ``make bench-search``): grows a catalogue of varied generated
products to each size in turn and times the search page and the search box's suggestions for
exact, folded, typo and one-letter queries (p50 / p95 in ms, SQL statements per request).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta
from types import SimpleNamespace

from urllib.parse import quote_plus

from sqlalchemy import event, insert, select, text

from config import TestingConfig
from shop import create_app
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.extensions import db
from shop.inventory.models import StockLevel, StockMovement
from shop.producers.models import Producer
from shop.shops.models import Shop
from shop.timeutil import today_vn, utcnow


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


# ---- search section ------------------------------------------------------------------------

# Generated names mix real product words, so a query matches a share of the catalogue, not all of it.
SEARCH_KINDS = ["Mật ong rừng", "Miến dong", "Trà Shan tuyết", "Gạo nếp", "Bún khô", "Rượu men lá", "Tinh nghệ",
                "Cam ngọt", "Lạp sườn", "Măng khô", "Bánh gio", "Khẩu sli", "Giấm chuối", "Thịt trâu gác bếp",
                "Dầu gội thảo dược", "Khăn thổ cẩm", "Lan hồ điệp", "Trà giảo cổ lam", "Bột dong riềng", "Phở khô"]
SEARCH_STYLES = ["đặc biệt", "hữu cơ", "truyền thống", "loại một", "cao cấp", "nguyên chất", "gia truyền",
                 "tươi", "sấy lạnh", "thượng hạng", "vùng cao", "bản địa", "túi lọc", "hộp quà", "đóng chai"]
SEARCH_QUERIES = [
    ("exact", "Miến dong Tài Hoan"),
    ("folded", "mien dong"),
    ("typo", "mat ongg"),
    ("typo 2", "shan tiet"),
    ("1 letter", "m"),
    ("nothing", "xyzzy"),
]
SUGGEST_QUERIES = [("2 letters", "mi"), ("prefix", "mat o"), ("typo", "mien dog")]


def grow_search(start: int, stop: int) -> None:
    """Add products ``start``..``stop - 1`` in bulk (Core inserts; search columns computed as the app does)."""
    from shop.catalog.search import product_sections, search_columns
    from shop.text import fold

    producers = db.session.query(Producer).all()
    groups = db.session.query(ProductGroup).filter(ProductGroup.parent_id.isnot(None)).all()
    shops = db.session.query(Shop).all()
    issued = today_vn() - timedelta(days=100)
    now = utcnow()
    for lo in range(start, stop, 5000):
        rows = []
        for i in range(lo, min(stop, lo + 5000)):
            producer, group = producers[i % len(producers)], groups[(i // 7) % len(groups)]
            name = f"{SEARCH_KINDS[i % len(SEARCH_KINDS)]} {SEARCH_STYLES[(i // 20) % len(SEARCH_STYLES)]} {i}"
            probe = SimpleNamespace(name=name, name_en="", description="", producer=producer, group=group)
            words, folded = search_columns(product_sections(probe))
            rows.append(dict(producer_id=producer.id, group_id=group.id, slug=f"search-{i}", name=name, name_en="",
                             description="", description_en="", unit="gói", unit_en="", price=20_000 + 1_000 * (i % 300),
                             listed=True, name_folded=fold(name), search_text=folded, search_words=words,
                             created_at=now, updated_at=now))
        db.session.execute(insert(Product), rows)
        ids = db.session.scalars(select(Product.id).where(Product.slug.in_([r["slug"] for r in rows]))).all()
        db.session.execute(insert(Certificate), [
            dict(product_id=pid, stars=3 + pid % 3, decision_number=f"S{pid}/QĐ", issuing_body="UBND tỉnh",
                 level="province", legal_basis="", product_name_certified="", producer_name_certified="",
                 issued_on=issued, expires_on=issued + timedelta(days=1000), status="active", kind="new",
                 created_at=now) for pid in ids])
        db.session.execute(insert(StockLevel), [
            dict(shop_id=shops[pid % len(shops)].id, product_id=pid, on_hand=pid % 20, low_stock_threshold=5,
                 updated_at=now) for pid in ids])
        db.session.execute(insert(StockMovement), [
            dict(shop_id=shops[pid % len(shops)].id, product_id=pid, delta=pid % 20, reason="receive", note="",
                 created_at=now) for pid in ids if pid % 20])
        db.session.commit()


def time_urls(client, engine, urls: dict[str, str], requests: int) -> list[tuple]:
    rows = []
    for name, url in urls.items():
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        times, status = [], None
        client.get(url)  # warm-up
        event.listen(engine, "before_cursor_execute", listener)
        for _ in range(requests):
            statements.clear()
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            status = response.status_code
        event.remove(engine, "before_cursor_execute", listener)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        rows.append((name, status, statistics.median(times), p95, len(statements)))
    return rows


def search_bench(args) -> None:
    tmp = tempfile.mkdtemp(prefix="ocop-bench-")
    uri = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=f"{tmp}/uploads")
    sizes = [int(s) for s in args.sizes.split(",")]
    client = app.test_client()
    print(f"search, database {uri.split(':')[0]}, {args.requests} requests per query")
    print(f"{'products':>9}  {'request':<34}{'status':>7}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    with app.app_context():
        db.drop_all()
        db.create_all()
        from shop.seed.demo import seed_demo

        seed_demo()
        have = 0
        engine = db.engine
        for size in sizes:
            grow_search(have, size)
            have = size
            if engine.dialect.name == "postgresql":
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            db.session.remove()
            urls = {f"page {kind} '{q}'": f"/products?q={quote_plus(q)}" for kind, q in SEARCH_QUERIES}
            urls |= {f"suggest {kind} '{q}'": f"/search/suggest?q={quote_plus(q)}" for kind, q in SUGGEST_QUERIES}
            for name, status, p50, p95, queries in time_urls(client, engine, urls, args.requests):
                print(f"{size:>9}  {name:<34}{status:>7}{p50:>9.1f}{p95:>9.1f}{queries:>9}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000, help="generated products on top of the demo")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--search", action="store_true", help="the search section instead of the pages")
    parser.add_argument("--sizes", default="1000,10000,100000", help="catalogue sizes for --search")
    args = parser.parse_args()
    if args.search:
        search_bench(args)
        return

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
