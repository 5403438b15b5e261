"""The staff workspace's stock pages (``/staff/shops/<shop>/stock…``): receive a delivery (several
lines, each a lot), adjust with a reason, what runs low, and the ledger with its CSV export.

Every change is a call to ``shop.inventory.services`` (``receive``, ``adjust``), which writes the
ledger row; ``shop.accounts.audit`` names the signed-in user on it. The view checks what was typed
first, with messages in the page's language, so a bad line changes nothing: all lines of a
delivery are received in one transaction or none is.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime, time, timedelta

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from shop.catalog.models import Product
from shop.errors import DomainError
from shop.extensions import db
from shop.inputs import whole_number
from shop.inventory import holds
from shop.inventory import services as inventory
from shop.inventory.enums import MovementReason
from shop.inventory.models import Lot, LotStock, StockLevel, StockMovement
from shop.shops.models import Shop
from shop.staff import bp
from shop.staff.enums import AdjustReason
from shop.staff.forms import AdjustForm, ReceiveForm, ThresholdsForm
from shop.staff.views import actor_name, load_shop
from shop.timeutil import VN_TZ, today_vn

LEDGER_PAGE = 100
CSV_COLUMNS = ("time", "shop",  # vocabulary: CSV column names
               "product", "product_code", "lot", "best_before", "reason", "delta", "reference", "user", "note")
CSV_LIMIT = 50_000
# Cells a spreadsheet would read as a formula (OWASP "CSV injection"); tab and CR too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---- reading what was typed -------------------------------------------------------------------


def find_product(raw: str | None) -> Product | None:
    """A product by its code (slug) or barcode, as typed on the form; None when there is none."""
    raw = " ".join((raw or "").split())[:160]
    if not raw:
        return None
    return db.session.scalar(select(Product).where((Product.slug == raw.lower()) | (Product.barcode == raw)).limit(1))


def _day(raw: str | None) -> tuple[date | None, bool]:
    """(date, ok): empty is (None, True); a malformed date (None, False)."""
    raw = (raw or "").strip()
    if not raw:
        return None, True
    try:
        return date.fromisoformat(raw), True
    except ValueError:
        return None, False


def _lot_code(raw: str | None) -> tuple[str | None, str | None]:
    """(code as stored, error): empty means "generate one"."""
    if not (raw or "").strip():
        return None, None
    try:
        return inventory.normalise_lot_code(raw), None
    except DomainError:
        return None, _("1 to %(max)s letters, digits or signs.", max=inventory.LOT_CODE_MAX)


def _quantity(raw: str | None) -> int | None:
    return whole_number(raw, 1, inventory.MAX_QUANTITY)


def _product_choices() -> list[Product]:
    return list(db.session.scalars(select(Product).order_by(Product.name).limit(500)))


# ---- receive ------------------------------------------------------------------------------------


def _check_receive_line(sub, errors: dict[str, list[str]]) -> dict | None:
    """One delivery line checked: the arguments for ``inventory.receive``, None for an empty line."""
    fields = (sub.product.data, sub.lot_code.data, sub.produced_on.data, sub.best_before.data, sub.quantity.data)
    if not any((f or "").strip() for f in fields):
        return None

    def bad(field, message):
        field.errors = [message]
        errors.setdefault(field.id, []).append(message)

    product = find_product(sub.product.data)
    if product is None:
        bad(sub.product, _("No product has this code or barcode."))
    code, code_error = _lot_code(sub.lot_code.data)
    if code_error:
        bad(sub.lot_code, code_error)
    produced_on, ok = _day(sub.produced_on.data)
    if not ok:
        bad(sub.produced_on, _("A date like 2026-12-01."))
    elif produced_on and produced_on > today_vn():
        bad(sub.produced_on, _("The production date is in the future."))
    best_before, ok = _day(sub.best_before.data)
    if not ok:
        bad(sub.best_before, _("A date like 2026-12-01."))
    elif best_before and best_before < today_vn():
        bad(sub.best_before, _("This date has passed: such goods cannot be received for sale."))
    elif best_before and produced_on and best_before < produced_on:
        bad(sub.best_before, _("Before the production date."))
    quantity = _quantity(sub.quantity.data)
    if quantity is None:
        bad(sub.quantity, _("A whole number from 1 to %(max)s.", max=inventory.MAX_QUANTITY))
    if product is None or code_error or quantity is None or sub.errors:
        return None
    args = {"product_id": product.id, "quantity": quantity, "lot_code": code, "produced_on": produced_on,
            "best_before": best_before}
    if code is not None:
        lot = db.session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == code))
        if lot is not None:  # another delivery of a lot the shops already know
            if lot.recalled_at is not None:
                bad(sub.lot_code, _("This lot was recalled: it cannot be received."))
                return None
            if (best_before and lot.best_before and best_before != lot.best_before) or \
                    (produced_on and lot.produced_on and produced_on != lot.produced_on):
                bad(sub.lot_code, _("Lot %(code)s is already known with other dates.", code=code))
                return None
            args = {"product_id": product.id, "quantity": quantity, "lot_id": lot.id}
    return args


@bp.route("/shops/<slug>/stock/receive", methods=["GET", "POST"])
def receive(slug: str):
    """Goods from a producer: up to 20 lines (product, lot code, dates, quantity) and the delivery
    note's reference; every line is checked before any is received."""
    shop = load_shop(slug)
    form = ReceiveForm()
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        reference = " ".join((form.reference.data or "").split())
        if len(reference) > 60:
            form.reference.errors = [_("At most %(max)s characters.", max=60)]
            errors["reference"] = form.reference.errors
        if not form.validate_on_submit():
            general.append(_("The form could not be read; please send it again."))
        lines = [_check_receive_line(sub, errors) for sub in form.lines]
        wanted = [line for line in lines if line]
        if not wanted and not errors and not general:
            general.append(_("Fill in at least one line."))
        seen = set()
        for line in wanted:
            key = (line["product_id"], line.get("lot_code") or line.get("lot_id"))
            if key[1] is not None and key in seen:
                general.append(_("The same lot appears twice: put its units on one line."))
            seen.add(key)
        if not errors and not general:
            try:
                for line in wanted:
                    inventory.receive(shop.id, line.pop("product_id"), line.pop("quantity"),
                                      user_id=current_user.id, reference=reference or None, **line)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                general.append(exc.message)
            else:
                flash(_("%(n)s line(s) received.", n=len(wanted)), "success")
                return redirect(url_for("staff.ledger", slug=shop.slug))
        return render_template("staff/receive.html", shop=shop, form=form, errors=errors, general=general,
                               products=_product_choices()), 400
    return render_template("staff/receive.html", shop=shop, form=form, errors=errors, general=general,
                           products=_product_choices())


