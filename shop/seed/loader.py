"""Read the demo catalogue's data files (shop/seed/data/) into typed, checked records.

Files (UTF-8; the TOML files are read by the standard library's ``tomllib``, decimals as
``Decimal``; CSV files have a header row, and lines starting with ``#`` are comments):

- ``localities.csv``: slug, name, kind, parent, successor (parents before children; slugs of rows
  above) → :class:`Place`
- ``product_groups.csv``: code, name, name_en (a subgroup's code is its parent's code, a dot and a
  number; parents first) → :class:`Group`
- ``producers.toml``: ``[[producer]]`` tables → :class:`ProducerSpec`
- ``products.toml``: ``[[product]]`` tables, each with optional ``[[product.decisions]]`` →
  :class:`ProductSpec`, :class:`Decision`
- ``shops.toml``: ``[hours.<name>]`` tables (``vi``, ``en``) and ``[[shop]]`` tables that name one
  of them → :class:`ShopSpec`
- ``stock.csv``: shop, product, quantity → :class:`StockRow` (the opening stock, received in file
  order, one ledger row each)

Coded values (kinds, certificate kinds) are written as the database stores them.

Any problem (bad syntax, a missing or unknown key or column, a value of the wrong type or out of
range, a reference to a row that does not exist, a duplicate slug) raises :class:`DemoDataError`
naming the file, the row or key, and the reason. Records are a field-for-field mirror of the files:
adding a column (say a lot code and best-before date to ``stock.csv``) means adding a field with a
default to the record and the column to the file.
"""
from __future__ import annotations

import csv
import dataclasses
import enum
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from shop.catalog.enums import CertificateKind
from shop.places.enums import PlaceKind
from shop.producers.enums import ProducerKind
from shop.seed.enums import CertificatePlan
from shop.shops.enums import ShopKind

#: The data files shipped with the package.
DATA_DIR: Traversable = resources.files("shop.seed") / "data"

#: How a product's certificate history is built (see shop.seed.demo._certificate_plan).
CERTIFICATE_PLANS = tuple(CertificatePlan)


class DemoDataError(ValueError):
    """A demo data file is malformed: ``file``, where in it (row or key) and why."""

    def __init__(self, file: str, where: str, reason: str) -> None:
        self.file, self.where, self.reason = file, where, reason
        super().__init__(f"{file}: {where}: {reason}" if where else f"{file}: {reason}")


