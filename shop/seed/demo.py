"""The Bắc Kạn demo catalogue: places, OCOP groups, producers, products, certificates, shops, stock.

The data lives in files under shop/seed/data/ (read and checked by shop.seed.loader); this module
turns it into rows. Real facts (see /work/shared/DOMAIN.md): the province and its districts, the OCOP
groups of 148/QĐ-TTg, the producers and products named there with their stars, the 5★ decision of
Miến dong Tài Hoan (2890/QĐ-BNN-VPĐP, 30/6/2021), the 4★ batch of 2023 and the ten OCOP shops kept
under Decision 736/QĐ-UBND of 26/5/2021. Everything else is DEMO DATA and marked so in the files:
addresses, phones, member counts, stories' details, prices, barcodes, coordinates, decision numbers
and dates (other than the two above), scores, opening stock, and every product not in DOMAIN.md.

Certificate dates are computed from today (``today_vn()``) so the demo keeps its mix in any year:
most valid, three expiring within 60 days, one expired, one revoked. A product's ``certificate``
key in products.toml says how its history is built:

- ``valid`` (the default): one certificate issued 2–31 months ago;
- ``decisions``: the real, dated ``[[product.decisions]]``;
- ``upgrade``: a certificate of ``upgrade_from`` stars, superseded by an upgrade to ``stars``;
- ``expiring``: issued so that it expires ``expires_in_days`` days from today;
- ``expired``: its only certificate lapsed 40 days ago (its status still active);
- ``revoked``: its only certificate was revoked by decision two to four weeks ago.

``valid``, ``decisions`` and ``upgrade`` are re-recognised every 36 months up to today. Scores,
decision numbers and dates not given come from a generator seeded per product, so they never shift.

``seed_demo()`` is idempotent: rows are looked up by slug or code and only missing ones are made;
certificates are written only for products that have none; opening stock (stock.csv) is received
only where a shop × product has no ledger row yet, in demo lots with dates computed from today
(``shop/seed/lots.py``). Pictures are drawn only when their file is missing.
"""
from __future__ import annotations

import calendar
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from shop.catalog.enums import CertificateKind, CertificateLevel, CertificateStatus
from shop.catalog.models import VALIDITY_MONTHS, Certificate, Product, ProductGroup
from shop.extensions import db
from shop.inventory.models import Lot, StockMovement
from shop.inventory.recalls import recall_lot
from shop.inventory.services import receive
from shop.places.enums import PlaceKind
from shop.places.models import Locality
from shop.producers.models import Producer
from shop.seed import images
from shop.seed.enums import CertificatePlan
from shop.seed.loader import DemoData, ProductSpec, load_demo_data
from shop.seed.lots import LOT_NOTE, RECALL, product_lots, split_receipt
from shop.shops.enums import ShopKind
from shop.shops.models import Shop
from shop.text import slugify
from shop.timeutil import today_vn

SEED = 2026
OPENING_NOTE = "Tồn kho đầu kỳ (demo)"

# Reform dates that change who signs a certificate.
MINISTRY_MERGED = date(2025, 3, 1)     # Bộ NN&PTNT + Bộ TN&MT → Bộ Nông nghiệp và Môi trường
PROVINCE_MERGED = date(2025, 7, 1)     # Bắc Kạn merged into Thái Nguyên; districts abolished
DECISION_148 = date(2023, 2, 24)
LEGAL_148 = "Quyết định 148/QĐ-TTg ngày 24/02/2023"
LEGAL_1048 = "Quyết định 1048/QĐ-TTg ngày 21/8/2019"


# ---- helpers ----------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the month's end (31/1 + 1 → 28/2)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _rng(*key) -> random.Random:
    """A generator seeded from the demo seed and a key, so each item's choices never shift."""
    return random.Random(":".join(str(k) for k in (SEED, *key)))


def _district_label(locality: Locality | None) -> str:
    """'huyện Na Rì' or 'thành phố Bắc Kạn': the body that gave 3★ before 7/2025."""
    for place in locality.lineage() if locality else []:
        if place.kind == PlaceKind.DISTRICT:
            return f"huyện {place.name}"
        if place.kind == PlaceKind.CITY:
            return place.name[0].lower() + place.name[1:]
    return "tỉnh Bắc Kạn"


