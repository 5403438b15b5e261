"""Shelf counts in the staff workspace (``/staff/shops/<shop>/count``): a count sheet per shop,
printable, listing each lot on the shelf (with what the books say, or blind), then entered on the
same page. Each lot counted is set to what was counted through ``inventory.count`` (ledger
``count`` for the difference, all rows of one count sharing the reference ``C-<time>``); a lot
left empty is not touched. A count for a lot the shop never had is refused.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from shop.errors import DomainError
from shop.extensions import db
from shop.inputs import whole_number
from shop.inventory import services as inventory
from shop.inventory.enums import MovementReason
from shop.inventory.models import Lot, LotStock
from shop.staff import bp
from shop.staff.forms import BlindCountForm, ReasonForm
from shop.staff.views import load_shop
from shop.timeutil import VN_TZ, utcnow

SHEET_LIMIT = 2000


def _sheet(shop_id: int) -> list[tuple[Lot, int]]:
    """(lot, units on the books) for every lot the shop has or had, by product name then FEFO."""
    from shop.catalog.models import Product

    return [(lot, int(units)) for lot, units in db.session.execute(
        select(Lot, LotStock.on_hand).join(LotStock, LotStock.lot_id == Lot.id).join(Product, Product.id == Lot.product_id)
        .where(LotStock.shop_id == shop_id, LotStock.on_hand > 0)
        .order_by(Product.name, *inventory.fefo_order()).limit(SHEET_LIMIT))]


@bp.route("/shops/<slug>/count", methods=["GET", "POST"])
def count(slug: str):
    """The count sheet (``?blind=1`` hides the books' numbers) and its entry: ``lot-<id>`` fields
    hold what was counted (empty: not counted)."""
    from shop.staff.statements import staff_manages

    shop = load_shop(slug)
    manages = staff_manages(shop)
    # The manager's setting: clerks then only get the blind sheet; managers may look either way.
    forced = shop.blind_count and not manages
    blind = forced or request.values.get("blind") == "1"
    form = ReasonForm()
    sheet = _sheet(shop.id)
    if request.method == "GET":
        return render_template("staff/count.html", shop=shop, sheet=sheet, blind=blind, form=form, errors=[],
                               typed={}, now=utcnow(), forced=forced, manages=manages,
                               setting_form=BlindCountForm(blind_count=shop.blind_count))
    typed = {k: v for k, v in request.form.items() if k.startswith("lot-")}
    errors: list[str] = [] if form.validate_on_submit() else [_("The form could not be read; please send it again.")]
    counts: list[tuple[Lot, int]] = []
    for key, raw in typed.items():
        if not raw.strip():
            continue
        lot_id = whole_number(key[4:], 1, 2**31 - 1)
        had = db.session.scalar(select(LotStock).where(LotStock.shop_id == shop.id, LotStock.lot_id == lot_id)) \
            if lot_id else None
        if had is None:
            errors.append(_("This shop never had that lot: it cannot be counted here."))
            continue
        units = whole_number(raw, 0, inventory.MAX_QUANTITY)
        if units is None:
            errors.append(_("%(product)s, lot %(lot)s: a whole number from 0 to %(max)s.",
                            product=had.lot.product.name, lot=had.lot.code, max=inventory.MAX_QUANTITY))
            continue
        counts.append((had.lot, units))
    if not counts and not errors:
        errors.append(_("Type at least one count."))
    if errors:
        return render_template("staff/count.html", shop=shop, sheet=sheet, blind=blind, form=form, errors=errors,
                               typed=typed, now=utcnow(), forced=forced, manages=manages,
                               setting_form=BlindCountForm(blind_count=shop.blind_count)), 400
    reference = f"C-{utcnow().astimezone(VN_TZ):%Y%m%d-%H%M%S}"
    changed = 0
    try:
        for lot, units in sorted(counts, key=lambda c: (c[0].product_id, c[0].id)):
            move = inventory.count(shop.id, lot.product_id, units, lot_id=lot.id, user_id=current_user.id,
                                   reference=reference)
            changed += move is not None
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return render_template("staff/count.html", shop=shop, sheet=_sheet(shop.id), blind=blind, form=form,
                               errors=[exc.message], typed=typed, now=utcnow(), forced=forced, manages=manages,
                               setting_form=BlindCountForm(blind_count=shop.blind_count)), 409
    flash(_("%(n)s lot(s) counted, %(changed)s with a difference.", n=len(counts), changed=changed), "success")
    return redirect(url_for("staff.ledger", slug=shop.slug, reason=MovementReason.COUNT.value))


@bp.post("/shops/<slug>/count/setting")
def count_setting(slug: str):
    """The manager's choice: clerks count blind (``shops.services.set_blind_count``)."""
    from shop.accounts.policy import Action, authorize
    from shop.shops.services import set_blind_count

    shop = load_shop(slug)
    authorize(current_user, Action.MANAGE_SHOP, shop)
    form = BlindCountForm()
    if not form.validate_on_submit():
        abort(400)
    set_blind_count(shop.id, bool(form.blind_count.data))
    db.session.commit()
    flash(_("Clerks now count blind.") if shop.blind_count else _("Clerks now see what the books say."), "success")
    return redirect(url_for("staff.count", slug=shop.slug))
