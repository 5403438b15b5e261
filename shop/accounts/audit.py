"""Every change made by a signed-in person names them.

Services record *what* happened (a ledger row, an order event, a refund, a recall); they are also
called from the CLI and jobs, where nobody is signed in. This hook fills in *who* from the request:
before a flush, new ``StockMovement``, ``OrderEvent`` and ``Refund`` rows and a lot being recalled
get the signed-in user's id, unless the service already set one. The readable ``actor`` text the
services write stays as it is, so history keeps a name even for an account closed later.
"""
from __future__ import annotations

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session


def _current_user_id() -> int | None:
    if not has_request_context():
        return None
    from flask import g
    from flask_login import current_user

    from shop.accounts.views import is_signed_in_request

    loaded = g.get("_login_user")  # Flask-Login's user of this request, once something asked
    if loaded is not None:
        return loaded.id if loaded.is_authenticated else None
    if not is_signed_in_request():
        return None  # a guest, known without loading a user

    try:
        return current_user.id if current_user.is_authenticated else None
    except AttributeError:
        return None


def _fill_in(session: Session, _context, _instances) -> None:
    from shop.inventory.models import Lot, StockMovement
    from shop.orders.models import OrderEvent
    from shop.payments.models import Refund

    candidates = [o for o in session.new if isinstance(o, (StockMovement, OrderEvent, Refund))]
    recalls = [o for o in session.dirty if isinstance(o, Lot) and o.recalled_at is not None and o.recalled_by is None]
    if not candidates and not recalls:
        return
    user_id = _current_user_id()
    if user_id is None:
        return
    for obj in candidates:
        if isinstance(obj, StockMovement):
            if obj.user_id is None:
                obj.user_id = user_id
        elif obj.actor_user_id is None:
            obj.actor_user_id = user_id
    for lot in recalls:
        lot.recalled_by = user_id


def init_app() -> None:
    if not event.contains(Session, "before_flush", _fill_in):
        event.listen(Session, "before_flush", _fill_in)
