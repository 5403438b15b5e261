"""The back office's front door (``/backoffice``): each role's landing page listing what is
theirs, and the first scoped pages (a shop, a producer, an order, the users), each asking the
policy (``shop.accounts.policy``). The screens that work on these objects come in their own issues;
they follow the same pattern: load the object, ``authorize``, render.
"""
from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from shop.accounts import backoffice_bp as bp
from shop import headers
from shop.accounts import policy
from shop.accounts import services as accounts
from shop.accounts.enums import Role, ShopRole
from shop.accounts.models import Membership, User
from shop.accounts.policy import Action, authorize
from shop.extensions import db

for _global in (Role, ShopRole):
    bp.add_app_template_global(_global, _global.__name__)


@bp.before_request
@login_required
def _signed_in_staff_only():
    """Guests are sent to sign in; an administrator who must set up two-step does that first."""
    if accounts.must_set_up_two_step(current_user):
        return redirect(url_for("accounts.two_step_setup"))
    return None


@bp.after_request
def _private(response):
    response.headers["X-Robots-Tag"] = headers.NO_INDEX
    return headers.no_store(response)


def _get_or_404(model, **by):
    obj = db.session.scalar(select(model).filter_by(**by))
    if obj is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    return obj


@bp.get("/")
def index():
    """The landing page: administrators see everything, staff their shops, producer users their
    producer's products."""
    authorize(current_user, Action.ENTER_BACK_OFFICE)
    user = current_user
    shops = db.session.scalars(policy.shops_for(user)).all()
    producers = db.session.scalars(policy.producers_for(user)).all() if user.role is Role.PRODUCER else []
    products = db.session.scalars(policy.products_for(user).limit(200)).all() if user.role is Role.PRODUCER else []
    roles = {m.shop_id: m.shop_role for m in user.shop_memberships}
    counts = None
    if user.role is Role.ADMIN:
        from sqlalchemy import func

        from shop.catalog.models import Product
        from shop.orders.models import Order
        from shop.producers.models import Producer

        counts = {"producers": db.session.scalar(select(func.count(Producer.id))),
                  "products": db.session.scalar(select(func.count(Product.id))),
                  "orders": db.session.scalar(select(func.count(Order.id))),
                  "users": accounts.count_users()}
        producers = db.session.scalars(policy.producers_for(user).limit(200)).all()
    return render_template("backoffice/index.html", shops=shops, producers=producers, products=products,
                           roles=roles, counts=counts)


@bp.get("/shops/<slug>")
def shop(slug: str):
    from shop.orders.enums import ShipmentState
    from shop.orders.models import Shipment
    from shop.shops.models import Shop

    policy.require(current_user, Action.VIEW_SHOP)
    shop = _get_or_404(Shop, slug=slug[:120])
    authorize(current_user, Action.VIEW_SHOP, shop)
    open_states = [s for s in ShipmentState if s not in (ShipmentState.DELIVERED, ShipmentState.COLLECTED,
                                                         ShipmentState.CANCELLED)]
    shipments = db.session.scalars(select(Shipment).where(Shipment.shop_id == shop.id, Shipment.state.in_(open_states))
                                   .order_by(Shipment.id).limit(100)).all()
    return render_template("backoffice/shop.html", shop=shop, shipments=shipments,
                           role=policy.shop_role(current_user, shop.id),
                           may_manage=policy.can(current_user, Action.MANAGE_SHOP, shop))


@bp.get("/shops/<slug>/people")
def shop_people(slug: str):
    from shop.shops.models import Shop

    policy.require(current_user, Action.MANAGE_SHOP)
    shop = _get_or_404(Shop, slug=slug[:120])
    authorize(current_user, Action.MANAGE_SHOP, shop)
    members = db.session.scalars(select(Membership).where(Membership.shop_id == shop.id)
                                 .order_by(Membership.id)).all()
    return render_template("backoffice/shop_people.html", shop=shop, members=members)


@bp.get("/producers/<slug>")
def producer(slug: str):
    from shop.producers.models import Producer

    policy.require(current_user, Action.VIEW_PRODUCER)
    producer = _get_or_404(Producer, slug=slug[:160])
    authorize(current_user, Action.VIEW_PRODUCER, producer)
    return render_template("backoffice/producer.html", producer=producer)


@bp.get("/orders/<number>")
def order(number: str):
    from shop.orders.models import Order

    policy.require(current_user, Action.VIEW_ORDER)
    order = _get_or_404(Order, number=number[:20])
    authorize(current_user, Action.VIEW_ORDER, order)
    if current_user.role is Role.CUSTOMER:
        return redirect(url_for("orders.detail", number=order.number, token=order.access_token))
    shipments = [s for s in order.shipments if policy.can(current_user, Action.HANDLE_SHIPMENT, s)]
    return render_template("backoffice/order.html", order=order, shipments=shipments)


NEW_USER_FIELDS = ("email", "name", "role", accounts.SHOP_FIELD, "shop_role", "producer")


def _new_user_form():
    from flask_babel import gettext as _

    from shop.accounts.forms import NewUserForm
    from shop.producers.models import Producer
    from shop.shops.models import Shop

    form = NewUserForm()
    form.role.choices = [(r.value, r.label) for r in Role]
    form.shop_role.choices = [(r.value, r.label) for r in ShopRole]
    form.shop.choices = [(s.slug, s.name) for s in db.session.scalars(select(Shop).order_by(Shop.name))]
    form.producer.choices = [("", _("None"))] + [
        (p.slug, p.name) for p in db.session.scalars(select(Producer).order_by(Producer.name))]
    return form


@bp.route("/users", methods=["GET", "POST"])
def users():
    """The list of users (search by e-mail or name without diacritics; filters: role, shop,
    state — ``shop.admin.people.search``; each links to the user's page ``/admin/users/<id>``),
    and the form an administrator creates one with. The new user gets no password from anyone:
    an e-mailed link (the password reset link) lets them choose one."""
    from flask import flash
    from flask_babel import gettext as _

    from shop.accounts import mails
    from shop.errors import DomainError
    from shop.forms import apply_errors, field_errors

    authorize(current_user, Action.MANAGE_USERS)
    form = _new_user_form()
    general, status = [], 200
    if request.method == "POST":
        status = 400
        if not form.validate_on_submit():
            general = [_("The form has expired. Please try again.")]
        else:
            try:
                user = accounts.create_user(form.email.data, form.role.data or "", name=form.name.data,
                                            shops=form.shop.data or [], shop_role=form.shop_role.data or "",
                                            producer=form.producer.data or None)
                mails.send_reset(user)  # "choose your password": the same single-use, expiring link
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                _fields, general = apply_errors(form, exc, NEW_USER_FIELDS)
            else:
                flash(_("%(email)s can now choose a password with the link we have sent.", email=user.email), "success")
                return redirect(url_for("backoffice.users"))
    from shop.admin import people
    from shop.shops.models import Shop

    args = request.args
    filters = people.UserFilters(q=(args.get("q") or "").strip()[:100], role=(args.get("role") or "")[:20],
                                 shop=(args.get(accounts.SHOP_FIELD) or "")[:120], state=(args.get("state") or "")[:20])
    page_users, more = people.search(filters)
    return render_template("backoffice/users.html", users=page_users, more=more, filters=filters,
                           States=people.UserState, shops=db.session.scalars(select(Shop).order_by(Shop.name)).all(),
                           limit=people.LIST_LIMIT, form=form, general=general,
                           field_errors=field_errors(form, NEW_USER_FIELDS)), status
