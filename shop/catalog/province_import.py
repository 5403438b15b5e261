"""The province's OCOP list in one import: the annex table of a recognition decision (product,
producer, address, group, stars, score — DOMAIN.md, "Selling in Vietnam") read from XLSX or CSV,
planned row by row, then applied in one transaction.

Steps (the admin screens in ``shop/admin/`` follow them; nothing is kept on the server between
them — the rows travel signed in the form):
1. ``read_table(filename, data)``: the cells as text. Refused with ``InvalidInput(field="file")``:
   more than ``MAX_BYTES`` or ``MAX_ROWS``, a file that is neither XLSX nor CSV text, a formula in
   any cell (XLSX formulas, or CSV cells starting with ``=``, ``@``, or ``+``/``-`` before a
   non-number: spreadsheet injection).
2. ``guess_mapping(header)``: which column holds which field, from the usual Vietnamese and English
   headers; the administrator corrects it once on the preview page.
3. ``plan(rows, mapping, decision)``: one ``RowPlan`` per data row — ``create`` (new product, and a
   new producer if none matches), ``update`` (a known product gets this decision's certificate:
   new, re-recognition or upgrade), ``unchanged`` (the product already has a certificate with this
   decision number: importing the same file twice changes nothing) or ``refused`` with reasons
   (unknown group, stars not 3–5 or a score outside the stars' band of 148/QĐ-TTg, the same
   product twice, a producer name close to an existing one but not the same, a product holding a
   newer certificate, missing cells).
4. ``apply(rows, mapping, decision)``: plans again (never trusts an old preview) and writes the
   created and updated rows; refused rows change nothing. Returns the plan. The caller commits.

Matching (``name_key``): names compare without diacritics, case, punctuation and legal-form words
("HTX", "Hợp tác xã", "Công ty CP", "Công ty TNHH", "Hộ kinh doanh"…). A new producer's kind comes
from its legal-form word. New products are created unlisted with price 0: they wait for a price
and photos before they go on sale.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.admin.enums import AuditAction
from shop.catalog import certificates
from shop.catalog.enums import CertificateKind, CertificateLevel, CertificateStatus
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.errors import FieldErrors, InvalidInput
from shop.extensions import db
from shop.producers.enums import ProducerKind
from shop.producers.models import Producer
from shop.text import fold, slugify
from shop.timeutil import today_vn

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_CELL = 300
# A producer name this similar (rapidfuzz ratio of the keys, 0–100) to an existing one, but not
# equal, is refused rather than created twice under two spellings.
CLOSE_NAME = 85
FIELDS = ("product", "producer", "address", "group", "stars", "score")
REQUIRED = ("product", "producer", "group", "stars")
# Header words (folded) that name each field, most specific first.
HEADER_WORDS = {
    "product": ("ten san pham", "san pham", "product"),
    "producer": ("chu the", "co so", "don vi", "producer", "ten chu the"),
    "address": ("dia chi", "address"),
    "group": ("nhom", "phan nhom", "bo", "group"),
    "stars": ("hang sao", "so sao", "sao", "xep hang", "stars", "rating"),
    "score": ("diem", "tong diem", "score", "points"),
}
# Legal-form words (folded), longest first, and the producer kind each one implies.
LEGAL_FORMS = (
    ("cong ty co phan", ProducerKind.COMPANY), ("cong ty tnhh", ProducerKind.COMPANY),
    ("cong ty cp", ProducerKind.COMPANY), ("cty tnhh", ProducerKind.COMPANY), ("cty cp", ProducerKind.COMPANY),
    ("hop tac xa", ProducerKind.COOPERATIVE), ("to hop tac", ProducerKind.COOPERATIVE_GROUP),
    ("ho kinh doanh", ProducerKind.HOUSEHOLD), ("cong ty", ProducerKind.COMPANY), ("mot thanh vien", None),
    ("ctcp", ProducerKind.COMPANY), ("tnhh", ProducerKind.COMPANY), ("mtv", None), ("cty", ProducerKind.COMPANY),
    ("htx", ProducerKind.COOPERATIVE), ("tht", ProducerKind.COOPERATIVE_GROUP), ("hkd", ProducerKind.HOUSEHOLD),
)
_LEGAL_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w, _k in LEGAL_FORMS) + r")\b")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


class Outcome:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


def name_key(name: str | None) -> str:
    """The name as matched: folded, legal-form words and punctuation removed.
    'HTX Tài Hoan' and 'Hợp tác xã Tài Hoan' → 'tai hoan'."""
    folded = _NOT_WORD.sub(" ", fold(name))
    return " ".join(_LEGAL_RE.sub(" ", folded).split())


def producer_kind(name: str) -> ProducerKind:
    """The kind the name's first telling legal-form word says; ``other`` when none does."""
    for match in _LEGAL_RE.finditer(_NOT_WORD.sub(" ", fold(name))):
        kind = dict(LEGAL_FORMS).get(match.group(1))
        if kind is not None:
            return kind
    return ProducerKind.OTHER


