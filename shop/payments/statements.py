"""Bank statements: the credits of the province's bank account, matched to bank-transfer orders.

A shop's manager uploads the statement their bank exports (CSV, see ``read_statement`` for the
layouts understood). Nothing is written until the preview is confirmed (``import_statement``):
then each credit is recorded once (``StatementLine.fingerprint`` is unique, so importing the same
statement again records and confirms nothing twice); a credit that matches an order of the
importing shop is confirmed at once through ``orders.confirm_bank_transfer``; anything else waits
(``to_decide``) until a person confirms it or sets it aside with a note (``decide``).

Matching (``classify``): the order number is read from the transfer description however it was
typed (``OC-2026-000123``, ``oc2026000123``, ``OC 2026 000123``); the amount must be the order's
total and the transfer must have come in time (on or before the day the time to pay ended, or
before that instant when the statement gives the time). The rule comes from issue 13 ("each
credit is matched to an order by the order number in the transfer description and the amount").

Scope: the bank account is the province's and order numbers are global, so a statement holds
credits for every shop. A manager confirms (at import or later) only orders that have a shipment
in the shop whose page they are on; credits for other shops' orders are recorded and wait in
those shops' lists; credits without an order wait in the importing shop's list.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from shop.errors import DomainError, InvalidInput, NotAllowed
from shop.extensions import db
from shop.money import format_vnd, parse_vnd
from shop.orders import services as orders
from shop.orders.enums import OrderStatus, PaymentMethod
from shop.orders.models import Order, Shipment
from shop.payments.enums import StatementLineState, StatementMatch
from shop.payments.models import StatementLine
from shop.timeutil import VN_TZ, utcnow

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_CELL = 500
NOTE_MAX = 500
HEADER_SEARCH_ROWS = 30  # bank exports start with the account's details before the table
ROW_ERRORS_SHOWN = 5
# The order number as people type it in a transfer description: OC-2026-000123, OC2026000123,
# oc 2026 000123, OC.2026.000123 (case and separators do not matter).
ORDER_NUMBER = re.compile(r"O[\s._-]*C[\s._-]*(\d{4})[\s._-]*(\d{6})(?!\d)", re.IGNORECASE)

# Column headings, accents and case removed (``_heading``), by what the column holds. An exact
# heading wins over one that only contains the word; the first list entry wins over later ones.
COLUMNS = {
    "date": ("ngay giao dich", "ngay gd", "ngay hach toan", "ngay ghi so", "ngay", "date",
             "transaction date", "booking date", "posting date", "ngay hieu luc"),
    "credit": ("so tien ghi co", "ghi co", "co", "tien vao", "so tien vao", "credit", "credit amount"),
    "debit": ("so tien ghi no", "ghi no", "no", "tien ra", "so tien ra", "debit", "debit amount"),
    "amount": ("so tien", "so tien giao dich", "amount"),
    "description": ("noi dung giao dich", "noi dung", "mo ta giao dich", "mo ta", "dien giai",
                    "chi tiet giao dich", "description", "details", "transaction details", "remark"),
    "reference": ("so tham chieu", "so but toan", "ma giao dich", "so giao dich", "so chung tu", "so ct",
                  "ma gd", "reference", "ref", "transaction id"),
}
# Words only ever matched whole (a heading "Có" is the credit column; "có" inside a longer
# heading means nothing).
WHOLE_ONLY = {"co", "no", "ref", "date", "ngay"}


@dataclass(frozen=True)
class Credit:
    """One credit read from a statement: ``amount`` whole đồng (> 0), the day (and time when the
    statement gives it, Vietnam's clock), the description and the bank's reference as written,
    ``rank`` its place among identical lines of the file (0 for the first), ``row`` its row."""

    booked_on: date
    booked_time: time | None
    amount: int
    description: str
    reference: str
    rank: int
    row: int

    def as_dict(self) -> dict:
        return {"d": self.booked_on.isoformat(), "t": self.booked_time.isoformat() if self.booked_time else None,
                "a": self.amount, "s": self.description, "r": self.reference, "k": self.rank, "n": self.row}

    @classmethod
    def from_dict(cls, data: dict) -> "Credit":
        return cls(date.fromisoformat(data["d"]), time.fromisoformat(data["t"]) if data["t"] else None,
                   int(data["a"]), str(data["s"])[:MAX_CELL], str(data["r"])[:100], int(data["k"]), int(data["n"]))

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of what identifies this credit at the bank; stable across imports."""
        text = "|".join((self.booked_on.isoformat(), str(self.amount), " ".join(self.description.split()).casefold(),
                         self.reference.strip().casefold(), str(self.rank)))
        return hashlib.sha256(text.encode()).hexdigest()


# ---- 1. reading the file -----------------------------------------------------------------------


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def _heading(text: str) -> str:
    """A column heading without accents, case or punctuation: "Số tiền ghi có (VND)" → "so tien ghi co vnd"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _columns(header: list[str]) -> dict[str, int] | None:
    """Which column holds what, from a header row; None unless it has a date, a description and
    an amount (a credit column, or one signed amount column)."""
    names = [_heading(cell) for cell in header]
    found: dict[str, int] = {}
    for exact in (True, False):
        for what, keys in COLUMNS.items():
            if what in found:
                continue
            for key in keys:
                taken = set(found.values())
                for index, name in enumerate(names):
                    if index in taken or not name:
                        continue
                    if name == key or (not exact and key not in WHOLE_ONLY
                                       and re.search(rf"\b{re.escape(key)}\b", name)):
                        found[what] = index
                        break
                if what in found:
                    break
    if "date" in found and "description" in found and ("credit" in found or "amount" in found):
        return found
    return None


def _is_formula(value: str) -> bool:
    if not value:
        return False
    if value[0] in "=@\t\r":
        return True
    return value[0] in "+-" and not re.fullmatch(r"[+-]\s*[\d.,\s]+(\s*(VND|VNĐ|đ|₫))?", value, re.IGNORECASE)


_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M")


def _when(raw: str) -> tuple[date, time | None] | None:
    """A statement's date (day first, as Vietnamese banks write it, or ISO), with its time if given."""
    raw = " ".join(raw.replace("T", " ").split())
    day_text, _sep, time_text = raw.partition(" ")
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(day_text, fmt).date()
        except ValueError:
            continue
        if not time_text:
            return day, None
        for tfmt in _TIME_FORMATS:
            try:
                return day, datetime.strptime(time_text, tfmt).time()
            except ValueError:
                continue
        return None
    return None


def _money(raw: str) -> int | None:
    """A statement amount → whole đồng, sign kept (negative: money out); None when empty.

    Banks write ``1.250.000``, ``1,250,000``, ``1250000``, ``+1,250,000`` or ``1.250.000,00``: a
    decimal part of zeros is dropped, any other decimal part is refused (``InvalidInput``).
    """
    text = re.sub(r"(?i)\s*(vnd|vnđ|đ|₫)\s*$", "", raw.strip()).strip()
    if not text:
        return None
    sign = -1 if text[0] in "-\u2212" else 1
    text = text.lstrip("+-\u2212 ").strip()
    decimals = (re.fullmatch(r"(\d{1,3}(?:\.\d{3})+),(\d{1,2})", text) or re.fullmatch(r"(\d{1,3}(?:,\d{3})+)\.(\d{1,2})", text)
                or re.fullmatch(r"(\d+)[.,](\d{1,2})", text))
    if decimals:
        if int(decimals.group(2)) != 0:
            raise InvalidInput(_("An amount has a decimal part: đồng are whole."), field="file")
        text = decimals.group(1)
    return sign * parse_vnd(text, field="file")


def _read_rows(data: bytes) -> list[list[str]]:
    if not data:
        raise _refuse(_("Choose a file."))
    if len(data) > MAX_BYTES:
        raise _refuse(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    if b"\x00" in data[:4096] or data[:4] == b"PK\x03\x04" or data[:5] == b"%PDF-" or data[:4] == b"\xd0\xcf\x11\xe0":
        raise _refuse(_("The file is not a CSV statement: export the statement as CSV."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(_("The CSV file is not UTF-8 text: save it as \"CSV UTF-8\".")) from None
    sample = text[:4096]
    delimiter = max((",", ";", "\t"), key=sample.count)
    rows: list[list[str]] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _refuse(_("More than %(num)d rows: split the statement.", num=MAX_ROWS))
            cells = [" ".join(cell.split())[:MAX_CELL] for cell in row]
            for cell in cells:
                if _is_formula(cell):
                    raise _refuse(_("Row %(row)d holds a formula: export the statement again, values only.",
                                    row=number))
            rows.append(cells)
    except csv.Error:
        raise _refuse(_("The file is not a CSV statement: export the statement as CSV.")) from None
    return rows


def read_statement(filename: str, data: bytes) -> list[Credit]:
    """The credits of a statement file, in file order. Debits and rows without a date are skipped.

    The file: CSV, UTF-8 with or without a BOM, comma, semicolon or tab separated, at most
    ``MAX_BYTES`` and ``MAX_ROWS`` rows. The header row is found among the first 30 rows (bank
    exports start with the account's details) by its headings, Vietnamese or English: a date
    ("Ngày giao dịch", "Ngày", "Date"), a description ("Nội dung", "Mô tả", "Diễn giải",
    "Description"), the money either as a credit column ("Số tiền ghi có", "Ghi có", "Có",
    "Credit") with its debit column, or as one signed amount ("Số tiền", "Amount"), and optionally
    the bank's reference ("Số tham chiếu", "Số bút toán", "Mã giao dịch", "Reference").

    Raises ``InvalidInput(field="file")``: empty, too large, not CSV text (a spreadsheet, a PDF),
    not UTF-8, a formula in a cell, no recognisable header, a malformed date or amount (the rows
    are named), no credit at all. ``filename`` must end in .csv or .txt.
    """
    if not (filename or "").lower().endswith((".csv", ".txt")):
        raise _refuse(_("The file is not a CSV statement: export the statement as CSV."))
    rows = _read_rows(data)
    header_at, columns = None, None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _columns(row)
        if columns:
            header_at = index
            break
    if columns is None:
        raise _refuse(_("No header row with a date, a description and an amount (or credit) column was found. "
                        "See the statement format on this page."))
    credits: list[Credit] = []
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    for number, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        def cell(what: str) -> str:
            index = columns.get(what)
            return row[index] if index is not None and index < len(row) else ""
        raw_date = cell("date")
        if not any(ch.isdigit() for ch in raw_date):
            continue  # a blank row, the opening or closing balance, a total
        when = _when(raw_date)
        if when is None:
            problems.append(_("row %(row)d: the date %(text)s", row=number, text=raw_date[:30]))
            continue
        try:
            if "credit" in columns:
                amount = _money(cell("credit")) or 0
            else:
                amount = _money(cell("amount")) or 0
        except InvalidInput:
            problems.append(_("row %(row)d: the amount %(text)s", row=number,
                              text=(cell("credit") if "credit" in columns else cell("amount"))[:30]))
            continue
        if amount <= 0:
            continue  # money out, or a debit row
        description, reference = cell("description"), cell("reference")[:100]
        key = (when[0], amount, " ".join(description.split()).casefold(), reference.casefold())
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        credits.append(Credit(when[0], when[1], amount, description, reference, rank, number))
    if problems:
        more = len(problems) - ROW_ERRORS_SHOWN
        text = "; ".join(problems[:ROW_ERRORS_SHOWN]) + (_(" and %(num)d more", num=more) if more > 0 else "")
        raise _refuse(_("Some rows cannot be read (%(rows)s). Nothing was imported.", rows=text))
    if not credits:
        raise _refuse(_("The statement has no credit (money in) to match."))
    return credits


# ---- 2. matching ---------------------------------------------------------------------------------


def order_numbers_in(description: str) -> set[str]:
    """The order numbers written in a transfer description, in their stored form (OC-2026-000123)."""
    return {f"OC-{m.group(1)}-{m.group(2)}" for m in ORDER_NUMBER.finditer(description or "")}


def find_order(description: str) -> Order | None:
    """The one existing order a description names; None for none, several or an unknown number."""
    numbers = order_numbers_in(description)
    if len(numbers) != 1:
        return None
    return db.session.scalar(select(Order).where(Order.number == numbers.pop()))


def _late(credit: Credit, order: Order) -> bool:
    if order.hold_expires_at is None:
        return False
    deadline = order.hold_expires_at.astimezone(VN_TZ)
    if credit.booked_time is not None:
        return datetime.combine(credit.booked_on, credit.booked_time, VN_TZ) > deadline
    return credit.booked_on > deadline.date()


def classify(credit: Credit, order: Order | None) -> StatementMatch:
    """How a credit fits the order its description names (``StatementMatch``'s docstring)."""
    if order is None:
        return StatementMatch.UNKNOWN
    if order.payment_method != PaymentMethod.BANK_TRANSFER:
        return StatementMatch.NOT_TRANSFER
    if order.payment_status in orders.MONEY_HELD:
        return StatementMatch.ALREADY_PAID
    if order.status == OrderStatus.CANCELLED or (order.status == OrderStatus.PENDING_PAYMENT and _late(credit, order)):
        return StatementMatch.LATE
    if order.status != OrderStatus.PENDING_PAYMENT:
        return StatementMatch.ALREADY_PAID
    if credit.amount != order.total:
        return StatementMatch.WRONG_AMOUNT
    return StatementMatch.MATCH


def in_shop(order: Order | None, shop_id: int) -> bool:
    """Whether the shop supplies part of the order (a shipment from it): its staff may see it."""
    return order is not None and any(s.shop_id == shop_id for s in order.shipments)


@dataclass
class PreviewLine:
    """A credit as the preview shows it: how it matches now (``kind``, or None when the order is
    another shop's and not shown), the order when it is this shop's, and the line already
    recorded for it by an earlier import (then nothing happens to it)."""

    credit: Credit
    kind: StatementMatch | None
    order: Order | None
    recorded: StatementLine | None = None


def preview(credits: list[Credit], shop_id: int) -> list[PreviewLine]:
    """What ``import_statement`` would do, line by line; reads only. A second credit for an order
    that an earlier line of the file matches shows as already paid."""
    fingerprints = [c.fingerprint for c in credits]
    recorded = {line.fingerprint: line for line in db.session.scalars(
        select(StatementLine).where(StatementLine.fingerprint.in_(fingerprints)))} if fingerprints else {}
    matched: set[int] = set()
    result = []
    for credit in credits:
        order = find_order(credit.description)
        kind = classify(credit, order)
        if order is not None and order.id in matched and kind == StatementMatch.MATCH:
            kind = StatementMatch.ALREADY_PAID
        if kind == StatementMatch.MATCH and credit.fingerprint not in recorded:
            matched.add(order.id)
        mine = order is None or in_shop(order, shop_id)
        result.append(PreviewLine(credit, kind if mine else None, order if mine else None,
                                  recorded.get(credit.fingerprint)))
    return result


@dataclass
class ImportResult:
    """Counts of what an import did: confirmed orders, lines left for a person (this shop's and
    other shops'), and lines already recorded by an earlier import (nothing done)."""

    confirmed: list[str] = field(default_factory=list)
    to_decide: int = 0
    other_shops: int = 0
    already_recorded: int = 0


def _money_note(line: StatementLine, how: str) -> str:
    ref = f", reference {line.bank_reference}" if line.bank_reference else ""
    return f"bank transfer of {format_vnd(line.amount)} received ({how}: {line.booked_on.isoformat()}{ref})"


def import_statement(credits: list[Credit], *, shop_id: int, file_name: str, actor: str,
                     user_id: int | None) -> ImportResult:
    """Record a statement's credits and confirm those that match this shop's orders. Commits.

    Each credit not recorded before becomes a ``StatementLine``; one already recorded (same
    fingerprint) is counted and left alone, so a statement imported twice confirms nothing
    twice. A match for an order with a shipment at ``shop_id`` is confirmed with
    ``orders.confirm_bank_transfer`` (re-checked under the order's lock: a refusal leaves the line
    to decide); every other credit waits (``to_decide``). The matching is done again here on
    fresh data, not taken from the preview. ``actor`` / ``user_id`` name the person.
    """
    result = ImportResult()
    file_name = (file_name or "")[:200]
    for credit in credits:
        fingerprint = credit.fingerprint
        if db.session.scalar(select(StatementLine.id).where(StatementLine.fingerprint == fingerprint)):
            result.already_recorded += 1
            continue
        order = find_order(credit.description)
        if order is not None:
            order = orders.lock_order(order)
        kind = classify(credit, order)
        line = StatementLine(fingerprint=fingerprint, booked_on=credit.booked_on, amount=credit.amount,
                             description=credit.description[:500], bank_reference=credit.reference[:100],
                             file_name=file_name, order_id=order.id if order else None, kind=kind,
                             state=StatementLineState.TO_DECIDE, shop_id=shop_id, imported_by=user_id)
        try:
            with db.session.begin_nested():
                db.session.add(line)
                db.session.flush()
        except IntegrityError:  # the same line recorded meanwhile by another import
            result.already_recorded += 1
            continue
        mine = order is None or in_shop(order, shop_id)
        if kind == StatementMatch.MATCH and mine:
            try:
                with db.session.begin_nested():
                    orders.confirm_bank_transfer(order, actor=actor, user_id=user_id,
                                                 note=_money_note(line, "statement"))
                    _close(line, StatementLineState.CONFIRMED, actor=actor, user_id=user_id, note="")
                result.confirmed.append(order.number)
                continue
            except DomainError as exc:
                line.note = exc.message[:NOTE_MAX]
        if mine:
            result.to_decide += 1
        else:
            result.other_shops += 1
    db.session.commit()
    return result


def _close(line: StatementLine, state: StatementLineState, *, actor: str, user_id: int | None, note: str) -> None:
    line.state = state
    line.decided_actor = (actor or "")[:120]
    line.decided_by = user_id
    line.decided_at = utcnow()
    line.note = note
    db.session.flush()


# ---- 3. a person decides -------------------------------------------------------------------------


def lines_for(shop_id: int):
    """``select(StatementLine)`` of the lines a shop's managers see: those naming an order with a
    shipment from the shop, and those naming no order that the shop imported. Newest first."""
    has_shipment = exists().where(Shipment.order_id == StatementLine.order_id, Shipment.shop_id == shop_id)
    return (select(StatementLine)
            .where(or_(has_shipment, (StatementLine.order_id.is_(None)) & (StatementLine.shop_id == shop_id)))
            .order_by(StatementLine.id.desc()))


def decide(line: StatementLine, *, confirm: bool, note: str, actor: str, user_id: int | None) -> StatementLine:
    """A person's decision on a line waiting for one. Commits.

    ``confirm``: the order the line names is marked paid with ``orders.confirm_bank_transfer`` (a
    wrong amount is accepted as it is, the history says how much came; a late transfer is re-checked
    and, for a cancelled order, recorded and flagged for a refund); the order must be a
    bank-transfer order not paid yet. Otherwise the line is set aside: ``note`` (required, at most
    ``NOTE_MAX`` characters) says why (refunded to the sender, paid twice and refunded…), and the
    order's history, when there is one, says so too.

    Raises ``NotAllowed`` (already decided, no order to confirm, the order paid already or not a
    bank-transfer order), ``InvalidInput`` (no note, too long) and what ``confirm_bank_transfer``
    raises; nothing is changed then.
    """
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("At most %(max)s characters.", max=NOTE_MAX), field="note")
    try:
        line = db.session.scalars(select(StatementLine).where(StatementLine.id == line.id).with_for_update()
                                  .execution_options(populate_existing=True)).one()
        if line.state != StatementLineState.TO_DECIDE:
            raise NotAllowed(_("This statement line has been decided already."))
        if confirm:
            order = orders.lock_order(line.order) if line.order is not None else None
            if order is None:
                raise NotAllowed(_("This credit names no order: set it aside with a note."))
            if order.payment_method != PaymentMethod.BANK_TRANSFER:
                raise NotAllowed(_("Order %(number)s is not paid by bank transfer: set the credit aside with a note.",
                                   number=order.number))
            if order.payment_status in orders.MONEY_HELD:
                raise NotAllowed(_("Order %(number)s is paid already: refund the second transfer and set it aside "
                                   "with a note.", number=order.number))
            how = "statement, decided by hand"
            if line.amount != order.total:
                how += f"; the order total is {format_vnd(order.total)}"
            orders.confirm_bank_transfer(order, actor=actor, user_id=user_id, note=_money_note(line, how))
            _close(line, StatementLineState.CONFIRMED, actor=actor, user_id=user_id, note=note)
        else:
            if not note:
                raise InvalidInput(_("Say in a note why the credit is set aside."), field="note")
            if line.order is not None:
                order = orders.lock_order(line.order)
                orders.add_note(order, f"statement credit of {format_vnd(line.amount)} of "
                                       f"{line.booked_on.isoformat()} set aside: {note}", actor)
            _close(line, StatementLineState.SET_ASIDE, actor=actor, user_id=user_id, note=note)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return line


def confirm_by_hand(order: Order, *, reference: str, actor: str, user_id: int | None) -> Order:
    """Staff saw the transfer for ``order`` on the account (without a statement). Commits.

    ``reference`` (optional, at most 100 characters: the bank's reference) goes in the history.
    Raises what ``orders.confirm_bank_transfer`` raises, and ``NotAllowed`` when the order is paid
    already.
    """
    reference = " ".join((reference or "").split())
    if len(reference) > 100:
        raise InvalidInput(_("At most %(max)s characters.", max=100), field="reference")
    try:
        order = orders.lock_order(order)
        if order.payment_status in orders.MONEY_HELD:
            raise NotAllowed(_("Order %(number)s is paid already.", number=order.number))
        note = "bank transfer received (confirmed by hand" + (f", reference {reference})" if reference else ")")
        orders.confirm_bank_transfer(order, actor=actor, user_id=user_id, note=note)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order