# ---- records ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    slug: str
    name: str
    kind: PlaceKind
    parent: str | None = None
    successor: str | None = None


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    name_en: str

    @property
    def parent_code(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None


@dataclass(frozen=True)
class ProducerSpec:
    slug: str
    name: str
    kind: ProducerKind
    locality: str
    address: str
    phone: str
    story: str
    story_en: str
    scene: str = "terraces"  # the cover picture's scene (shop.seed.images.cover_picture)


@dataclass(frozen=True)
class Decision:
    """A real, dated certification decision."""
    stars: int
    kind: CertificateKind
    decision: str
    issued: date
    score: int


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    producer: str
    group: str
    name: str
    name_en: str
    unit: str
    unit_en: str
    price: int  # whole đồng
    stars: int
    description: str
    description_en: str
    weight: int | None = None  # grams; services (homestays) have none
    barcode: str | None = None  # EAN-13
    certificate: str = CertificatePlan.VALID  # one of CERTIFICATE_PLANS
    expires_in_days: int | None = None  # certificate = "expiring"
    upgrade_from: int | None = None  # certificate = "upgrade": the stars before
    revocation_reason: str | None = None  # certificate = "revoked"
    decisions: tuple[Decision, ...] = ()  # certificate = "decisions"


@dataclass(frozen=True)
class ShopSpec:
    slug: str
    name: str
    locality: str
    address: str
    phone: str
    hours: str  # the name of an [hours.<name>] table
    lat: Decimal
    lng: Decimal
    kind: ShopKind = ShopKind.SHOP
    offers_pickup: bool = True
    ships_online: bool = False
    hours_vi: str = ""  # filled from [hours.<name>]
    hours_en: str = ""


@dataclass(frozen=True)
class StockRow:
    shop: str
    product: str
    quantity: int


@dataclass(frozen=True)
class DemoData:
    places: list[Place] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    producers: list[ProducerSpec] = field(default_factory=list)
    products: list[ProductSpec] = field(default_factory=list)
    shops: list[ShopSpec] = field(default_factory=list)
    stock: list[StockRow] = field(default_factory=list)


# ---- reading ------------------------------------------------------------------------------------

def _type_name(kind: Any) -> str:
    return {str: "text", int: "a whole number", bool: "true or false", date: "a date (YYYY-MM-DD)",
            Decimal: "a decimal number"}.get(kind, getattr(kind, "__name__", str(kind)))


def _check_value(kind: Any, value: Any, file: str, where: str) -> Any:
    """``value`` as ``kind`` (a field's annotation), or DemoDataError."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return None if value is None else _check_value(options[0], value, file, where)
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if not isinstance(value, list):
            raise DemoDataError(file, where, "expected a list of tables")
        return tuple(_record(item, entry, file, f"{where}[{i}]") for i, entry in enumerate(value, 1))
    if kind is Decimal and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member(kind, value, file, where)
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is date and type(value) is not date:  # a TOML datetime is not a date
        ok = False
    if not ok:
        raise DemoDataError(file, where, f"expected {_type_name(kind)}, got {value!r}")
    return value


def _member(kind: type[enum.Enum], value: Any, file: str, where: str) -> Any:
    """``value`` as a member of the vocabulary ``kind`` (a coded value: ``cooperative``), or DemoDataError."""
    try:
        return kind(value)
    except ValueError:
        raise DemoDataError(file, where, f"expected one of {', '.join(m.value for m in kind)}, got {value!r}") from None


def _record(cls: type, table: Any, file: str, where: str, skip: tuple[str, ...] = ()) -> Any:
    """A ``cls`` dataclass from a TOML table (or a converted CSV row), checking keys and types."""
    if not isinstance(table, dict):
        raise DemoDataError(file, where, "expected a table of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise DemoDataError(file, where, f"unknown key {unknown[0]!r} (expected one of {', '.join(fields)})")
    values = {}
    for name, spec in fields.items():
        if name not in table:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise DemoDataError(file, where, f"missing key {name!r}")
            continue
        values[name] = _check_value(hints[name], table[name], file, f"{where}, key {name!r}")
    return cls(**values)


def _read_text(folder: Traversable | Path, name: str) -> str:
    path = folder / name
    if not path.is_file():
        raise DemoDataError(name, "", f"file not found in {folder}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DemoDataError(name, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_toml(folder: Traversable | Path, name: str) -> dict:
    """The parsed TOML file ``name`` (decimals as Decimal)."""
    try:
        return tomllib.loads(_read_text(folder, name), parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(name, "", f"not valid TOML: {exc}") from exc


def _from_text(kind: Any, text: str, file: str, where: str) -> Any:
    """A CSV cell as ``kind``: an empty cell is None for an optional field."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        if text == "":
            return None
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if kind is str:
        return text
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member(kind, text, file, where)
    if kind is int:
        if not (text.isascii() and text.isdigit()):
            raise DemoDataError(file, where, f"expected a whole number, got {text!r}")
        return int(text)
    if kind is date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise DemoDataError(file, where, f"expected a date (YYYY-MM-DD), got {text!r}") from None
    if kind is bool and text in ("true", "false"):
        return text == "true"
    raise DemoDataError(file, where, f"expected {_type_name(kind)}, got {text!r}")


def read_csv(folder: Traversable | Path, name: str, cls: type) -> list[tuple[int, Any]]:
    """(line number, ``cls`` record) for each row of the CSV file ``name``; errors name the line."""
    lines = _read_text(folder, name).splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise DemoDataError(name, "", "no header row")
    hints = typing.get_type_hints(cls)
    reader = csv.reader([line for _, line in numbered], strict=True)
    try:
        header = next(reader)
        rows = list(reader)
    except csv.Error as exc:
        raise DemoDataError(name, f"line {numbered[reader.line_num - 1][0]}", f"not valid CSV: {exc}") from exc
    header_line = numbered[0][0]
    if len(set(header)) != len(header):
        raise DemoDataError(name, f"line {header_line}", "a column appears twice in the header")
    for column in header:
        if column not in hints:
            raise DemoDataError(name, f"line {header_line}",
                                f"unknown column {column!r} (expected {', '.join(hints)})")
    records = []
    for (line_no, _), cells in zip(numbered[1:], rows):
        where = f"line {line_no}"
        if len(cells) != len(header):
            raise DemoDataError(name, where, f"{len(cells)} cells for {len(header)} columns")
        table = {column: _from_text(hints[column], cell.strip(), name, f"{where}, column {column!r}")
                 for column, cell in zip(header, cells)}
        records.append((line_no, _record(cls, table, name, where)))
    return records


def _tables(document: dict, key: str, file: str) -> list:
    tables = document.get(key)
    if not isinstance(tables, list) or not tables:
        raise DemoDataError(file, "", f"expected [[{key}]] tables")
    return tables


# ---- the catalogue ------------------------------------------------------------------------------

def _unique(items: list, key: str, file: str, label: str) -> None:
    seen: set = set()
    for number, item in enumerate(items, 1):
        value = getattr(item, key)
        if value in seen:
            raise DemoDataError(file, f"{label} {number}", f"duplicate {key} {value!r}")
        seen.add(value)


def _refer(value: str | None, known, file: str, where: str, what: str, hint: str = "") -> None:
    if value is not None and value not in known:
        raise DemoDataError(file, where, f"unknown {what} {value!r}" + (f" ({hint})" if hint else ""))


def ean13_valid(code: str) -> bool:
    """True for 13 ASCII digits whose last is the EAN-13 check digit of the first twelve."""
    if len(code) != 13 or not (code.isascii() and code.isdigit()):
        return False
    digits = [int(c) for c in code]
    return (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10 == digits[12]


def _check_product(product: ProductSpec, file: str, where: str) -> None:
    rules = [
        (product.price > 0, "key 'price': must be more than 0 đồng"),
        (product.stars in (3, 4, 5), "key 'stars': must be 3, 4 or 5"),
        (product.weight is None or product.weight > 0, "key 'weight': must be more than 0 grams"),
        (product.barcode is None or ean13_valid(product.barcode),
         "key 'barcode': not an EAN-13 code (13 digits with a valid check digit)"),
        (product.certificate in CERTIFICATE_PLANS,
         f"key 'certificate': must be one of {', '.join(CERTIFICATE_PLANS)}"),
        ((product.certificate == CertificatePlan.EXPIRING) == (product.expires_in_days is not None),
         "key 'expires_in_days': given exactly when certificate = \"expiring\""),
        ((product.certificate == CertificatePlan.UPGRADE) == (product.upgrade_from is not None),
         "key 'upgrade_from': given exactly when certificate = \"upgrade\""),
        (product.upgrade_from is None or product.upgrade_from in range(3, product.stars),
         "key 'upgrade_from': must be fewer stars than 'stars' (3 or 4)"),
        ((product.certificate == CertificatePlan.REVOKED) == (product.revocation_reason is not None),
         "key 'revocation_reason': given exactly when certificate = \"revoked\""),
        ((product.certificate == CertificatePlan.DECISIONS) == bool(product.decisions),
         "[[product.decisions]]: given exactly when certificate = \"decisions\""),
    ]
    for ok, reason in rules:
        if not ok:
            raise DemoDataError(file, where, reason)
    for number, decision in enumerate(product.decisions, 1):
        if decision.stars not in (3, 4, 5):
            raise DemoDataError(file, f"{where}, decisions[{number}], key 'stars'", "must be 3, 4 or 5")


def load_demo_data(folder: Traversable | Path | None = None) -> DemoData:
    """Read and check every demo data file in ``folder`` (default: ``DATA_DIR``, the files shipped
    with the package); raises DemoDataError on the first problem."""
    folder = folder if folder is not None else DATA_DIR
    file = "localities.csv"
    place_rows = read_csv(folder, file, Place)
    seen: set[str] = set()
    for line, place in place_rows:
        if place.slug in seen:
            raise DemoDataError(file, f"line {line}", f"duplicate slug {place.slug!r}")
        _refer(place.parent, seen, file, f"line {line}, column 'parent'", "place", "parents are defined on a line above")
        seen.add(place.slug)
    for line, place in place_rows:
        _refer(place.successor, seen, file, f"line {line}, column 'successor'", "place")
    places = [place for _, place in place_rows]

    file = "product_groups.csv"
    group_rows = read_csv(folder, file, Group)
    codes: set[str] = set()
    for line, group in group_rows:
        if group.code in codes:
            raise DemoDataError(file, f"line {line}", f"duplicate code {group.code!r}")
        _refer(group.parent_code, codes, file, f"line {line}, column 'code'", "parent group",
               "parents are defined on a line above")
        codes.add(group.code)
    groups = [group for _, group in group_rows]

    file = "producers.toml"
    producers = [_record(ProducerSpec, table, file, f"[[producer]] {n}")
                 for n, table in enumerate(_tables(read_toml(folder, file), "producer", file), 1)]
    _unique(producers, "slug", file, "[[producer]]")
    for n, producer in enumerate(producers, 1):
        _refer(producer.locality, seen, file, f"[[producer]] {n} ({producer.slug}), key 'locality'", "place")

    file = "products.toml"
    products = [_record(ProductSpec, table, file, f"[[product]] {n}")
                for n, table in enumerate(_tables(read_toml(folder, file), "product", file), 1)]
    _unique(products, "slug", file, "[[product]]")
    _unique([p for p in products if p.barcode], "barcode", file, "[[product]] with a barcode, number")
    producer_slugs = {p.slug for p in producers}
    for n, product in enumerate(products, 1):
        where = f"[[product]] {n} ({product.slug})"
        _refer(product.producer, producer_slugs, file, f"{where}, key 'producer'", "producer")
        _refer(product.group, codes, file, f"{where}, key 'group'", "product group")
        _check_product(product, file, where)

    file = "shops.toml"
    document = read_toml(folder, file)
    hours = document.get("hours", {})
    for name, table in hours.items() if isinstance(hours, dict) else [("", None)]:
        if not (isinstance(table, dict) and set(table) == {"vi", "en"}
                and all(isinstance(v, str) for v in table.values())):
            raise DemoDataError(file, f"[hours.{name}]", "expected exactly the text keys 'vi' and 'en'")
    shops = []
    for n, table in enumerate(_tables(document, "shop", file), 1):  # vocabulary: data file keys
        shop = _record(ShopSpec, table, file, f"[[shop]] {n}", skip=("hours_vi", "hours_en"))
        where = f"[[shop]] {n} ({shop.slug})"
        _refer(shop.locality, seen, file, f"{where}, key 'locality'", "place")
        _refer(shop.hours, hours, file, f"{where}, key 'hours'", "[hours.<name>] table")
        shops.append(dataclasses.replace(shop, hours_vi=hours[shop.hours]["vi"],
                                         hours_en=hours[shop.hours]["en"]))
    _unique(shops, "slug", file, "[[shop]]")

    file = "stock.csv"
    stock_rows = read_csv(folder, file, StockRow)
    shop_slugs, product_slugs = {s.slug for s in shops}, {p.slug for p in products}
    keys: set[tuple] = set()
    for line, row in stock_rows:
        where = f"line {line}"
        _refer(row.shop, shop_slugs, file, f"{where}, column 'shop'", "shop")  # vocabulary: data file keys
        _refer(row.product, product_slugs, file, f"{where}, column 'product'", "product")
        if row.quantity <= 0:
            raise DemoDataError(file, f"{where}, column 'quantity'", "must be more than 0")
        key = dataclasses.replace(row, quantity=0)  # every column but the quantity
        if key in keys:
            raise DemoDataError(file, where, "the same row as one above (only the quantity differs)")
        keys.add(key)
    return DemoData(places=places, groups=groups, producers=producers, products=products,
                    shops=shops, stock=[row for _, row in stock_rows])