def _issuer(stars: int, on: date, district: str) -> tuple[str, str, str]:
    """(issuing body, level, decision suffix) for a certificate of ``stars`` issued on ``on``."""
    if stars == 5:
        if on < MINISTRY_MERGED:
            return "Bộ Nông nghiệp và Phát triển nông thôn", CertificateLevel.NATIONAL, "QĐ-BNN-VPĐP"
        return "Bộ Nông nghiệp và Môi trường", CertificateLevel.NATIONAL, "QĐ-BNNMT"
    if on >= PROVINCE_MERGED:
        return "UBND tỉnh Thái Nguyên", CertificateLevel.PROVINCE, "QĐ-UBND"
    if stars == 4:
        return "UBND tỉnh Bắc Kạn", CertificateLevel.PROVINCE, "QĐ-UBND"
    return f"UBND {district}", CertificateLevel.DISTRICT, "QĐ-UBND"


def _score(stars: int, rng: random.Random) -> int:
    low, high = {3: (52, 68), 4: (71, 88), 5: (90, 96)}[stars]
    return rng.randint(low, high)


def _certificate_plan(spec: ProductSpec, today: date) -> list[dict]:
    """The certificate history of a product as dicts (oldest first), relative to ``today``."""
    rng = _rng("certificate", spec.name)
    stars, plan = spec.stars, spec.certificate
    plans: list[dict] = []
    if plan == CertificatePlan.DECISIONS:
        plans = [dict(stars=d.stars, kind=d.kind, decision=d.decision, issued=d.issued, score=d.score)
                 for d in spec.decisions]
    elif plan == CertificatePlan.EXPIRING:
        plans = [dict(stars=stars, kind=CertificateKind.NEW,
                      issued=add_months(today + timedelta(days=spec.expires_in_days), -VALIDITY_MONTHS))]
    elif plan == CertificatePlan.EXPIRED:
        plans = [dict(stars=stars, kind=CertificateKind.NEW, issued=add_months(today - timedelta(days=40), -VALIDITY_MONTHS))]
    elif plan == CertificatePlan.REVOKED:
        plans = [dict(stars=stars, kind=CertificateKind.NEW, issued=add_months(today, -rng.randint(10, 20)),
                      revoked_on=today - timedelta(days=rng.randint(15, 30)))]
    elif plan == CertificatePlan.UPGRADE:
        plans = [dict(stars=spec.upgrade_from, kind=CertificateKind.NEW, issued=add_months(today, -rng.randint(26, 33))),
                 dict(stars=stars, kind=CertificateKind.UPGRADE, issued=add_months(today, -rng.randint(3, 12)))]
    else:
        issued = add_months(today, -rng.randint(2, 31)) - timedelta(days=rng.randint(0, 25))
        plans = [dict(stars=stars, kind=CertificateKind.NEW, issued=issued)]

    for entry in plans:
        entry["expires"] = add_months(entry["issued"], VALIDITY_MONTHS)
    if plan in (CertificatePlan.VALID, CertificatePlan.DECISIONS, CertificatePlan.UPGRADE):
        # A product meant to be valid is re-recognised before it would lapse (or enter the 60-day
        # warning window), the way a producer applies about a month ahead of expiry.
        while plans[-1]["expires"] < today + timedelta(days=60):
            previous = plans[-1]
            issued = max(previous["issued"] + timedelta(days=1),
                         min(previous["expires"] - timedelta(days=30), today - timedelta(days=7)))
            plans.append(dict(stars=previous["stars"], kind=CertificateKind.RE_RECOGNITION, issued=issued,
                              expires=add_months(issued, VALIDITY_MONTHS)))
    return plans


def _build_certificates(product: Product, spec: ProductSpec, today: date) -> list[Certificate]:
    rng = _rng("decision", spec.name)
    district = _district_label(product.producer.locality)
    plans = _certificate_plan(spec, today)
    certificates = []
    for index, plan in enumerate(plans):
        body, level, suffix = _issuer(plan["stars"], plan["issued"], district)
        latest = index == len(plans) - 1
        cert = Certificate(
            product=product,
            stars=plan["stars"],
            score=plan.get("score") or _score(plan["stars"], rng),
            kind=plan["kind"],
            decision_number=plan.get("decision") or f"{rng.randint(310, 3290)}/{suffix}",  # demo
            issuing_body=body,
            level=level,
            legal_basis=LEGAL_148 if plan["issued"] >= DECISION_148 else LEGAL_1048,
            product_name_certified=product.name,
            producer_name_certified=product.producer.name,
            issued_on=plan["issued"],
            expires_on=plan["expires"],
            status=CertificateStatus.ACTIVE if latest else CertificateStatus.SUPERSEDED,
        )
        if plan.get("revoked_on"):
            cert.status = CertificateStatus.REVOKED
            cert.revoked_on = plan["revoked_on"]
            cert.revocation_decision = f"{rng.randint(310, 3290)}/QĐ-UBND"  # demo
            cert.revocation_reason = spec.revocation_reason
        certificates.append(cert)
    return certificates