# ---- 1. reading the file -----------------------------------------------------------------------

def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def _is_formula_text(value: str) -> bool:
    if not value:
        return False
    if value[0] in "=@":
        return True
    return value[0] in "+-" and not re.fullmatch(r"[+-]\s*\d+([.,]\d+)?", value)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        value = value.isoformat()[:10]
    return " ".join(str(value).split())[:MAX_CELL]


def _read_xlsx(data: bytes) -> list[list[str]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a broken file
        raise _refuse(_("The file is not a spreadsheet that can be read (XLSX or CSV).")) from None
    sheet = book.worksheets[0]
    rows: list[list[str]] = []
    for r, row in enumerate(sheet.iter_rows(), start=1):
        if r > MAX_ROWS + 1:
            raise _refuse(_("More than %(num)d rows: split the file.", num=MAX_ROWS))
        cells = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                raise _refuse(_("Row %(row)d holds a formula (cell %(cell)s): paste values only.",
                                row=r, cell=getattr(cell, "coordinate", "?")))
            cells.append(_cell_text(cell.value))
        rows.append(cells)
    book.close()
    return rows


def _read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise _refuse(_("The file is not a spreadsheet that can be read (XLSX or CSV)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(_("The CSV file is not UTF-8 text: save it as \"CSV UTF-8\".")) from None
    sample = text[:4096]
    delimiter = max((",", ";", "\t"), key=sample.count)
    rows: list[list[str]] = []
    for r, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if r > MAX_ROWS + 1:
            raise _refuse(_("More than %(num)d rows: split the file.", num=MAX_ROWS))
        cells = [_cell_text(value) for value in row]
        for c, value in enumerate(cells):
            if _is_formula_text(value):
                raise _refuse(_("Row %(row)d holds a formula (cell %(cell)s): paste values only.",
                                row=r, cell=f"{_column_letter(c)}{r}"))
        rows.append(cells)
    if len(rows) < 2 or max(len(row) for row in rows) < 2:
        raise _refuse(_("The file is not a spreadsheet that can be read (XLSX or CSV)."))
    return rows


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The first sheet's cells as text (row 1 the header), from an XLSX (by content, whatever the
    name) or a CSV file (UTF-8, comma, semicolon or tab). Raises ``InvalidInput(field="file")``
    for an empty or too large file, anything else, formulas, more than ``MAX_ROWS`` rows."""
    if not data:
        raise _refuse(_("Choose a file."))
    if len(data) > MAX_BYTES:
        raise _refuse(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    if data[:4] == b"PK\x03\x04":
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise _refuse(_("The file is not a spreadsheet that can be read (XLSX or CSV)."))
        rows = _read_xlsx(data)
    elif (filename or "").lower().endswith((".csv", ".txt", ".tsv")) or not data[:8].startswith((b"%PDF", b"\xd0\xcf")):
        rows = _read_csv(data)
    else:
        raise _refuse(_("The file is not a spreadsheet that can be read (XLSX or CSV)."))
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        raise _refuse(_("The file has no rows below its header."))
    return rows


# ---- 2. the columns ----------------------------------------------------------------------------

def guess_mapping(header: list[str]) -> dict[str, int | None]:
    """{field: column index or None} from the header's words (first match wins, each column once)."""
    mapping: dict[str, int | None] = {f: None for f in FIELDS}
    folded = [fold(h) for h in header]
    taken: set[int] = set()
    for name in ("product", "producer", "address", "score", "stars", "group"):
        for word in HEADER_WORDS[name]:
            hit = next((i for i, h in enumerate(folded) if i not in taken and (h == word or word in h.split(" ")
                                                                                 or h.startswith(word))), None)
            if hit is not None:
                mapping[name] = hit
                taken.add(hit)
                break
    return mapping