# ---- adjust -------------------------------------------------------------------------------------


def _adjust_form() -> AdjustForm:
    form = AdjustForm()
    form.reason.choices = [("", "—")] + [(r.value, r.label) for r in AdjustReason]
    return form


@bp.route("/shops/<slug>/stock/adjust", methods=["GET", "POST"])
def adjust(slug: str):
    """Stock adjusted by hand with a reason (broken, gift, sample: units leave, first-expiring first
    or from the lot named; found: units join the lot named or the lot received last)."""
    shop = load_shop(slug)
    form = _adjust_form()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        def bad(field, message):
            field.errors = [message]
            errors.setdefault(field.id, []).append(message)

        general = [] if form.validate_on_submit() else [_("The form could not be read; please send it again.")]
        product = find_product(form.product.data)
        if product is None:
            bad(form.product, _("No product has this code or barcode."))
        try:
            reason = AdjustReason(form.reason.data or "")
        except ValueError:
            reason = None
            bad(form.reason, _("Choose a reason."))
        quantity = _quantity(form.quantity.data)
        if quantity is None:
            bad(form.quantity, _("A whole number from 1 to %(max)s.", max=inventory.MAX_QUANTITY))
        lot_id = None
        if (form.lot_code.data or "").strip() and product is not None:
            code, code_error = _lot_code(form.lot_code.data)
            lot = db.session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == code)) \
                if code else None
            if code_error or lot is None:
                bad(form.lot_code, _("No lot with this code for this product."))
            else:
                lot_id = lot.id
        note = " ".join((form.note.data or "").split())[:500]
        if product is not None and reason is not None and reason.sign < 0 and quantity is not None:
            has = db.session.scalar(select(StockLevel.on_hand).where(StockLevel.shop_id == shop.id,
                                                                     StockLevel.product_id == product.id)) or 0
            if lot_id is not None:
                has = db.session.scalar(select(LotStock.on_hand).where(LotStock.shop_id == shop.id,
                                                                       LotStock.lot_id == lot_id)) or 0
            if quantity > has:
                bad(form.quantity, _("Only %(n)s on hand.", n=has))
            elif held := holds.uncovered_by_loss(shop.id, product.id, quantity, lot_id):
                # Units held for orders: breakage is recorded once confirmed (the orders are
                # flagged); a gift or a sample may not take them (README, "Staff workspace").
                if reason is not AdjustReason.BROKEN:
                    bad(form.quantity, holds.held_message(held) + " "
                        + _("A gift or a sample may not take them: use units that are not held."))
                elif not form.confirm_held.data:
                    bad(form.confirm_held, holds.held_message(held) + " "
                        + _("Tick the box to record the breakage anyway."))
        if not errors and not general:
            try:
                inventory.adjust(shop.id, product.id, reason.sign * quantity, user_id=current_user.id, lot_id=lot_id,
                                 note=f"{reason.value}: {note}" if note else reason.value,
                                 held_ok=reason is AdjustReason.BROKEN and bool(form.confirm_held.data),
                                 actor=actor_name(current_user))
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                general.append(exc.message)
            else:
                flash(_("Stock adjusted."), "success")
                return redirect(url_for("staff.ledger", slug=shop.slug, product=product.slug))
        return render_template("staff/adjust.html", shop=shop, form=form, errors=errors, general=general,
                               products=_product_choices()), 400
    return render_template("staff/adjust.html", shop=shop, form=form, errors=errors, general=[],
                           products=_product_choices())


