"""Flask extensions, created unbound and initialised in ``create_app``."""
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager as _LoginManager
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# A naming convention keeps constraint names stable across SQLite and PostgreSQL migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
compress = Compress()


class LoginManager(_LoginManager):
    """Flask-Login, minus one side effect: its after-request hook reads the session on every
    request, which makes Flask add ``Vary: Cookie`` to every page, anonymous ones included (and
    spoils their caching). A request with no session or remember cookie whose session nobody
    changed has no remember cookie to update."""

    def _update_remember_cookie(self, response):
        from flask import current_app, request
        from flask.globals import request_ctx

        config = current_app.config
        if not (request.cookies.get(config["SESSION_COOKIE_NAME"])
                or request.cookies.get(config.get("REMEMBER_COOKIE_NAME", "remember_token"))):
            # Flask marks the session accessed whenever the ``session`` proxy is touched: look at
            # the opened session object itself.
            opened = getattr(request_ctx, "_session", None)
            if opened is None or not opened.modified:
                return response
        return super()._update_remember_cookie(response)


login_manager = LoginManager()


def _order_rate_limit() -> str:
    from flask import current_app

    return current_app.config["ORDER_RATE_LIMIT"]


def _cart_rate_limit() -> str:
    from flask import current_app

    return current_app.config["CART_RATE_LIMIT"]


def place_order_limit():
    """Decorator: one budget (``ORDER_RATE_LIMIT``) per client address for placing orders, shared
    by every door that places one (checkout page, API), since each order holds stock."""
    return limiter.shared_limit(_order_rate_limit, scope="place-order", methods=["POST"],
                                override_defaults=False)


def create_cart_limit(exempt_when=None):
    """Decorator: one budget (``CART_RATE_LIMIT``) per client address for creating carts."""
    return limiter.shared_limit(_cart_rate_limit, scope="create-cart", methods=["POST"],
                                override_defaults=False, exempt_when=exempt_when)