def check_mapping(mapping: dict[str, int | None], width: int) -> dict[str, int | None]:
    """The mapping if every required field has its own column inside the table; else ``InvalidFields``
    (field names ``col_<field>``)."""
    errors = FieldErrors()
    used: dict[int, str] = {}
    for name in FIELDS:
        index = mapping.get(name)
        if index is None:
            if name in REQUIRED:
                errors.add(f"col_{name}", _("Choose the column."))
            continue
        if not 0 <= index < width:
            errors.add(f"col_{name}", _("Choose one of the options."))
        elif index in used:
            errors.add(f"col_{name}", _("This column is already used for another field."))
        else:
            used[index] = name
    errors.raise_if_any()
    return mapping


# ---- 3. the plan -------------------------------------------------------------------------------

@dataclass
class Decision:
    """The recognition decision the annex belongs to (typed once on the upload form)."""

    number: str
    issued_on: date | None
    issuing_body: str
    level: str
    legal_basis: str


@dataclass
class RowPlan:
    row: int                      # the row number in the file (header = 1)
    outcome: str                  # ``Outcome``
    product: str
    producer: str
    stars: int | None = None
    score: int | None = None
    group: str = ""
    address: str = ""
    reasons: list[str] = field(default_factory=list)
    detail: str = ""              # what will happen, for the preview
    product_id: int | None = None
    producer_id: int | None = None
    group_id: int | None = None
    kind: CertificateKind | None = None
    supersedes: int | None = None  # the active certificate this one replaces


def check_decision(decision: Decision) -> Decision:
    """The decision's fields or ``InvalidFields`` (``decision_number``, ``issued_on``, ``issuing_body``,
    ``level``): required, the date not in the future, the level one of ``CertificateLevel``."""
    errors = FieldErrors()
    for name, value in (("decision_number", decision.number), ("issuing_body", decision.issuing_body)):
        if not (value or "").strip():
            errors.add(name, _("Required."))
    if decision.issued_on is None:
        errors.add("issued_on", _("Required."))
    elif decision.issued_on > today_vn():
        errors.add("issued_on", _("The issue date is in the future."))
    if decision.level not in {level.value for level in CertificateLevel}:
        errors.add("level", _("Choose one of the options."))
    if len(decision.number or "") > 80 or len(decision.issuing_body or "") > 200 or len(decision.legal_basis or "") > 200:
        errors.add("decision_number", _("Too long."))
    errors.raise_if_any()
    return Decision(" ".join(decision.number.split()), decision.issued_on, " ".join(decision.issuing_body.split()),
                    decision.level, " ".join((decision.legal_basis or "").split()))


def _number(raw: str) -> int | None:
    match = re.fullmatch(r"\s*(\d{1,3})(?:[.,](\d+))?\s*(?:★|\*|sao|stars?)?\s*", raw or "", re.IGNORECASE)
    return int(match.group(1)) if match else None


