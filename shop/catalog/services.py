"""Reading the catalogue: browsing with filters, search, and the product page.

Every function here runs a fixed number of SQL statements whatever the size of the catalogue
(joins, subqueries and ``selectinload`` rather than per-row lazy loads).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog import listing, search
# The filter object and its one reader live in shop.catalog.filters; re-exported for callers.
from shop.catalog.filters import (  # noqa: F401
    DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, MAX_PRICE, SORTS, CatalogFilters, FilterReading, Ref, parse_filters,
    read_filters,
)
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.errors import NotFound
from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.inventory.services import available_units_expr, in_stock_clause, next_lots, shop_available_expr
from shop.places.models import Locality
from shop.places.services import with_lineage
from shop.producers.models import Producer
from shop.shops.models import Shop
from shop.text import fold
from shop.timeutil import utcnow

# Listings count at most this many pages of results (and serve no page past them): past that,
# people narrow the filters, and the count stays cheap whatever the catalogue's size.
MAX_PAGES = 50

def _by_ref(model, ref: Ref):
    """The condition "this row is the one ``ref`` names": a slug, or a numeric id."""
    return model.id == ref if isinstance(ref, int) else model.slug == ref


def group_ids(ref: Ref):
    """SELECT of the ids of the group named by ``ref`` and every group below it (any depth).

    A recursive CTE: one statement whatever the depth; UNION (not UNION ALL) stops at cycles.
    """
    tree = select(ProductGroup.id).where(_by_ref(ProductGroup, ref)).cte("group_tree", recursive=True)
    tree = tree.union(select(ProductGroup.id).where(ProductGroup.parent_id == tree.c.id))
    return select(tree.c.id)


def locality_ids(ref: Ref):
    """SELECT of the ids of every place a locality filter covers, the same places search knows it by.

    From the place named by ``ref``: the places inside it (``parent``), and the places merged into
    it (``successor``: Bắc Kạn merged into Thái Nguyên on 1/7/2025, so Thái Nguyên covers every
    district and commune of Bắc Kạn), repeated to any depth. An old place covers only what was in
    it, not its successor. One recursive CTE; UNION stops at cycles.
    """
    tree = select(Locality.id).where(_by_ref(Locality, ref)).cte("locality_tree", recursive=True)
    tree = tree.union(select(Locality.id).where(
        or_(Locality.parent_id == tree.c.id, Locality.successor_id == tree.c.id)))
    return select(tree.c.id)


@dataclass
class CatalogItem:
    product: Product
    stars: int
    available: int


@dataclass
class CatalogPage:
    items: list[CatalogItem]
    total: int  # matching products, counted up to ``MAX_PAGES`` pages' worth (see ``capped``)
    page: int
    per_page: int
    capped: bool = False  # more products match than were counted: narrow the filters to see them

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _conditions(filters: CatalogFilters, now):
    conditions = [listing.sellable_clause(now)]
    if filters.stars:
        conditions.append(Product.current_stars.in_(filters.stars))
    if filters.group is not None:
        conditions.append(Product.group_id.in_(group_ids(filters.group)))
    if filters.producer is not None:
        conditions.append(Product.producer_id == select(Producer.id).where(_by_ref(Producer, filters.producer))
                          .scalar_subquery())
    if filters.locality is not None:
        conditions.append(Product.producer_id.in_(
            select(Producer.id).where(Producer.locality_id.in_(locality_ids(filters.locality)))))
    if filters.min_price is not None:
        conditions.append(Product.price >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Product.price <= filters.max_price)
    if filters.in_stock:
        conditions.append(in_stock_clause(Product.id, now))
    return conditions


def browse(filters: CatalogFilters, per_page: int | None = None, *, count: bool = True) -> CatalogPage:
    """Sellable products (listed, with a valid certificate now) matching ``filters``, one page.

    ``per_page`` (products per page) overrides ``filters.per_page``; without either, 24. A page
    past the last one gives the last page. ``available`` is units that can be sold now: on hand
    less the holds that still count, at active shops, each shop counting at least 0 — the number
    the product page shows; ``in_stock`` keeps products where it is above zero. Group and locality
    filters include what is below them (``group_ids``, ``locality_ids``).

    Reads the listing read model (``shop.catalog.listing``) through indexes that match each sort,
    so the page costs the same at 1,000 or 100,000 products: a bounded count (at most ``MAX_PAGES``
    pages' worth of rows; ``capped`` says there are more), the page's rows, and the availability of
    those rows only. Search (``q``) keeps the products ``search.ranking`` ranks (a bounded
    candidate list from the search index). ``count=False`` skips the count (the home page shows no total).
    """
    per_page = per_page or filters.per_page or DEFAULT_PER_PAGE
    listing.refresh_stale(db.session)
    now = utcnow()
    conditions = _conditions(filters, now)
    # A search keeps the products it ranks (shop.catalog.search); "!!" or "%" keeps none.
    ranking = search.ranking(filters.q) if filters.q.strip() else None
    if ranking is not None:
        conditions.append(ranking.condition())
    where = and_(*conditions)

    def matching(*columns):
        return select(*columns).where(where)

    limit = MAX_PAGES * per_page
    total, capped = 0, False
    if count:
        counted = db.session.scalar(
            select(func.count()).select_from(matching(Product.id).limit(limit + 1).subquery()))
        total, capped = min(counted, limit), counted > limit
    available = available_units_expr(Product.id, now)
    stars_first = [Product.current_stars.desc(), Product.name_folded]
    order = {
        "stars": stars_first,
        "price_asc": [Product.price, Product.name_folded],
        "price_desc": [Product.price.desc(), Product.name_folded],
        "name": [Product.name_folded],
        "newest": [Product.created_at.desc()],
        "relevance": [ranking.order(), Product.current_stars.desc(), available.desc(), Product.name_folded]
        if ranking is not None else stars_first,
    }[filters.sort]
    page = min(filters.page, max(1, math.ceil(total / per_page))) if count else 1
    newest = filters.sort == "newest"
    rows = db.session.execute(
        matching(Product, available)
        .options(joinedload(Product.producer, innerjoin=True))
        .order_by(*order, Product.id.desc() if newest else Product.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [CatalogItem(product=p, stars=p.current_stars, available=int(units)) for p, units in rows]
    return CatalogPage(items=items, total=total, page=page, per_page=per_page, capped=capped)


def featured(limit: int = 8) -> list[CatalogItem]:
    """Four- and five-star products with stock, best first, for the home page (no count)."""
    page = browse(CatalogFilters(stars=[4, 5], in_stock=True, sort="stars"), per_page=limit, count=False)
    return page.items


@dataclass
class MenuOption:
    """One choice of a filter menu: ``value`` is the slug the form sends; ``depth`` the indent
    (subgroups and places inside places); ``count`` products on sale beneath it; ``former`` marks
    a unit merged into its menu parent (Bắc Kạn under Thái Nguyên)."""

    obj: SimpleNamespace  # id, slug, name, name_en of the group, producer or place (``_snapshot``)
    depth: int
    count: int
    former: bool = False

    @property
    def value(self) -> str:
        return self.obj.slug

    @property
    def indent(self) -> str:
        """Non-breaking spaces that show the depth inside a ``<select>`` (options cannot nest)."""
        return "\u00a0\u00a0\u00a0" * self.depth

    def matches(self, ref) -> bool:
        """True when the filter ``ref`` (slug or id) names this option."""
        return ref is not None and (ref == self.obj.slug or ref == self.obj.id)


def _tree_menu(nodes: dict, children: dict, counts: dict, selected, former=frozenset()) -> list[MenuOption]:
    """Depth-first menu of ``nodes`` ({id: row}, in display order) from the roots (rows nobody
    lists as a child): only rows with products beneath them, each once; the ``selected`` row (a
    slug or id) is added at the end if it is empty, so that the form still shows it."""
    placed = {child for kids in children.values() for child in kids}
    menu, seen = [], set()

    def walk(node_id: int, depth: int) -> None:
        if node_id in seen or not counts.get(node_id):  # nothing beneath an empty row either
            return
        seen.add(node_id)
        menu.append(MenuOption(nodes[node_id], depth, counts[node_id], former=node_id in former))
        for child in children.get(node_id, []):
            walk(child, depth + 1)

    for node_id in nodes:
        if node_id not in placed:
            walk(node_id, 0)
    if selected is not None and not any(option.matches(selected) for option in menu):
        menu.extend(MenuOption(node, 0, 0) for node in nodes.values() if node.slug == selected or node.id == selected)
    return menu


def _sort_key(row):
    return (getattr(row, "position", 0) or 0, fold(row.name), row.id)


def facets(filters: CatalogFilters | None = None) -> dict:
    """The filter form's menus, each a list of ``MenuOption``, offering only what finds something.

    - ``groups``: every group with products on sale in it or its subgroups; subgroups indented
      under their group (148/QĐ-TTg order).
    - ``producers``: producers with products on sale, by name.
    - ``localities``: today's units at the top; inside each, the places within it and the units
      merged into it (``former``), as the locality filter reads them (``locality_ids``); only
      places with products on sale beneath them.
    The option the current ``filters`` select is always offered, even when empty, so the form
    shows what is applied. Counts are sellable products (listed, valid certificate today),
    whatever the other filters. The menus are built once per catalogue version (``listing.cached``)
    from plain snapshots of the rows (id, slug, name, name_en), then only the selection is added.
    """
    filters = filters or CatalogFilters()
    menus = listing.cached(db.session, "catalog.facets", _facet_menus)
    out = {}
    for key, selected in (("groups", filters.group), ("producers", filters.producer),
                          ("localities", filters.locality)):
        menu, nodes = menus[key]
        if selected is not None and not any(option.matches(selected) for option in menu):
            menu = menu + [MenuOption(node, 0, 0) for node in nodes if node.slug == selected or node.id == selected]
        out[key] = menu
    return out


def _snapshot(row) -> SimpleNamespace:
    """What a menu shows of a row, detached from the session so that it can be cached."""
    return SimpleNamespace(id=row.id, slug=row.slug, name=row.name, name_en=getattr(row, "name_en", "") or "")


def _facet_menus() -> dict:
    """{"groups" | "producers" | "localities": (menu without a selection, every row)}, as snapshots.

    Groups the sellable products by group, producer and place (the whole catalogue: hence cached).
    """
    rows = db.session.execute(
        select(Product.group_id, Product.producer_id, Producer.locality_id, func.count(Product.id))
        .join(Producer, Producer.id == Product.producer_id)
        .where(listing.sellable_clause())
        .group_by(Product.group_id, Product.producer_id, Producer.locality_id)
    ).all()

    # Groups: a product counts for its group and every group above it.
    groups = {g.id: g for g in db.session.scalars(select(ProductGroup))}
    group_counts: dict[int, int] = {}
    for group_id, _producer_id, _locality_id, n in rows:
        node, seen = groups.get(group_id), set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            group_counts[node.id] = group_counts.get(node.id, 0) + n
            node = groups.get(node.parent_id)
    group_children: dict[int, list[int]] = {}
    for group in sorted(groups.values(), key=_sort_key):
        if group.parent_id in groups:
            group_children.setdefault(group.parent_id, []).append(group.id)
    group_menu = _tree_menu({g.id: g for g in sorted(groups.values(), key=_sort_key)}, group_children,
                            group_counts, None)

    # Producers.
    producer_counts: dict[int, int] = {}
    for _group_id, producer_id, _locality_id, n in rows:
        producer_counts[producer_id] = producer_counts.get(producer_id, 0) + n
    producers = db.session.scalars(select(Producer).order_by(Producer.name, Producer.id)).all()
    producer_menu = _tree_menu({p.id: p for p in producers}, {}, producer_counts, None)

    # Places: a product counts for its producer's place and every place that covers it, going up
    # through parents and successors (the inverse of ``locality_ids``).
    places = {p.id: p for p in sorted(db.session.scalars(select(Locality)), key=_sort_key)}
    place_counts: dict[int, int] = {}
    for _group_id, _producer_id, locality_id, n in rows:
        stack, seen = [locality_id], set()
        while stack:
            place = places.get(stack.pop())
            if place is None or place.id in seen:
                continue
            seen.add(place.id)
            place_counts[place.id] = place_counts.get(place.id, 0) + n
            stack.extend([place.parent_id, place.successor_id])
    place_children: dict[int, list[int]] = {}
    merged_in: dict[int, list[int]] = {}
    for place in places.values():
        if place.successor_id in places:
            merged_in.setdefault(place.successor_id, []).append(place.id)
        if place.parent_id in places:
            place_children.setdefault(place.parent_id, []).append(place.id)
    for unit, merged in merged_in.items():  # the places within a unit first, then the old units
        place_children.setdefault(unit, []).extend(merged)
    place_menu = _tree_menu(places, place_children, place_counts, None,
                            former={p for merged in merged_in.values() for p in merged})

    def snap(menu: list[MenuOption]) -> list[MenuOption]:
        return [MenuOption(_snapshot(o.obj), o.depth, o.count, o.former) for o in menu]

    return {"groups": (snap(group_menu), [_snapshot(g) for g in groups.values()]),
            "producers": (snap(producer_menu), [_snapshot(p) for p in producers]),
            "localities": (snap(place_menu), [_snapshot(p) for p in places.values()])}


@dataclass
class ProductDetail:
    product: Product
    certificate: Certificate | None  # the valid one, if any
    stock: list[tuple[Shop, int]]  # shops with units available (on hand less active holds)
    # {shop_id: the lot the next buyer would receive there (FEFO, after live holds)}
    next_lots: dict = field(default_factory=dict)

    @property
    def sellable(self) -> bool:
        return self.product.listed and self.certificate is not None

    @property
    def total_available(self) -> int:
        return sum(units for _shop, units in self.stock)


def product_detail(slug: str) -> ProductDetail:
    """Everything the product page shows, in five queries; unknown slug → ``NotFound``.

    Stock per shop reads only this product's stock rows and live holds; the lots the next buyer
    would receive (their best-before dates) only this product's lot stock.
    """
    listing.refresh_stale(db.session)
    product = db.session.scalars(
        select(Product)
        .where(Product.slug == slug[:160], Product.listed.is_(True))
        .options(
            *with_lineage(Product.producer, Producer.locality),
            joinedload(Product.group),
            selectinload(Product.certificates),
        )
    ).first()
    if product is None:
        raise NotFound(_("No such product."))
    available = shop_available_expr()
    stock = db.session.execute(
        select(Shop, available)
        .join(StockLevel, StockLevel.shop_id == Shop.id)
        .where(StockLevel.product_id == product.id, available > 0, Shop.active.is_(True))
        .order_by(available.desc(), Shop.name)
    ).all()
    stock = [(shop, int(units)) for shop, units in stock]
    lots = next_lots(product.id, [shop.id for shop, _units in stock]) if stock else {}
    return ProductDetail(product=product, certificate=product.valid_certificate(), stock=stock, next_lots=lots)
