"""The producer portal's pages (``/portal``): profile, products and certificates, stock, sales.

Each page: signed in (guests are sent to sign in), the ``VIEW_PRODUCER`` action (a producer user
or an administrator; anyone else a 403), the producer in the user's scope (another producer's slug
is a 404, the same answer as a producer that does not exist). Pages are private: no-store, noindex.
"""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import format_date as babel_date
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from shop import headers
from shop.accounts import policy
from shop.accounts import services as accounts
from shop.accounts.enums import Role
from shop.accounts.policy import Action, authorize
from shop.extensions import db
from shop.portal import bp, queries
from shop.producers.models import Producer
from shop.timeutil import today_vn


@bp.before_request
@login_required
def _signed_in():
    """Guests are sent to sign in; an administrator who must set up two-step does that first."""
    if accounts.must_set_up_two_step(current_user):
        return redirect(url_for("accounts.two_step_setup"))
    return None


@bp.after_request
def _private(response):
    response.headers["X-Robots-Tag"] = headers.NO_INDEX
    return headers.no_store(response)


def producer_or_404(slug: str) -> Producer:
    """The producer named by ``slug`` if the signed-in user may see it: 403 for a role without the
    action, 404 for another producer's slug or one that does not exist."""
    policy.require(current_user, Action.VIEW_PRODUCER)
    producer = db.session.scalar(select(Producer).where(Producer.slug == (slug or "")[:160]))
    if producer is None:
        raise NotFound()
    authorize(current_user, Action.VIEW_PRODUCER, producer)
    return producer


@bp.get("/")
def index():
    """A producer user goes to their own portal; an administrator chooses a producer."""
    policy.require(current_user, Action.VIEW_PRODUCER)
    if current_user.role is Role.PRODUCER:
        producer_id = policy.producer_id_of(current_user)
        producer = db.session.get(Producer, producer_id) if producer_id else None
        if producer is None:
            raise NotFound()
        return redirect(url_for("portal.producer", slug=producer.slug))
    producers = db.session.scalars(policy.producers_for(current_user).limit(500)).all()
    return render_template("portal/index.html", producers=producers)


@bp.get("/<slug>")
def producer(slug: str):
    """The producer's profile as the public sees it, its products and their certificates."""
    producer = producer_or_404(slug)
    return render_template("portal/producer.html", producer=producer, products=queries.products_of(producer.id),
                           today=today_vn(), tab="profile")


@bp.get("/<slug>/stock")
def stock(slug: str):
    """Units of each product at each shop, by lot, with best-before dates."""
    producer = producer_or_404(slug)
    return render_template("portal/stock.html", producer=producer, stock=queries.stock_of(producer.id),
                           tab="stock")


@bp.get("/<slug>/sales")
def sales(slug: str):
    """Units and revenue per month, the last twelve months, as a table and a bar chart."""
    producer = producer_or_404(slug)
    months = queries.sales_by_month(producer.id)
    chart = queries.bar_chart([(babel_date(m.month, "MM/yy"), m.revenue) for m in months])
    return render_template("portal/sales.html", producer=producer, months=months, chart=chart,
                           total_units=sum(m.units for m in months), total_revenue=sum(m.revenue for m in months),
                           tab="sales")


def _tabs() -> list[tuple[str, str]]:
    from flask_babel import gettext as _

    return [("portal.producer", _("Profile")), ("portal.stock", _("Stock")), ("portal.sales", _("Sales"))]


@bp.context_processor
def _portal_globals():
    return {"portal_tabs": _tabs}