class _Catalogue:
    """What the plan compares against: every producer, product and group, loaded once."""

    def __init__(self) -> None:
        self.groups: dict[str, ProductGroup] = {}
        for group in db.session.scalars(select(ProductGroup)):
            for key in (fold(group.code), fold(group.name), fold(group.name_en)):
                if key:
                    self.groups.setdefault(key, group)
        self.producers: dict[str, Producer] = {}
        for producer in db.session.scalars(select(Producer).options(
                selectinload(Producer.products).selectinload(Product.certificates))):
            self.producers.setdefault(name_key(producer.name), producer)

    def group(self, raw: str) -> ProductGroup | None:
        folded = fold(raw)
        if folded in self.groups:
            return self.groups[folded]
        code = folded.split(" ")[0].rstrip(".").upper() if folded else ""
        return self.groups.get(fold(code))

    def close_producer(self, key: str) -> Producer | None:
        best, best_score = None, 0.0
        for other_key, producer in self.producers.items():
            score = fuzz.ratio(key, other_key)
            if score > best_score:
                best, best_score = producer, score
        return best if best_score >= CLOSE_NAME else None


def plan(rows: list[list[str]], mapping: dict[str, int | None], decision: Decision) -> list[RowPlan]:
    """One ``RowPlan`` per data row (see the module's docstring); reads, never writes."""
    decision = check_decision(decision)
    width = max(len(row) for row in rows)
    check_mapping(mapping, width)
    catalogue = _Catalogue()
    seen: dict[tuple[str, str], int] = {}
    new_producers: dict[str, str] = {}
    plans: list[RowPlan] = []
    for number, row in enumerate(rows[1:], start=2):
        cell = {name: (row[mapping[name]] if mapping.get(name) is not None and mapping[name] < len(row) else "")
                for name in FIELDS}
        item = RowPlan(row=number, outcome=Outcome.REFUSED, product=cell["product"], producer=cell["producer"],
                       group=cell["group"], address=cell["address"])
        reasons = item.reasons
        for name in REQUIRED:
            if not cell[name]:
                reasons.append(_("No %(field)s.", field=_field_label(name)))
        stars, score = _number(cell["stars"]), _number(cell["score"]) if cell["score"] else None
        item.stars, item.score = stars, score
        if cell["stars"] and stars not in certificates.SCORE_BANDS:
            reasons.append(_("Stars out of range (3–5): %(value)s.", value=cell["stars"]))
        if cell["score"] and (score is None or not 0 <= score <= 100):
            reasons.append(_("Score out of range (0–100): %(value)s.", value=cell["score"]))
        elif score is not None and stars in certificates.SCORE_BANDS:
            low, high = certificates.SCORE_BANDS[stars]
            if not low <= score <= high:
                reasons.append(_("A %(stars)d-star certificate needs %(low)d–%(high)d points (148/QĐ-TTg).",
                                 stars=stars, low=low, high=high))
        group = catalogue.group(cell["group"]) if cell["group"] else None
        if cell["group"] and group is None:
            reasons.append(_("Unknown group: %(value)s.", value=cell["group"]))
        item.group_id = group.id if group else None
        producer_key, product_key = name_key(cell["producer"]), name_key(cell["product"])
        if cell["producer"] and not producer_key:
            reasons.append(_("The producer name is only a legal form."))
        if cell["product"] and not product_key:
            reasons.append(_("The product name has no letters."))
        if producer_key and product_key:
            first = seen.setdefault((producer_key, product_key), number)
            if first != number:
                reasons.append(_("The same product as row %(row)d.", row=first))
        producer = catalogue.producers.get(producer_key)
        if producer is None and producer_key and producer_key not in new_producers:
            close = catalogue.close_producer(producer_key)
            if close is not None:
                reasons.append(_("The producer name is close to \"%(name)s\" but not the same: correct the file "
                                 "or the producer.", name=close.name))
        if reasons:
            plans.append(item)
            continue
        if producer is None:
            new_producers.setdefault(producer_key, cell["producer"])
            item.outcome, item.kind = Outcome.CREATE, CertificateKind.NEW
            item.detail = _("New producer and product, %(stars)d★.", stars=stars)
            plans.append(item)
            continue
        item.producer_id = producer.id
        product = next((p for p in producer.products if name_key(p.name) == product_key), None)
        if product is None:
            item.outcome, item.kind = Outcome.CREATE, CertificateKind.NEW
            item.detail = _("New product of %(producer)s, %(stars)d★.", producer=producer.name, stars=stars)
            plans.append(item)
            continue
        item.product_id = product.id
        if any(c.decision_number == decision.number for c in product.certificates):
            item.outcome, item.detail = Outcome.UNCHANGED, _("Already holds this decision's certificate.")
            plans.append(item)
            continue
        active = [c for c in product.certificates if c.status is CertificateStatus.ACTIVE]
        if any(c.issued_on > decision.issued_on for c in active):
            item.reasons.append(_("The product holds a newer certificate."))
            plans.append(item)
            continue
        current = max(active, key=lambda c: c.issued_on, default=None)
        item.outcome = Outcome.UPDATE
        if current is None:
            item.kind = CertificateKind.NEW
            item.detail = _("Certificate %(stars)d★ for an existing product.", stars=stars)
        else:
            item.supersedes = current.id
            item.kind = CertificateKind.UPGRADE if stars > current.stars else CertificateKind.RE_RECOGNITION
            item.detail = _("%(kind)s: %(old)d★ → %(new)d★, %(number)s superseded.", kind=item.kind.label,
                            old=current.stars, new=stars, number=current.decision_number)
        plans.append(item)
    return plans