# ---- stock on hand and what runs low -----------------------------------------------------------


def _render_stock(shop: Shop, status: int = 200, errors: list[str] | None = None, typed: dict | None = None):
    levels = db.session.scalars(select(StockLevel).where(StockLevel.shop_id == shop.id)
                                .options(joinedload(StockLevel.product))).all()
    available = inventory.availability_matrix([lv.product_id for lv in levels], [shop.id]) if levels else {}
    rows = [(lv, available.get((shop.id, lv.product_id), 0)) for lv in levels]
    low = sorted([r for r in rows if r[0].on_hand <= r[0].low_stock_threshold], key=lambda r: (r[0].on_hand, r[0].product.name))
    rest = sorted([r for r in rows if r[0].on_hand > r[0].low_stock_threshold], key=lambda r: r[0].product.name)
    from shop.staff.statements import staff_manages

    return render_template("staff/stock.html", shop=shop, low=low, rest=rest, errors=errors or [], typed=typed or {},
                           editable=staff_manages(shop), form=ThresholdsForm(),
                           max_threshold=inventory.MAX_THRESHOLD), status


@bp.get("/shops/<slug>/stock")
def stock(slug: str):
    """The shop's stock per product: on hand, held, available, its threshold; low ones first."""
    return _render_stock(load_shop(slug))


@bp.post("/shops/<slug>/stock/thresholds")
def thresholds(slug: str):
    """The managers' low-stock thresholds (``threshold-<product id>``: 0 … ``MAX_THRESHOLD``); only
    the ones that changed are written, all or none (``inventory.set_low_stock_threshold``)."""
    from flask_login import current_user as user

    from shop.accounts.policy import Action, authorize

    shop = load_shop(slug)
    authorize(user, Action.MANAGE_SHOP, shop)
    form = ThresholdsForm()
    typed = {k: v for k, v in request.form.items() if k.startswith("threshold-")}
    levels = {lv.product_id: lv for lv in db.session.scalars(select(StockLevel).where(StockLevel.shop_id == shop.id))}
    errors: list[str] = [] if form.validate_on_submit() else [_("The form could not be read; please send it again.")]
    changes: dict[int, int] = {}
    for key, raw in typed.items():
        product_id = whole_number(key[len("threshold-"):], 1, 2**31 - 1)
        level = levels.get(product_id)
        if level is None:
            errors.append(_("This shop has no stock of that product."))
            continue
        value = whole_number(raw, 0, inventory.MAX_THRESHOLD)
        if value is None:
            errors.append(_("%(product)s: a whole number from 0 to %(max)s.", product=level.product.name,
                            max=inventory.MAX_THRESHOLD))
        elif value != level.low_stock_threshold:
            changes[product_id] = value
    if errors:
        return _render_stock(shop, 400, errors, typed)
    try:
        for product_id, value in changes.items():
            inventory.set_low_stock_threshold(shop.id, product_id, value)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_stock(shop, 400, [exc.message], typed)
    flash(_("%(n)d threshold(s) changed.", n=len(changes)), "success")
    return redirect(url_for("staff.stock", slug=shop.slug))


