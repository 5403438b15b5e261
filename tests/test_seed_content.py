"""The demo seed writes exactly the expected catalogue: places, groups, producers, products,
certificates, shops and opening stock, field by field.

The expectation (tests/data/demo_seed.json) was taken from the seed as it was when its data still
lived in Python literals, so moving the data to files (shop/seed/data/) is checked against the
database it produced before. Certificates are dated relative to today, so the seed runs with today
fixed at ``TODAY``. Long texts (stories, descriptions, opening hours) are compared by SHA-256.

A deliberate change to the demo data changes this file: regenerate it with
``UPDATE_SEED_SNAPSHOT=1 .venv/bin/python -m pytest tests/test_seed_content.py`` and review the diff.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

from sqlalchemy import select

from shop.catalog.models import Certificate, Product, ProductGroup
from shop.extensions import db
from shop.inventory.models import StockLevel, StockMovement
from shop.places.models import Locality
from shop.producers.models import Producer
from shop.seed import demo
from shop.shops.models import Shop

TODAY = date(2026, 11, 30)
SNAPSHOT = Path(__file__).parent / "data" / "demo_seed.json"


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()[:16]


def _slug(row) -> str | None:
    return row.slug if row is not None else None


def seed_content() -> dict:
    """The seeded catalogue as plain, ordered JSON values (no ids, no timestamps)."""
    places = [[p.slug, p.name, p.kind, _slug(p.parent), _slug(p.successor)]
              for p in db.session.scalars(select(Locality).order_by(Locality.id))]
    groups = [[g.code, g.slug, g.name, g.name_en, g.parent.code if g.parent else None, g.position]
              for g in db.session.scalars(select(ProductGroup).order_by(ProductGroup.id))]
    producers = [[p.slug, p.name, str(p.kind), _slug(p.locality), p.address, p.phone, _digest(p.story),
                  _digest(p.story_en), p.cover_image]
                 for p in db.session.scalars(select(Producer).order_by(Producer.id))]
    products = [[p.slug, p.name, p.name_en, p.producer.slug, p.group.code, p.unit, p.unit_en, p.price,
                 p.barcode, p.weight_grams, p.image, p.listed, _digest(p.description),
                 _digest(p.description_en)]
                for p in db.session.scalars(select(Product).order_by(Product.id))]
    certificates = [[c.product.slug, c.stars, c.score, str(c.kind), c.decision_number, c.issuing_body,
                     str(c.level), c.legal_basis, c.product_name_certified, c.producer_name_certified,
                     c.issued_on.isoformat(), c.expires_on.isoformat(), str(c.status),
                     c.revoked_on.isoformat() if c.revoked_on else None, c.revocation_decision,
                     _digest(c.revocation_reason)]
                    for c in db.session.scalars(select(Certificate).order_by(Certificate.id))]
    shops = [[s.slug, s.name, str(s.kind), s.address, _slug(s.locality), s.phone,
              _digest(s.opening_hours), _digest(s.opening_hours_en), str(s.latitude), str(s.longitude),
              s.offers_pickup, s.ships_online, s.active]
             for s in db.session.scalars(select(Shop).order_by(Shop.id))]
    shop_slugs = {s.id: s.slug for s in db.session.scalars(select(Shop))}
    product_slugs = {p.id: p.slug for p in db.session.scalars(select(Product))}
    ledger = [[shop_slugs[m.shop_id], product_slugs[m.product_id], m.delta, str(m.reason), m.note]
              for m in db.session.scalars(select(StockMovement).order_by(StockMovement.id))]
    levels = sorted([shop_slugs[s.shop_id], product_slugs[s.product_id], s.on_hand]
                    for s in db.session.scalars(select(StockLevel)))
    return dict(places=places, groups=groups, producers=producers, products=products,
                certificates=certificates, shops=shops, ledger=ledger, stock_levels=levels)


def _as_json(content: dict) -> str:
    """One row per line, so a change to the demo data reads as a short diff."""
    parts = []
    for key, rows in content.items():
        lines = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in rows)
        parts.append(f" {json.dumps(key)}: [\n{lines}\n ]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def test_demo_seed_writes_the_expected_catalogue(app, monkeypatch):
    monkeypatch.setattr(demo, "today_vn", lambda: TODAY)
    demo.seed_demo()
    content = seed_content()
    if os.environ.get("UPDATE_SEED_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(_as_json(content), encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for part in expected:
        assert len(content[part]) == len(expected[part]), part
        for got, want in zip(content[part], expected[part]):
            assert got == want, part
    assert content.keys() == expected.keys()
    # The numbers a reader of the README would check by hand.
    assert len(expected["products"]) >= 45 and len(expected["shops"]) == 11