# ---- seeding ----------------------------------------------------------------------------------

def _by(model, column, keys) -> dict:
    keys = list(keys)
    return {getattr(row, column): row
            for row in db.session.scalars(select(model).where(getattr(model, column).in_(keys)))}


def _seed_localities(data: DemoData, made: Counter) -> dict[str, Locality]:
    places = _by(Locality, "slug", [p.slug for p in data.places])
    for spec in data.places:  # parents come first in the file
        if spec.slug not in places:
            places[spec.slug] = Locality(slug=spec.slug, name=spec.name, kind=spec.kind,
                                         parent=places.get(spec.parent), successor=places.get(spec.successor))
            db.session.add(places[spec.slug])
            made["localities"] += 1
    return places


def _seed_groups(data: DemoData, made: Counter) -> dict[str, ProductGroup]:
    groups = _by(ProductGroup, "code", [g.code for g in data.groups])
    position = Counter()
    for spec in data.groups:
        parent_code = spec.parent_code
        position[parent_code] += 1
        if spec.code not in groups:
            groups[spec.code] = ProductGroup(
                code=spec.code, slug=slugify(spec.name), name=spec.name, name_en=spec.name_en,
                parent=groups.get(parent_code) if parent_code else None, position=position[parent_code],
            )
            db.session.add(groups[spec.code])
            made["groups"] += 1
    return groups


def _seed_producers(data: DemoData, places: dict[str, Locality], made: Counter) -> dict[str, Producer]:
    producers = _by(Producer, "slug", [p.slug for p in data.producers])
    for spec in data.producers:
        if spec.slug in producers:
            continue
        producers[spec.slug] = Producer(
            slug=spec.slug, name=spec.name, kind=spec.kind, locality=places[spec.locality],
            address=spec.address, phone=spec.phone, story=spec.story, story_en=spec.story_en,
            cover_image=_picture_names("producers", spec.slug)[0],
        )
        db.session.add(producers[spec.slug])
        made["producers"] += 1
    return producers


def _seed_products(data: DemoData, producers, groups, today: date, made: Counter) -> dict[str, Product]:
    products = _by(Product, "slug", [p.slug for p in data.products])
    for spec in data.products:
        if spec.slug in products:
            continue
        product = Product(
            producer=producers[spec.producer], group=groups[spec.group], slug=spec.slug,
            name=spec.name, name_en=spec.name_en, description=spec.description,
            description_en=spec.description_en, unit=spec.unit, unit_en=spec.unit_en,
            price=spec.price, barcode=spec.barcode, weight_grams=spec.weight,
            image=_picture_names("products", spec.slug)[0], listed=True,
        )
        db.session.add(product)
        products[spec.slug] = product
        made["products"] += 1
    db.session.flush()

    with_certificates = set(db.session.scalars(
        select(Certificate.product_id).where(Certificate.product_id.in_([p.id for p in products.values()]))
    ))
    for spec in data.products:
        product = products[spec.slug]
        if product.id in with_certificates:
            continue
        certificates = _build_certificates(product, spec, today)
        db.session.add_all(certificates)
        made["certificates"] += len(certificates)
    return products


def _seed_shops(data: DemoData, places: dict[str, Locality], made: Counter) -> dict[str, Shop]:
    shops = _by(Shop, "slug", [s.slug for s in data.shops])
    for spec in data.shops:
        if spec.slug in shops:
            continue
        shops[spec.slug] = Shop(
            slug=spec.slug, name=spec.name, kind=spec.kind, address=spec.address,
            locality=places[spec.locality], phone=spec.phone,
            opening_hours=spec.hours_vi, opening_hours_en=spec.hours_en,
            latitude=spec.lat, longitude=spec.lng,
            offers_pickup=spec.offers_pickup, ships_online=spec.ships_online, active=True,
        )
        db.session.add(shops[spec.slug])
        made["shops" if spec.kind == ShopKind.SHOP else "warehouses"] += 1
    return shops


