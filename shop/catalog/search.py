"""Diacritic-insensitive search.

Each product keeps two folded copies (see ``shop.text.fold``): its name, and a search text made
of both names, the producer, the group and every name its origin goes by — the places as certified,
their parents, and the units they were merged into. Folding is done in Python, so the same query
works on SQLite and PostgreSQL; the columns are kept in step by a flush hook, whoever edits.
"""
from __future__ import annotations

from sqlalchemy import and_, case, event, or_
from sqlalchemy.orm import Session

from shop.catalog.models import Product
from shop.producers.models import Producer
from shop.text import fold

MAX_QUERY_LENGTH = 100
MAX_TERMS = 8


def place_names(locality) -> list[str]:
    names, seen = [], set()
    stack = [locality] if locality is not None else []
    while stack:
        place = stack.pop()
        if place is None or id(place) in seen:  # by object: unsaved places have no id yet
            continue
        seen.add(id(place))
        names.append(place.name)
        stack.extend([place.parent, place.successor])
    return names


def product_search_text(product: Product) -> str:
    parts = [product.name, product.name_en or ""]
    producer = product.producer
    if producer is not None:
        parts.append(producer.name)
        parts.extend(place_names(producer.locality))
    if product.group is not None:
        parts.extend([product.group.name, product.group.name_en or ""])
        if product.group.parent is not None:
            parts.extend([product.group.parent.name, product.group.parent.name_en or ""])
    return fold(" ".join(p for p in parts if p))


def refresh_search_fields(product: Product) -> None:
    product.name_folded = fold(product.name)
    product.search_text = product_search_text(product)


@event.listens_for(Session, "before_flush")
def _keep_search_fields(session: Session, _context, _instances) -> None:
    with session.no_autoflush:
        touched: set[Product] = set()
        for obj in list(session.new) + list(session.dirty):
            if isinstance(obj, Product):
                touched.add(obj)
            elif isinstance(obj, Producer) and obj in session.dirty:
                touched.update(obj.products)
        for product in touched:
            refresh_search_fields(product)


def strip_controls(text: str) -> str:
    """Drop control characters (NUL among them, which PostgreSQL refuses in text parameters)."""
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n")


def parse_query(raw: str | None) -> list[str]:
    """Folded query terms, bounded so that a pasted essay cannot make a huge SQL statement."""
    folded = fold(strip_controls((raw or "")[:MAX_QUERY_LENGTH]))
    terms = [t for t in folded.split(" ") if t]
    return terms[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def match_clause(terms: list[str]):
    """Every term must appear somewhere in the search text."""
    return and_(*[Product.search_text.like(_like(t), escape="\\") for t in terms])


def rank_expression(terms: list[str]):
    """0: the name holds the whole phrase; 1: the name holds every word; 2: matched elsewhere."""
    phrase = " ".join(terms)
    all_in_name = and_(*[Product.name_folded.like(_like(t), escape="\\") for t in terms])
    return case(
        (Product.name_folded.like(_like(phrase), escape="\\"), 0),
        (all_in_name, 1),
        else_=2,
    )

