"""Administration pages for users: ``/admin/users/<id>`` — the role, each shop membership
(manager or clerk), the producer, disable and enable, and the history. The list with search and
filters is the back office's ``/backoffice/users`` (where users are created); it links here.
Rules: ``shop.admin.people``."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from shop.accounts.enums import Role, ShopRole
from shop.admin import bp, records
from shop.admin import people as service
from shop.admin.enums import AuditObject
from shop.errors import DomainError, InvalidInput
from shop.extensions import db

SHOP_PREFIX = "shop-"  # the form field of each shop's role: shop-<slug>


def _user_or_404(user_id: int):
    try:
        return service.get(user_id)
    except DomainError:
        raise NotFound() from None


def _who() -> dict:
    return {"by": current_user, "actor": current_user.display_name, "user_id_by": current_user.id}


def _render_user(user, *, errors=None, general=(), status=200, posted=None):
    from shop.producers.models import Producer
    from shop.shops.models import Shop

    shops = db.session.scalars(select(Shop).order_by(Shop.name)).all()
    producers = db.session.scalars(select(Producer).order_by(Producer.name)).all()
    if posted is None:
        posted = {"role": user.role.value,
                  "shops": {m.shop.slug: m.shop_role.value for m in user.shop_memberships},
                  "producer": user.producer_membership.producer.slug if user.producer_membership else ""}
    return render_template("admin/user.html", user=user, shops=shops, producers=producers, roles=list(Role),
                           shop_roles=list(ShopRole), posted=posted, errors=errors or {}, general=list(general),
                           history=records.history(AuditObject.USER, user.id), SHOP_PREFIX=SHOP_PREFIX,
                           is_self=user.id == current_user.id), status


def _checked_csrf() -> None:
    from shop.accounts.forms import EmptyForm

    if not EmptyForm().validate_on_submit():
        raise InvalidInput(_("The form has expired. Please try again."))


@bp.get("/users/<id:user_id>")
def user(user_id: int):
    """A user's role, memberships, state and history."""
    return _render_user(_user_or_404(user_id))


@bp.post("/users/<id:user_id>/role")
def user_role(user_id: int):
    """Change the role and memberships (``accounts.set_role``: the user's sessions end)."""
    user = _user_or_404(user_id)
    form = request.form
    shop_roles = {key[len(SHOP_PREFIX):][:120]: (form.get(key) or "")[:20]
                  for key in form if key.startswith(SHOP_PREFIX) and form.get(key)}
    posted = {"role": (form.get("role") or "")[:20], "shops": shop_roles, "producer": (form.get("producer") or "")[:160]}
    try:
        _checked_csrf()
        changed = service.change_role(user.id, role=posted["role"], shop_roles=shop_roles,
                                      producer=posted["producer"] or None, **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        field = exc.details.get("field") or ""
        errors = {name: list(messages) for name, messages in (getattr(exc, "errors", None) or {field: [exc.message]}).items()}
        general = errors.pop("", [])
        status = 409 if exc.status == 409 else 400
        return _render_user(user, errors=errors, general=general, status=status, posted=posted)
    flash(_("Saved: %(user)s must sign in again.", user=user.display_name) if changed else _("Nothing changed."),
          "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<id:user_id>/<any(disable, enable):change>")
def user_state(user_id: int, change: str):
    """Disable an account (its sessions end at once; nothing is deleted) or enable it again."""
    user = _user_or_404(user_id)
    try:
        _checked_csrf()
        service.set_disabled(user.id, change == "disable", **_who())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_user(user, general=[exc.message], status=409 if exc.status == 409 else 400)
    flash(_("The account is disabled: its sessions have ended.") if change == "disable"
          else _("The account is enabled again."), "success")
    return redirect(url_for("admin.user", user_id=user.id))
