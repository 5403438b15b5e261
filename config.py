"""Configuration classes, read from environment variables.

Development and testing get safe defaults so that ``make run`` works on a fresh machine;
production refuses to start without a real ``SECRET_KEY`` and ``DATABASE_URL``.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _vnd(name: str, default: int) -> int:
    """An amount of money from the environment, read like every amount a person types (``30.000``)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    from shop.errors import InvalidInput
    from shop.money import parse_vnd

    try:
        return parse_vnd(raw, field=name)
    except InvalidInput as exc:
        raise RuntimeError(f"{name}: {exc.message} (got {raw[:40]!r})") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'ocop.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    CATALOG_PER_PAGE = _int("CATALOG_PER_PAGE", 24)
    SHOP_NAME = os.environ.get("SHOP_NAME", "OCOP Bắc Kạn")

    # Checkout and orders
    SHIPPING_FEE = _vnd("SHIPPING_FEE", 30_000)
    FREE_SHIPPING_THRESHOLD = _vnd("FREE_SHIPPING_THRESHOLD", 500_000)
    MAX_LINE_QUANTITY = _int("MAX_LINE_QUANTITY", 50)
    # A card order's stock hold and its Stripe Checkout Session expire at the same instant, and
    # Stripe refuses sessions that expire sooner than 30 minutes after creation: hence 30, not 15.
    # (shop/payments tops the hold up to 31 minutes from the moment the session is created.)
    CARD_HOLD_MINUTES = _int("CARD_HOLD_MINUTES", 30)
    # Once a customer has completed Checkout with a delayed payment method, the stock stays held this
    # long while Stripe waits for the money (checkout.session.async_payment_succeeded / _failed).
    CARD_ASYNC_HOLD_MINUTES = _int("CARD_ASYNC_HOLD_MINUTES", 3 * 24 * 60)
    BANK_TRANSFER_HOLD_MINUTES = _int("BANK_TRANSFER_HOLD_MINUTES", 24 * 60)
    # Cash on delivery and pay at the shop: staff confirm the order with the customer (a phone
    # call, "xác nhận đơn") within this many hours, or it expires and its stock is released.
    COD_CONFIRM_HOURS = _int("COD_CONFIRM_HOURS", 24)
    PICKUP_CONFIRM_HOURS = _int("PICKUP_CONFIRM_HOURS", 48)
    # A pay-at-shop order not collected this many days after it is ready expires and is released.
    PICKUP_COLLECT_DAYS = _int("PICKUP_COLLECT_DAYS", 7)
    # Per customer (same phone number or same email): open unpaid orders holding stock, and units.
    MAX_OPEN_ORDERS_PER_CUSTOMER = _int("MAX_OPEN_ORDERS_PER_CUSTOMER", 3)
    MAX_OPEN_UNITS_PER_CUSTOMER = _int("MAX_OPEN_UNITS_PER_CUSTOMER", 100)
    CART_COOKIE_NAME = "cart"
    CARD_RELEASE_GRACE_MINUTES = _int("CARD_RELEASE_GRACE_MINUTES", 10)
    # Lots: a lot whose best-before day is fewer than this many days away (Vietnam's calendar) is
    # not sold online; the shop may still sell it at the counter with a notice (issue 10).
    LOT_ONLINE_MARGIN_DAYS = _int("LOT_ONLINE_MARGIN_DAYS", 30)
    # The shop's public address, printed in QR stamps (https://ocop.example.vn); unset: the address
    # the stamp sheet was requested at.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").strip()

    # Card payments (Stripe Checkout). Without STRIPE_SECRET_KEY the card option is hidden.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")

    # Bank account shown (with a VietQR code) for bank-transfer orders. Demo values by default.
    BANK_BIN = os.environ.get("BANK_BIN", "970418")
    BANK_NAME = os.environ.get("BANK_NAME", "BIDV")
    BANK_ACCOUNT = os.environ.get("BANK_ACCOUNT", "8880012345")
    BANK_ACCOUNT_NAME = os.environ.get("BANK_ACCOUNT_NAME", "TRUNG TAM XUC TIEN OCOP BAC KAN")

    # Mail: without MAIL_SERVER, messages are written to the log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "OCOP Bắc Kạn <no-reply@ocop.example>")
    MAIL_TIMEOUT_SECONDS = _int("MAIL_TIMEOUT_SECONDS", 10)

    # The outbox (shop/outbox): e-mails are rows written with the change that causes them, sent
    # after the commit. With REDIS_URL an RQ worker sends them (`flask outbox worker`); without,
    # the process that committed sends them at once. OUTBOX_DISPATCH (rq / inline / sweeper) overrides.
    REDIS_URL = os.environ.get("REDIS_URL", "").strip()
    OUTBOX_DISPATCH = os.environ.get("OUTBOX_DISPATCH", "").strip().lower()
    OUTBOX_QUEUE = os.environ.get("OUTBOX_QUEUE", "mail")
    # A temporary failure (4xx, connection refused) is tried again after 1, 2, 4… minutes (at most
    # an hour apart) until OUTBOX_MAX_ATTEMPTS tries (12: about 6 hours); a permanent one (5xx)
    # until OUTBOX_MAX_PERMANENT_ATTEMPTS (3: about 3 minutes). Then the message is dead (logged).
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 12)
    OUTBOX_MAX_PERMANENT_ATTEMPTS = _int("OUTBOX_MAX_PERMANENT_ATTEMPTS", 3)
    OUTBOX_BACKOFF_SECONDS = _int("OUTBOX_BACKOFF_SECONDS", 60)
    OUTBOX_BACKOFF_MAX_SECONDS = _int("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    # While a try runs, no other deliverer takes the message; a deliverer killed mid-send leaves
    # it due again after this long (well above MAIL_TIMEOUT_SECONDS × the SMTP steps).
    OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 300)
    # Sent messages hold order links (secrets): `outbox deliver` deletes them after this many days.
    OUTBOX_KEEP_SENT_DAYS = _int("OUTBOX_KEEP_SENT_DAYS", 14)

    # Compression of text responses (Flask-Compress, shop/static_files.py): turn it off with
    # COMPRESS_REGISTER=0 when a reverse proxy compresses already.
    COMPRESS_REGISTER = _bool("COMPRESS_REGISTER", True)
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "text/xml", "text/plain", "text/csv", "application/json",
        "application/javascript", "text/javascript", "application/xml", "image/svg+xml",
    ]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_DEFAULT = os.environ.get("RATELIMIT_DEFAULT", "")
    RATELIMIT_HEADERS_ENABLED = True

    # JSON API (shop/api): browser origins of partners allowed by CORS (comma-separated, exact
    # origins such as https://app.example.vn; empty = none), and per-client rate limits.
    API_CORS_ORIGINS = tuple(
        origin.strip().rstrip("/") for origin in os.environ.get("API_CORS_ORIGINS", "").split(",") if origin.strip()
    )
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120/minute")
    # Orders placed from one address, through the checkout page and the API together (one
    # budget: each order holds stock), and carts created through the API.
    ORDER_RATE_LIMIT = os.environ.get("ORDER_RATE_LIMIT", "10/minute")
    CART_RATE_LIMIT = os.environ.get("CART_RATE_LIMIT", "20/minute")
    # Search suggestions per client address (one request per pause in typing).
    SUGGEST_RATE_LIMIT = os.environ.get("SUGGEST_RATE_LIMIT", "120/minute")
    # Live Markdown previews in the producer portal, per signed-in account (POST /portal/preview).
    PREVIEW_RATE_LIMIT = os.environ.get("PREVIEW_RATE_LIMIT", "60 per minute")

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    # (needed for correct https links in emails and Stripe return URLs behind a load balancer).
    PROXY_COUNT = _int("PROXY_COUNT", 0)
    # Host names this shop answers to (comma-separated). Links in emails and Stripe return URLs
    # are built from the request's host, so production must not trust whatever a client sends.
    TRUSTED_HOSTS = [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Accounts (shop/accounts, README "Accounts and roles"). Argon2id cost: argon2-cffi's RFC 9106
    # low-memory profile (3 passes over 64 MiB).
    PASSWORD_HASH_TIME_COST = _int("PASSWORD_HASH_TIME_COST", 3)
    PASSWORD_HASH_MEMORY_KIB = _int("PASSWORD_HASH_MEMORY_KIB", 64 * 1024)
    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 3600)          # seconds; and single use
    EMAIL_VERIFY_MAX_AGE = _int("EMAIL_VERIFY_MAX_AGE", 3 * 24 * 3600)    # seconds
    REMEMBER_DAYS = _int("REMEMBER_DAYS", 30)
    REMEMBER_COOKIE_NAME = "remember_token"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # Administrators must turn on two-step sign-in before doing anything (on in production).
    TOTP_REQUIRED_FOR_ADMINS = _bool("TOTP_REQUIRED_FOR_ADMINS", False)
    # Rate limits (Flask-Limiter, the shared RATELIMIT_STORAGE_URI). "Per account" counts failed
    # attempts against one e-mail address whether or not it has an account: it is the lockout,
    # and it ends when its window does (README).
    SIGN_IN_LIMIT_PER_ADDRESS = os.environ.get("SIGN_IN_LIMIT_PER_ADDRESS", "30 per 10 minutes")
    SIGN_IN_LIMIT_PER_ACCOUNT = os.environ.get("SIGN_IN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    TWO_STEP_LIMIT_PER_ADDRESS = os.environ.get("TWO_STEP_LIMIT_PER_ADDRESS", "30 per 10 minutes")
    TWO_STEP_LIMIT_PER_ACCOUNT = os.environ.get("TWO_STEP_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    FORGOT_LIMIT_PER_ADDRESS = os.environ.get("FORGOT_LIMIT_PER_ADDRESS", "10 per hour")
    FORGOT_LIMIT_PER_ACCOUNT = os.environ.get("FORGOT_LIMIT_PER_ACCOUNT", "3 per hour")
    REGISTER_LIMIT_PER_ADDRESS = os.environ.get("REGISTER_LIMIT_PER_ADDRESS", "10 per hour")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    HSTS_SECONDS = 0  # never on plain-HTTP development: it would lock browsers out of http://127.0.0.1
    WTF_CSRF_TIME_LIMIT = None
    # Rendered public pages kept per catalogue and stock version (shop/pagecache.py); in Redis when
    # CACHE_REDIS_URL (or REDIS_URL) is set, else in each worker's memory.
    PAGE_CACHE = _bool("PAGE_CACHE", True)
    CACHE_REDIS_URL = (os.environ.get("CACHE_REDIS_URL") or os.environ.get("REDIS_URL", "")).strip()

    @classmethod
    def validate(cls) -> None:
        """Hook for configurations that must fail fast; the default has safe fallbacks."""


class DevelopmentConfig(Config):
    DEBUG = False  # the reloader/debugger is opt-in with `flask run --debug`


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    # Tests switch Stripe on themselves (against a local stand-in), never from the environment.
    STRIPE_SECRET_KEY = STRIPE_PUBLISHABLE_KEY = STRIPE_WEBHOOK_SECRET = ""
    RATELIMIT_ENABLED = False
    SERVER_NAME = None
    # Kept pages in each test process's memory (tests/test_pagecache.py tries Redis explicitly).
    CACHE_REDIS_URL = ""
    # Cheap hashes: the suite signs in hundreds of times (the cost is argon2's, not ours to test).
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 8


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    # Strict-Transport-Security max-age in seconds (shop/security.py); 0 turns it off.
    HSTS_SECONDS = _int("HSTS_SECONDS", 365 * 24 * 3600)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    TOTP_REQUIRED_FOR_ADMINS = _bool("TOTP_REQUIRED_FOR_ADMINS", True)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}

    @classmethod
    def validate(cls) -> None:
        # The bank account has demo defaults and the host list guards the links in emails:
        # neither may be left to chance in production.
        required = ("SECRET_KEY", "DATABASE_URL", "TRUSTED_HOSTS", "BANK_BIN", "BANK_ACCOUNT", "BANK_ACCOUNT_NAME")
        missing = [name for name in required if not os.environ.get(name)]
        if os.environ.get("STRIPE_SECRET_KEY") and not os.environ.get("STRIPE_WEBHOOK_SECRET"):
            # Card orders would take money but never be marked paid: only the webhook confirms them.
            missing.append("STRIPE_WEBHOOK_SECRET")
        if missing:
            raise RuntimeError(
                "Production configuration needs these environment variables: " + ", ".join(missing)
            )
        storage = os.environ.get("RATELIMIT_STORAGE_URI", "").strip()
        if not storage or storage.startswith("memory://"):
            # In memory, every worker counts alone: 10/minute becomes 10/minute per worker.
            raise RuntimeError(
                "Production needs RATELIMIT_STORAGE_URI pointing to storage shared by all workers "
                "(e.g. redis://localhost:6379/0); memory:// counts per worker."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by ``OCOP_ENV`` (development, testing, production)."""
    name = os.environ.get("OCOP_ENV", "development").lower()
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise RuntimeError(f"OCOP_ENV must be one of {', '.join(CONFIGS)}, got {name!r}") from exc