def _field_label(name: str) -> str:
    return {"product": _("product"), "producer": _("producer"), "group": _("group"), "stars": _("stars")}[name]


# ---- 4. applying -------------------------------------------------------------------------------

def _unique_slug(model, text: str) -> str:
    base = (slugify(text) or "item")[:140]
    slug, n = base, 1
    while db.session.scalar(select(model.id).where(model.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def apply(rows: list[list[str]], mapping: dict[str, int | None], decision: Decision, *, actor: str = "",
          user_id: int | None = None) -> list[RowPlan]:
    """Plan again and write: new producers, new products (unlisted, price 0), this decision's
    certificate for every created or updated row (superseding the product's active one). Refused
    and unchanged rows write nothing. Returns the plan; the caller commits."""
    decision = check_decision(decision)
    plans = plan(rows, mapping, decision)
    expires_on = certificates.default_expiry(decision.issued_on)
    created_producers: dict[str, Producer] = {}
    for item in plans:
        if item.outcome not in (Outcome.CREATE, Outcome.UPDATE):
            continue
        if item.product_id is None:
            producer = db.session.get(Producer, item.producer_id) if item.producer_id else None
            if producer is None:
                key = name_key(item.producer)
                producer = created_producers.get(key)
                if producer is None:
                    producer = Producer(slug=_unique_slug(Producer, item.producer), name=item.producer[:200],
                                        kind=producer_kind(item.producer), address=item.address[:300])
                    db.session.add(producer)
                    db.session.flush()
                    created_producers[key] = producer
            product = Product(producer=producer, group_id=item.group_id, slug=_unique_slug(Product, item.product),
                              name=item.product[:200], price=0, listed=False)
            db.session.add(product)
            db.session.flush()
            item.product_id, item.producer_id = product.id, producer.id
        before = {}
        if item.supersedes is not None:
            old = db.session.get(Certificate, item.supersedes)
            certificates._move(old, CertificateStatus.SUPERSEDED)
            before = {"supersedes": old.decision_number, "stars": old.stars}
        product = db.session.get(Product, item.product_id)
        cert = Certificate(
            product=product, stars=item.stars, score=item.score, kind=item.kind, decision_number=decision.number,
            issuing_body=decision.issuing_body, level=CertificateLevel(decision.level),
            legal_basis=decision.legal_basis, product_name_certified=item.product[:200],
            producer_name_certified=item.producer[:200], issued_on=decision.issued_on, expires_on=expires_on,
            status=CertificateStatus.ACTIVE)
        db.session.add(cert)
        db.session.flush()
        certificates.audit(cert, AuditAction.IMPORT, before, actor=actor, user_id=user_id)
    return plans


def summary(plans: list[RowPlan]) -> dict[str, int]:
    """{outcome: number of rows}."""
    counts = {Outcome.CREATE: 0, Outcome.UPDATE: 0, Outcome.UNCHANGED: 0, Outcome.REFUSED: 0}
    for item in plans:
        counts[item.outcome] += 1
    return counts