def _seed_stock(data: DemoData, shops, products, today: date, made: Counter) -> None:
    """Receive stock.csv's opening stock, in file order, where a shop × product has no ledger yet,
    spread over the product's demo lots (``shop/seed/lots.py``); then recall the demo's recalled lot."""
    db.session.flush()  # ids for new shops and products
    stocked = set(db.session.execute(
        select(StockMovement.shop_id, StockMovement.product_id)
        .where(StockMovement.product_id.in_([p.id for p in products.values()]))
        .distinct()
    ).all())
    made_lots: dict[tuple[int, str], Lot] = {}
    for row in data.stock:
        shop, product = shops[row.shop], products[row.product]
        if (shop.id, product.id) in stocked:
            continue  # this shop already has a ledger for the product: never add opening stock twice
        rng = _rng("lots", row.shop, row.product)
        lots = product_lots(row.product, today)
        for index, units in split_receipt(row.quantity, lots, rng):
            key = (product.id, lots[index]["code"])
            lot = made_lots.get(key) or made_lots.setdefault(key, _demo_lot(product, lots[index]))
            receive(shop.id, product.id, units, note=OPENING_NOTE, lot_id=lot.id)
        stocked.add((shop.id, product.id))
        made["receipts"] += 1
    slug, index, reason, reference = RECALL
    plan = product_lots(slug, today)
    lot = made_lots.get((products[slug].id, plan[index]["code"])) if slug in products else None
    if lot is not None and lot.recalled_at is None and lot.note == LOT_NOTE:
        recall_lot(lot.id, reason, reference=reference, actor="demo seed")
        made["recalls"] += 1


def _demo_lot(product: Product, spec: dict) -> Lot:
    """The product's demo lot with this code, created (dates as planned, past ones included: the
    lot was received while it was still good) if missing."""
    lot = db.session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == spec["code"]))
    if lot is None:
        lot = Lot(product_id=product.id, code=spec["code"], note=LOT_NOTE)
        lot.set_dates(spec["produced_on"], spec["best_before"])
        db.session.add(lot)
        db.session.flush()
    return lot


# Version 2 of the demo pictures carries no text (see shop/seed/images.py). Rows that still point
# at a version 1 picture (text drawn on it) are moved to the new file, which is drawn if missing.
PICTURES_VERSION = 2


def _picture_names(folder: str, slug: str) -> tuple[str, str]:
    """(current file name, the version 1 name) of a demo picture, relative to UPLOAD_FOLDER."""
    return f"{folder}/{slug}-v{PICTURES_VERSION}.jpg", f"{folder}/{slug}.jpg"


def _ensure_pictures(data: DemoData, producers, products, made: Counter) -> None:
    """Draw the demo pictures that are missing on disk (rows keep pointing at them).

    A picture a shop replaced (any other file name) is left alone.
    """
    root = Path(current_app.config["UPLOAD_FOLDER"])
    for spec in data.producers:
        producer = producers[spec.slug]
        expected, legacy = _picture_names("producers", spec.slug)
        if producer.cover_image is None or producer.cover_image == legacy:
            producer.cover_image = expected
        if producer.cover_image == expected and not (root / expected).is_file():
            images.cover_picture(root / expected, scene=spec.scene, seed=spec.slug)
            made["pictures"] += 1
    for spec in data.products:
        product = products[spec.slug]
        expected, legacy = _picture_names("products", spec.slug)
        if product.image is None or product.image == legacy:
            product.image = expected
        if product.image == expected and not (root / expected).is_file():
            images.product_picture(root / expected, unit=product.unit,
                                   group_code=product.group.code if product.group else spec.group,
                                   seed=spec.slug)
            made["pictures"] += 1


def seed_demo(data: DemoData | None = None) -> str:
    """Load the Bắc Kạn demo catalogue, creating only what is missing, and commit.

    ``data`` defaults to the files in shop/seed/data/ (``load_demo_data()``, which raises
    ``DemoDataError`` for a malformed file before anything is written). Returns a one-line summary
    of what was created.
    """
    data = data or load_demo_data()
    today = today_vn()
    made: Counter = Counter()
    places = _seed_localities(data, made)
    groups = _seed_groups(data, made)
    producers = _seed_producers(data, places, made)
    # Flush the places first: the search hook walks a product's places by id when the product is
    # flushed, and rows without ids yet would be cut from its search text.
    db.session.flush()
    products = _seed_products(data, producers, groups, today, made)
    shops = _seed_shops(data, places, made)
    _seed_stock(data, shops, products, today, made)
    db.session.flush()
    _ensure_pictures(data, producers, products, made)
    db.session.commit()

    created = {k: v for k, v in made.items() if k != "pictures"}
    pictures = f"; {made['pictures']} pictures drawn" if made["pictures"] else ""
    if not any(created.values()):
        return "Demo catalogue already present: nothing to do" + pictures
    return (
        f"Seeded: {made['localities']} localities, {made['groups']} product groups, "
        f"{made['producers']} producers, {made['products']} products, {made['certificates']} certificates, "
        f"{made['shops']} shops, {made['warehouses']} warehouse; {made['receipts']} stock receipts"
        + pictures
    )
