"""OCOP Shop: the application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, config_from_env

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    """Build the app from a config class (``OCOP_ENV`` picks one by default) plus overrides."""
    config_class = config_class or config_from_env()
    config_class.validate()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))  # dev emails are written at INFO
    _prepare_sqlite(app)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    register_extensions(app)
    register_models()
    from shop import inputs

    inputs.init_app(app)  # the <id:...> URL converter, before the blueprints' rules use it
    register_blueprints(app)
    from shop import security

    security.init_app(app)  # default headers (CSP…), request ids in logs, /healthz and /readyz
    register_template_helpers(app)
    register_errorhandlers(app)
    register_commands(app)
    register_outbox(app)
    return app


def _prepare_sqlite(app: Flask) -> None:
    """Create the folder of an SQLite file and make SQLite behave (foreign keys, WAL)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_extensions(app: Flask) -> None:
    from shop.extensions import babel, csrf, db, limiter, login_manager, migrate
    from shop.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "shop" / "translations"))
    limiter.init_app(app)
    from shop import static_files

    static_files.init_app(app)  # versioned static URLs, year-long caching, compression
    from shop import pagecache

    pagecache.init_app(app)  # after CSRFProtect: it wraps the templates' csrf_token()
    _init_login(app, login_manager)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()


def _init_login(app: Flask, login_manager) -> None:
    """Flask-Login: sessions and "remember me" cookies carry ``"<user id>.<session version>"``
    (shop/accounts/views.py::load_user); who did what is recorded from them (shop/accounts/audit.py)."""
    from flask_babel import lazy_gettext as _l

    from shop.accounts import audit
    from shop.accounts.views import header_user, load_user, private_when_signed_in

    # Flask-Login's own context processor loads the user for every template (reading the session:
    # ``Vary: Cookie`` on every page); the proxy is lazy, so templates get it as it is.
    from flask_login import current_user

    login_manager.init_app(app, add_context_processor=False)
    # "basic" session protection writes ``_fresh`` into a guest's session (one holding only its
    # CSRF token) the first time anything asks who is signed in, which would make every later page
    # of that guest personal (never kept by shop/pagecache.py). Nothing here relies on freshness;
    # sessions end through the session version instead (README "Accounts and roles").
    login_manager.session_protection = None
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    audit.init_app()
    app.after_request(private_when_signed_in)
    app.add_template_global(header_user)


def register_models() -> None:
    """Import every model module so that metadata (and Alembic) sees all tables."""
    from shop.accounts import models as _accounts  # noqa: F401
    from shop.admin import models as _admin  # noqa: F401  (the audit history)
    from shop.cart import models as _cart  # noqa: F401
    from shop.catalog import models as _catalog  # noqa: F401
    from shop.catalog import listing as _listing  # noqa: F401  (keeps the listing read model in step)
    from shop.catalog import search as _search  # noqa: F401  (keeps search columns in step)
    from shop.inventory import models as _inventory  # noqa: F401
    from shop.inventory import services as _stock  # noqa: F401  (keeps the stock version in step)
    from shop.orders import models as _orders  # noqa: F401
    from shop.outbox import models as _outbox  # noqa: F401
    from shop.payments import models as _payments  # noqa: F401
    from shop.places import models as _places  # noqa: F401
    from shop.portal import models as _portal  # noqa: F401  (photos and proposals)
    from shop.producers import models as _producers  # noqa: F401
    from shop.shops import models as _shops  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from shop.accounts import backoffice, views as _account_views  # noqa: F401  (routes)
    from shop.accounts import backoffice_bp, bp as accounts_bp
    from shop.admin import bp as admin_bp, views as _admin_views  # noqa: F401  (routes)
    from shop.api.views import bp as api_bp
    from shop.cart.views import bp as cart_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.orders.views import bp as orders_bp
    from shop.payments.views import bp as payments_bp
    from shop.portal import bp as portal_bp, review as _review, views as _portal_views  # noqa: F401  (routes)
    from shop.producers.views import bp as producers_bp
    from shop.seo import bp as seo_bp
    from shop.inventory.views import bp as trace_bp
    from shop.shops.views import bp as shops_bp
    from shop.staff import bp as staff_bp
    from shop.staff import counts as _counts, stock as _stock, transfers as _transfers, views as _staff  # noqa: F401
    from shop.staff import refunds as _refunds, statements as _statements  # noqa: F401

    app.register_blueprint(catalog_bp)
    app.register_blueprint(seo_bp)  # /robots.txt, /sitemap.xml, /favicon.ico
    app.register_blueprint(producers_bp, url_prefix="/producers")
    app.register_blueprint(shops_bp, url_prefix="/shops")
    app.register_blueprint(cart_bp, url_prefix="/cart")
    app.register_blueprint(orders_bp, url_prefix="/orders")
    app.register_blueprint(payments_bp, url_prefix="/payments")
    app.register_blueprint(accounts_bp, url_prefix="/account")
    app.register_blueprint(backoffice_bp, url_prefix="/backoffice")
    app.register_blueprint(admin_bp, url_prefix="/admin")  # administrators only (issue 14)
    app.register_blueprint(staff_bp, url_prefix="/staff")  # the shop staff's workspace (shop/staff/)
    app.register_blueprint(portal_bp, url_prefix="/portal")  # the producer portal (shop/portal/, issue 15)
    app.register_blueprint(trace_bp, url_prefix="/q")  # QR stamps' trace pages (shop/inventory/trace.py)
    # The JSON API (/api/v1) authenticates nothing by cookie, so it has no CSRF to protect against.
    from shop.extensions import csrf

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)

    @app.get("/media/<path:filename>")
    def media(filename: str):
        """Uploaded and generated pictures and their WebP copies (shop/media.py; served by the web
        server in production if preferred)."""
        from shop import media as pictures

        return pictures.serve(filename)


def _refuse_nul_bytes():
    """NUL never belongs in a URL path or a form, and PostgreSQL refuses it in text: stop it here."""
    from flask import abort, request

    if "\x00" in request.path:
        abort(404)
    if request.method == "POST" and request.form and any("\x00" in v for v in request.form.values()):
        abort(400)


def register_template_helpers(app: Flask) -> None:
    from shop import template_helpers

    template_helpers.init_app(app)
    app.before_request(_refuse_nul_bytes)


def register_errorhandlers(app: Flask) -> None:
    from shop.errors import register_errorhandlers as register

    register(app)


def register_outbox(app: Flask) -> None:
    """Mail queued after a request's or command's last commit is committed when it ends
    (``shop.outbox.services.commit_late_mail``); the session events that dispatch committed mail
    are declared in that module."""
    from shop.outbox import services

    app.teardown_request(services.commit_late_mail)
    app.teardown_appcontext(services.commit_late_mail)


def register_commands(app: Flask) -> None:
    from shop import cli

    cli.init_app(app)
