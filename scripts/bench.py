"""Benchmark the public pages: latency and SQL statements per page as the catalogue grows.

    .venv/bin/python scripts/bench.py [--products 2000] [--requests 50]
    .venv/bin/python scripts/bench.py --search [--sizes 1000,10000,100000] [--requests 30]

Builds a throw-away SQLite database (or uses BENCH_DATABASE_URL, e.g. a scratch PostgreSQL
database — it is wiped), loads the demo catalogue plus N generated products, then requests each
page through the WSGI app in-process and prints median / p95 time and queries per request.
Nothing leaves the machine.

``--http`` (issue 11, ``make bench-http``): seeds the demo plus N generated products per size once
(kept under instance/bench/, or in a schema ``bench_<N>_<schema hash>`` of the PostgreSQL database
named by ``DATABASE_URL``; ANALYZE after seeding), starts gunicorn (2 sync workers) on 127.0.0.1 and
loads it from a second process (wrk, or a small bounded Python client): for each page the bare
route, then the page, for ``--duration`` seconds each. Prints requests/s, p50 / p95 / p99, the ratio
to the bare route, SQL statements per request and each worker's peak memory.

``--search`` (the search section, ``make bench-search``): grows a catalogue of varied generated
products to each size in turn and times the search page and the search box's suggestions for
exact, folded, typo and one-letter queries (p50 / p95 in ms, SQL statements per request).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
import os
import statistics
import tempfile
import time
from datetime import timedelta
from types import SimpleNamespace

from urllib.parse import quote_plus

from sqlalchemy import event, func, insert, select, text

from config import DevelopmentConfig, TestingConfig
from shop import create_app
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.extensions import db
from shop.inventory.services import receive
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
        receive(shop.id, product.id, 10, note="bench")
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
    from shop.catalog.search import add_terms, product_sections, search_columns, term_words
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
        # Core inserts bypass the flush hook that keeps the search vocabulary: add the words here.
        add_terms(db.session.connection(), set().union(*(term_words(r["search_text"]) for r in rows)))
        ids = db.session.scalars(select(Product.id).where(Product.slug.in_([r["slug"] for r in rows]))).all()
        db.session.execute(insert(Certificate), [
            dict(product_id=pid, stars=3 + pid % 3, decision_number=f"S{pid}/QĐ", issuing_body="UBND tỉnh",
                 level="province", legal_basis="", product_name_certified="", producer_name_certified="",
                 issued_on=issued, expires_on=issued + timedelta(days=1000), status="active", kind="new",
                 created_at=now) for pid in ids])
        for pid in ids:
            if pid % 20:  # every twentieth product out of stock
                receive(shops[pid % len(shops)].id, pid, pid % 20, note="bench")
        db.session.commit()


def time_urls(client, engine, urls: dict[str, str], requests: int) -> list[tuple]:
    rows = []
    for name, url in urls.items():
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        times, cpu, status = [], [], None
        client.get(url)  # warm-up
        event.listen(engine, "before_cursor_execute", listener)
        for _ in range(requests):
            statements.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            status = response.status_code
        event.remove(engine, "before_cursor_execute", listener)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        rows.append((name, status, statistics.median(times), p95, statistics.median(cpu), len(statements)))
    return rows


def search_bench(args) -> None:
    tmp = tempfile.mkdtemp(prefix="ocop-bench-")
    uri = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    # PAGE_CACHE off: a kept page would measure the cache, not the search.
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=f"{tmp}/uploads", PAGE_CACHE=False)
    sizes = [int(s) for s in args.sizes.split(",")]
    client = app.test_client()
    print(f"search, database {uri.split(':')[0]}, {args.requests} requests per query")
    # CPU ms: this process's CPU time per request (the app's work, SQLite's included; PostgreSQL's
    # own work is not in it): less sensitive than wall time to other processes on a shared machine.
    print(f"{'products':>9}  {'request':<34}{'status':>7}{'p50 ms':>9}{'p95 ms':>9}{'CPU ms':>9}{'queries':>9}")
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
            for name, status, p50, p95, cpu, queries in time_urls(client, engine, urls, args.requests):
                print(f"{size:>9}  {name:<34}{status:>7}{p50:>9.1f}{p95:>9.1f}{cpu:>9.1f}{queries:>9}", flush=True)



ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "instance" / "bench"
BATCH = 2000


def grow_batches(extra: int, start: int = 0) -> None:
    """Add generated products bench-<start> … bench-<extra-1>, each certified, stocked at one shop
    with its ledger row, in batches (committed one by one, so a big seed keeps memory flat)."""
    producers = db.session.query(Producer).order_by(Producer.id).all()
    groups = db.session.query(ProductGroup).filter(ProductGroup.parent_id.isnot(None)).order_by(ProductGroup.id).all()
    shops = db.session.query(Shop).filter(Shop.active.is_(True)).order_by(Shop.id).all()
    issued = today_vn() - timedelta(days=100)
    for first in range(start, extra, BATCH):
        batch = []
        for i in range(first, min(extra, first + BATCH)):
            batch.append(Product(name=f"Đặc sản Bắc Kạn số {i}", slug=f"bench-{i}", price=20_000 + 1_000 * (i % 300),
                                 producer=producers[i % len(producers)], group=groups[i % len(groups)], unit="gói"))
        db.session.add_all(batch)
        db.session.flush()
        for product in batch:
            i = int(product.slug.removeprefix("bench-"))
            db.session.add(Certificate(product_id=product.id, stars=3 + i % 3, decision_number=f"B{i}/QĐ",
                                       issuing_body="UBND tỉnh", level="province", issued_on=issued,
                                       expires_on=issued + timedelta(days=1000)))
            shop = shops[i % len(shops)]
            units = 0 if i % 7 == 0 else 10  # some products out of stock, as in life
            if units:
                receive(shop.id, product.id, units, note="bench")
        db.session.commit()
        db.session.expunge_all()
        producers = db.session.query(Producer).order_by(Producer.id).all()
        groups = db.session.query(ProductGroup).filter(ProductGroup.parent_id.isnot(None)).order_by(ProductGroup.id).all()
        shops = db.session.query(Shop).filter(Shop.active.is_(True)).order_by(Shop.id).all()


def page_urls(app) -> dict[str, str]:
    """The pages measured, with a product and a producer picked from the generated catalogue."""
    with app.app_context():
        generated = db.session.scalar(select(func.count()).where(Product.slug.like("bench-%")))
        product = db.session.scalars(select(Product).where(Product.slug == "bench-1")).first() \
            or db.session.scalars(select(Product).order_by(Product.id)).first()
        producer = product.producer.slug
        total = db.session.scalar(select(func.count(Product.id)))
    deep = max(1, total // 24 // 2)  # the middle of the catalogue
    return {
        "home": "/",
        "catalogue": "/products",
        "catalogue deep page": f"/products?page={deep}",
        "catalogue filtered": "/products?stars=4&stars=5&in_stock=1&sort=price_asc&page=3",
        "search 'nep tai'": "/products?q=nep+tai",
        "product": f"/products/{product.slug}",
        "producer": f"/producers/{producer}",
        "shops": "/shops",
        "cart (3 lines)": "/cart",
        "api search": "/api/v1/products?q=mien+dong",
        "_generated": str(generated),
    }


# ---- HTTP mode (issue 11) ----------------------------------------------------------------------


def schema_hash() -> str:
    """Changes whenever a table or column changes, so a stale seeded database is not reused."""
    from shop import register_models

    register_models()
    parts = []
    for table in sorted(db.metadata.tables.values(), key=lambda t: t.name):
        parts.append(table.name + ":" + ",".join(f"{c.name}/{c.type}" for c in table.columns))
        parts.extend(sorted(ix.name or "" for ix in table.indexes))
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:8]


def bench_database(size: int, base_url: str | None) -> str:
    """The URL of the database seeded with ``size`` generated products (seeding it if needed)."""
    fingerprint = schema_hash()
    if base_url and base_url.startswith("postgresql"):
        schema = f"bench_{size}_{fingerprint}"
        sep = "&" if "?" in base_url else "?"
        # public after the schema: extensions live there (pg_trgm's operator classes for search).
        url = f"{base_url}{sep}options=-csearch_path%3D{schema},public"
        import sqlalchemy as sa

        engine = sa.create_engine(base_url)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        engine.dispose()
    else:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{BENCH_DIR / f'bench-{size}-{fingerprint}.db'}"
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(BENCH_DIR / "uploads"))
    with app.app_context():
        db.create_all()
        have = db.session.scalar(select(func.count()).where(Product.slug.like("bench-%")))
        if have != size:
            started = time.perf_counter()
            from shop.seed.demo import seed_demo

            seed_demo()
            grow_batches(size, start=have)
            print(f"  seeded {size - have} products in {time.perf_counter() - started:.0f} s", flush=True)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("ANALYZE"))
            else:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url


def make_cart(app) -> str:
    """A cart with three lines; returns its signed cookie value (sent by the load generator)."""
    from itsdangerous import URLSafeSerializer

    from shop.cart import services as carts
    from shop.catalog.services import CatalogFilters, browse

    with app.app_context():
        cart = carts.get_or_create_cart(None)
        for item in browse(CatalogFilters(in_stock=True), per_page=3).items:
            carts.add(cart, item.product.id, 1)
        db.session.commit()
        token = cart.token
        cookie = URLSafeSerializer(app.secret_key, salt="cart").dumps(token)
        db.session.remove()
    return cookie


def statements_per_request(app, url: str, cookie: str) -> int:
    client = app.test_client()
    client.set_cookie(app.config["CART_COOKIE_NAME"], cookie)
    client.get(url)  # warm-up
    with app.app_context():
        engine = db.engine
    count = [0]

    def before(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count[0]


WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "bad_status": %d, ' ..
    '"p50": %d, "p95": %d, "p99": %d}\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def load_wrk(url: str, seconds: float, connections: int, cookie: str, script: Path) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-H", f"Cookie: cart={cookie}", "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    return {"rps": data["requests"] / (data["duration_us"] / 1e6), "p50": data["p50"] / 1000,
            "p95": data["p95"] / 1000, "p99": data["p99"] / 1000,
            "errors": data["errors"] + data["bad_status"], "requests": data["requests"]}


def load_python(url: str, seconds: float, connections: int, cookie: str, max_requests: int) -> dict:
    """A small bounded client: ``connections`` threads, stopping at ``seconds`` or ``max_requests``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        request = urllib.request.Request(url, headers={"Cookie": f"cart={cookie}"})
        while time.perf_counter() < deadline:
            with lock:
                if len(latencies) + errors[0] >= max_requests:
                    return
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                    ok = 200 <= response.status < 400
            except Exception:  # noqa: BLE001 - counted, never fatal
                ok = False
            with lock:
                if ok:
                    latencies.append((time.perf_counter() - start) * 1000)
                else:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    pick = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))]  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99),
            "errors": errors[0], "requests": len(latencies)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_size(size: int, args, base_url: str | None) -> None:
    url = bench_database(size, base_url)
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(BENCH_DIR / "uploads"),
                     WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    pages = page_urls(app)
    generated = pages.pop("_generated")
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        pages = {name: path for name, path in pages.items() if name in wanted}
    cookie = make_cart(app)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, UPLOAD_FOLDER=str(BENCH_DIR / "uploads"), OCOP_ENV="development",
               LOG_LEVEL="WARNING", API_RATE_LIMIT="100000000/minute", PYTHONPATH=f"{ROOT}:{ROOT / 'scripts'}")
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench_wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/__bench/bare", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        script = Path(tempfile.mkdtemp(prefix="ocop-wrk-")) / "report.lua"
        script.write_text(WRK_SCRIPT)

        def load(path: str, seconds: float) -> dict:
            if use_wrk:
                return load_wrk(base + path, seconds, args.connections, cookie, script)
            return load_python(base + path, seconds, args.connections, cookie, args.max_requests)

        for path in ["/__bench/bare", *pages.values()]:  # warm both workers (templates, caches)
            for _ in range(4):
                request = urllib.request.Request(base + path, headers={"Cookie": f"cart={cookie}"})
                urllib.request.urlopen(request, timeout=60).read()
        dialect = url.split(":")[0].split("+")[0]
        print(f"\n{size} generated products ({generated} seeded), {dialect}, gunicorn 2 sync workers, "
              f"{'wrk' if use_wrk else 'python client'} {args.connections} connections, {args.duration:g} s per run"
              + (f" in {args.rounds} rounds alternating with the bare route" if args.rounds > 1 else ""))
        print(f"{'page':<22}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'bare req/s':>11}{'ratio':>8}"
              f"{'SQL':>5}{'errors':>7}")
        def alternate(path: str) -> tuple[dict, dict]:
            """The bare route and the page, ``--rounds`` times in turn (``--duration`` split between the
            rounds), so that load from other processes falls on both alike; rates over all rounds,
            percentiles the median of the rounds'."""
            slice_ = args.duration / args.rounds
            runs = [(load("/__bench/bare", slice_), load(path, slice_)) for _ in range(args.rounds)]
            merged = []
            for side in (0, 1):
                results = [run[side] for run in runs]
                seconds = sum(r["requests"] / r["rps"] for r in results if r["rps"])
                merged.append({"rps": sum(r["requests"] for r in results) / seconds if seconds else 0.0,
                               "errors": sum(r["errors"] for r in results),
                               **{q: statistics.median(r[q] for r in results) for q in ("p50", "p95", "p99")}})
            return merged[0], merged[1]

        for name, path in pages.items():
            bare, page = alternate(path)
            statements = statements_per_request(app, path, cookie)
            ratio = page["rps"] / bare["rps"] if bare["rps"] else 0
            print(f"{name:<22}{page['rps']:>8.1f}{page['p50']:>9.1f}{page['p95']:>9.1f}{page['p99']:>9.1f}"
                  f"{bare['rps']:>11.1f}{ratio:>7.1%}{statements:>5}{page['errors']:>7}", flush=True)
        memory = ", ".join(f"{peak_memory_mib(pid):.0f} MiB" for pid in worker_pids(server.pid))
        print(f"worker peak memory (VmHWM): {memory}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def http_mode(args) -> None:
    base_url = os.environ.get("DATABASE_URL") or None
    print(f"machine: {os.cpu_count()} cores, {platform_line()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for size in args.sizes:
        run_size(size, args, base_url)


def platform_line() -> str:
    import platform

    model = ""
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model or platform.processor()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000, help="generated products on top of the demo")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--search", action="store_true", help="the search section instead of the pages")
    parser.add_argument("--http", action="store_true", help="measure over HTTP (gunicorn + wrk)")
    parser.add_argument("--duration", type=float, default=3.0, help="HTTP: seconds per measurement")
    parser.add_argument("--connections", type=int, default=4, help="HTTP: concurrent connections")
    parser.add_argument("--rounds", type=int, default=1,
                        help="HTTP: alternate bare route and page this many times per page (a shared, noisy machine)")
    parser.add_argument("--max-requests", type=int, default=5000, help="HTTP, Python client: cap per run")
    parser.add_argument("--python-client", action="store_true", help="HTTP: do not use wrk even if installed")
    parser.add_argument("--only", default="", help="HTTP: comma-separated page names to measure")
    parser.add_argument("--sizes", default="1000,10000,100000", help="catalogue sizes for --search and --http")
    args = parser.parse_args()
    if args.search:
        search_bench(args)
        return
    if args.http:
        args.sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
        if args.duration <= 0 or args.duration > 60 or args.connections < 1 or args.connections > 64:
            parser.error("--duration must be in (0, 60] and --connections in [1, 64]")
        if not 1 <= args.rounds <= 20 or args.duration / args.rounds < 1:
            parser.error("--rounds must be in [1, 20] with at least 1 s of --duration per round")
        http_mode(args)
        return

    tmp = tempfile.mkdtemp(prefix="ocop-bench-")
    uri = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    # PAGE_CACHE off: a kept page would measure the cache, not the search.
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=f"{tmp}/uploads", PAGE_CACHE=False)
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