# ---- the ledger ---------------------------------------------------------------------------------


def _ledger_query(shop: Shop, args) -> tuple[object, list[str], dict]:
    """The ledger rows of a shop narrowed by the URL (product code, lot code, reason, dates);
    a malformed part is left out with a message."""
    messages: list[str] = []
    shown = {}
    query = (select(StockMovement).where(StockMovement.shop_id == shop.id)
             .options(joinedload(StockMovement.lot), joinedload(StockMovement.product))
             .order_by(StockMovement.id.desc()))
    product_raw = (args.get("product") or "").strip()
    if product_raw:
        product = find_product(product_raw)
        if product is None:
            messages.append(_("No product has this code or barcode."))
        else:
            query = query.where(StockMovement.product_id == product.id)
            shown["product"] = product.slug
    lot_raw = (args.get("lot") or "").strip()
    if lot_raw:
        code, error = _lot_code(lot_raw)
        if error:
            messages.append(_("Lot: %(error)s", error=error))
        else:
            query = query.where(StockMovement.lot_id.in_(select(Lot.id).where(Lot.code == code)))
            shown["lot"] = code
    reason_raw = args.get("reason") or ""
    if reason_raw:
        try:
            query = query.where(StockMovement.reason == MovementReason(reason_raw))
            shown["reason"] = reason_raw
        except ValueError:
            messages.append(_("Unknown reason; showing every reason."))
    for key, op in (("from", "ge"), ("to", "lt")):
        day, ok = _day((args.get(key) or "")[:10])
        if not ok:
            messages.append(_("A date like 2026-12-01."))
        elif day:
            shown[key] = day.isoformat()
            if op == "ge":
                query = query.where(StockMovement.created_at >= datetime.combine(day, time.min, tzinfo=VN_TZ))
            else:
                query = query.where(StockMovement.created_at <
                                    datetime.combine(day + timedelta(days=1), time.min, tzinfo=VN_TZ))
    return query, messages, shown


@bp.get("/shops/<slug>/ledger")
def ledger(slug: str):
    """The shop's ledger, newest first, 100 rows a page, with filters and a CSV link."""
    shop = load_shop(slug)
    query, messages, shown = _ledger_query(shop, request.args)
    page = whole_number(request.args.get("page"), 1, 10_000) or 1
    rows = db.session.scalars(query.limit(LEDGER_PAGE + 1).offset((page - 1) * LEDGER_PAGE)).all()
    users = _user_emails({r.user_id for r in rows})
    return render_template("staff/ledger.html", shop=shop, rows=rows[:LEDGER_PAGE], more=len(rows) > LEDGER_PAGE,
                           page=page, messages=messages, shown=shown, reasons=list(MovementReason), users=users)


def _user_emails(ids) -> dict[int, str]:
    from shop.accounts.models import User

    ids = {i for i in ids if i}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()) if ids else {}


def safe_cell(value):
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or tab, CR) gets a
    leading apostrophe. Whole numbers stay numbers (a number is never a formula)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFC", str(value or ""))
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.get("/shops/<slug>/ledger.csv")
def ledger_csv(slug: str):
    """The filtered ledger as CSV (UTF-8 with a BOM so Excel reads Vietnamese; at most 50,000 rows,
    newest first)."""
    shop = load_shop(slug)
    query, _messages, _shown = _ledger_query(shop, request.args)
    rows = db.session.scalars(query.limit(CSV_LIMIT)).all()
    users = _user_emails({r.user_id for r in rows})
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([safe_cell(x) for x in (
            r.created_at.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M:%S"), shop.name, r.product.name, r.product.slug,
            r.lot.code if r.lot else "", r.lot.best_before.isoformat() if r.lot and r.lot.best_before else "",
            r.reason.value, r.delta, r.reference or "", users.get(r.user_id, ""), r.note)])
    name = f"ledger-{shop.slug}-{today_vn():%Y%m%d}.csv"
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
