"""The listing read model: what every catalogue page asks of a product's certificates.

``Product.current_stars`` is the stars of the certificate valid now (NULL when none is) and
``Product.stars_until`` the instant that answer next changes by the calendar alone: the end of
the valid certificate's last day, or the start of a pending one's first day, in Vietnam's time
(NULL: never). Listings filter and sort on these indexed columns instead of grouping every
certificate on each request.

How it stays true:
- Any certificate written through the ORM (new, changed or deleted), and any new product, makes
  the flush hook below recompute those products only, in the same transaction (one SELECT of
  their certificates and one UPDATE per product).
- Time: ``refresh_stale`` recomputes the few products whose ``stars_until`` has passed (an index
  range read, empty on most requests) before a page reads the model, so an expiry takes effect at
  the instant it happens, with no scheduled job. ``sellable_clause`` also refuses a stale row, so
  a product whose certificate just ended is never shown even between those two steps.
- ``mismatches`` compares the model with the certificates the slow way; the test suite runs it
  after every test.

Availability is not stored: it is computed for the rows on the page only (see
``shop.inventory.services.availability_matrix`` and ``in_stock_clause``), so holds that lapse
stop counting at once, under the inventory module's single rule (``active_hold_clause``).
"""
from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from flask import g, has_request_context
from sqlalchemy import and_, bindparam, event, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

from shop.catalog.enums import CertificateStatus
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.places.models import Locality
from shop.producers.models import Producer
from shop.timeutil import VN_TZ, utcnow

# Rows whose changes change what listings show (and so the catalogue version).
_CATALOGUE_MODELS = (Product, Certificate, Producer, ProductGroup, Locality)
# Rows of ``catalogue_version``: the catalogue's token, and the stock's (holds, movements, lots,
# shops; bumped by ``shop.inventory.services``). Kept pages are keyed by both (``shop.pagecache``).
CATALOGUE = 1
STOCK = 2
# Products recomputed per statement batch, and at most per page view when many lapse at once.
BATCH = 500


def vn_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Vietnam."""
    return datetime.combine(day, time(0), tzinfo=VN_TZ).astimezone(UTC)


def _state(rows, today: date) -> tuple[int | None, datetime | None]:
    """(stars, until) from (stars, issued_on, expires_on, valid) rows of a product's active certificates.

    ``valid`` comes from ``Certificate.valid_clause`` (the one rule); of two valid ones the higher
    rating counts, as ``Product.valid_certificate`` says.
    """
    stars, instants = None, []
    for cert_stars, issued_on, expires_on, valid in rows:
        if valid:
            stars = max(stars or 0, cert_stars)
        if issued_on > today:
            instants.append(vn_midnight(issued_on))
        if expires_on >= today:
            instants.append(vn_midnight(expires_on + timedelta(days=1)))
    return stars, min(instants, default=None)


def compute(connection, product_ids, now: datetime | None = None) -> dict[int, tuple[int | None, datetime | None]]:
    """{product_id: (current_stars, stars_until)} computed from the certificates, for these products."""
    now = now or utcnow()
    today = now.astimezone(VN_TZ).date()
    ids = sorted(set(product_ids))
    result: dict[int, tuple[int | None, datetime | None]] = {}
    for first in range(0, len(ids), BATCH):
        chunk = ids[first:first + BATCH]
        rows: dict[int, list] = {pid: [] for pid in chunk}
        for pid, stars, issued_on, expires_on, valid in connection.execute(
            select(Certificate.product_id, Certificate.stars, Certificate.issued_on, Certificate.expires_on,
                   Certificate.valid_clause(today))
            .where(Certificate.product_id.in_(chunk), Certificate.status == CertificateStatus.ACTIVE)
        ):
            rows[pid].append((stars, issued_on, expires_on, bool(valid)))
        for pid, certs in rows.items():
            result[pid] = _state(certs, today)
    return result


def refresh_products(connection, product_ids, now: datetime | None = None) -> dict:
    """Recompute and store the read model of these products (and nothing else); returns it.

    Runs on ``connection`` inside the caller's transaction. ``updated_at`` is left as it was:
    the product itself did not change.
    """
    states = compute(connection, product_ids, now)
    if states:
        table = Product.__table__
        connection.execute(
            update(table).where(table.c.id == bindparam("pid"))
            .values(current_stars=bindparam("stars"), stars_until=bindparam("until"),
                    updated_at=table.c.updated_at),
            [{"pid": pid, "stars": stars, "until": until} for pid, (stars, until) in states.items()],
        )
    return states


def sellable_clause(now: datetime | None = None):
    """SQL: the product is listed and has a valid certificate now (per the read model, never stale)."""
    now = now or utcnow()
    return and_(Product.listed.is_(True), Product.current_stars.is_not(None),
                or_(Product.stars_until.is_(None), Product.stars_until > now))


def refresh_stale(session: Session, now: datetime | None = None) -> int:
    """Recompute products whose state changed with time since it was stored; commits if any did.

    One indexed range read when nothing lapsed (the usual case). Returns how many were refreshed.
    """
    now = now or utcnow()
    memo = g if has_request_context() else None  # once per request, not across requests
    if getattr(memo, "listing_checked", False):
        return 0  # this request looked already (a row lapsing since is still refused by sellable_clause)
    ids = list(session.scalars(select(Product.id).where(Product.stars_until <= now)
                               .order_by(Product.stars_until).limit(BATCH)))
    if memo is not None:
        memo.listing_checked = True
    if not ids:
        return 0
    _store(session, refresh_products(session.connection(), ids, now))
    bump_version(session.connection())
    session.commit()
    return len(ids)


def _store(session: Session, states: dict) -> None:
    """Give loaded Product objects the values just written, without marking them changed."""
    for pid, (stars, until) in states.items():
        product = session.identity_map.get(identity_key(Product, pid))
        if product is not None:
            set_committed_value(product, "current_stars", stars)
            set_committed_value(product, "stars_until", until)


@event.listens_for(Session, "after_flush")
def _keep_listing_in_step(session: Session, _context) -> None:
    """Recompute the products whose certificates were written in this flush (and new products)."""
    ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Certificate):
            if obj.product_id is not None:
                ids.add(obj.product_id)
            # A certificate moved to another product changes the old one too.
            ids.update(pid for pid in inspect(obj).attrs.product_id.history.deleted or () if pid is not None)
        elif isinstance(obj, Product) and obj in session.new:
            ids.add(obj.id)
    ids -= {obj.id for obj in session.deleted if isinstance(obj, Product)}
    if ids:
        _store(session, refresh_products(session.connection(), ids))
    if ids or any(isinstance(obj, _CATALOGUE_MODELS) and (obj in session.new or obj in session.deleted
                                                          or session.is_modified(obj))
                  for obj in list(session.new) + list(session.dirty) + list(session.deleted)):
        bump_version(session.connection())


def bump_version(connection, row: int = CATALOGUE) -> None:
    """Give the catalogue (or, with ``row=STOCK``, the stock) a new version token, inside the
    caller's transaction."""
    from shop.catalog.models import CatalogueVersion

    table = CatalogueVersion.__table__
    values = {"id": row, "token": secrets.token_hex(16), "changed_at": utcnow()}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**values)
    connection.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.id], set_={"token": stmt.excluded.token, "changed_at": stmt.excluded.changed_at}))


def current_version(session: Session) -> str | None:
    from shop.catalog.models import CatalogueVersion

    return session.scalar(select(CatalogueVersion.token).where(CatalogueVersion.id == CATALOGUE))


_cache: dict[str, tuple[str, object]] = {}


def cached(session: Session, key: str, compute):
    """``compute()``, or its result from an earlier call made at the same catalogue version.

    Lapsed products are refreshed first (which changes the version when there are any), so a
    cached value never outlives an expiry. Per process; one entry per key. A database without a
    version row yet gets one (the first read commits it).
    """
    refresh_stale(session)
    version = current_version(session)
    if version is None:  # a database that never had a catalogue write since it was created
        bump_version(session.connection())
        session.commit()
        version = current_version(session)
    hit = _cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = compute()
    _cache[key] = (version, value)
    return value


def mismatches(session: Session, now: datetime | None = None) -> list[tuple[int, int | None, int | None]]:
    """(product_id, stored stars, stars from the certificates) for every product the model gets wrong.

    The slow way, for tests and ``flask check-stock``: every certificate, grouped per product. A row
    whose ``stars_until`` has passed is not wrong (pages refresh it before reading it) unless its
    instant is missing.
    """
    now = now or utcnow()
    today = now.astimezone(VN_TZ).date()
    truth: dict[int, int] = {}
    for pid, stars in session.execute(
        select(Certificate.product_id, Certificate.stars).where(Certificate.valid_clause(today))
    ):
        truth[pid] = max(truth.get(pid, 0), stars)
    wrong = []
    for pid, stored, until in session.execute(select(Product.id, Product.current_stars, Product.stars_until)):
        expected = truth.get(pid)
        fresh = until is None or until > now
        if fresh and stored != expected:
            wrong.append((pid, stored, expected))
    return wrong


def read_model_mismatches(session: Session, now: datetime | None = None) -> list[str]:
    """Every way the fast reads disagree with the slow ones, as sentences (empty: all agree).

    Checks the stored stars (``mismatches``) and the per-row availability reads that pages use
    (``total_availability``, ``in_stock_clause``) against ``slow_availability``, which groups every
    live hold. Used after every test and by ``flask check-ledger``.
    """
    from shop.inventory.services import (available_units_expr, in_stock_clause, slow_availability,
                                         total_availability)

    now = now or utcnow()
    problems = [f"product {pid}: stored stars {stored}, certificates say {expected}"
                for pid, stored, expected in mismatches(session, now)]
    slow = {pid: units for pid, units in slow_availability(now).items() if units}
    ids = list(session.scalars(select(Product.id)))
    fast = total_availability(ids, now=now)
    fast = {pid: units for pid, units in fast.items() if units}
    for pid in sorted(set(slow) | set(fast)):
        if slow.get(pid, 0) != fast.get(pid, 0):
            problems.append(f"product {pid}: {fast.get(pid, 0)} available per row, {slow.get(pid, 0)} in total")
    per_row = {pid: int(units) for pid, units in session.execute(
        select(Product.id, available_units_expr(Product.id, now))) if units}
    if per_row != slow:
        problems.append(f"availability read with each product row disagrees: {sorted(set(per_row.items()) ^ set(slow.items()))[:5]}")
    in_stock = set(session.scalars(select(Product.id).where(in_stock_clause(Product.id, now))))
    for pid in sorted(in_stock ^ set(slow)):
        problems.append(f"product {pid}: in-stock filter says {pid in in_stock}, totals say {slow.get(pid, 0)}")
    return problems
