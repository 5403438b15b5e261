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
    SHIPPING_FEE = _int("SHIPPING_FEE", 30_000)
    FREE_SHIPPING_THRESHOLD = _int("FREE_SHIPPING_THRESHOLD", 500_000)
    MAX_LINE_QUANTITY = _int("MAX_LINE_QUANTITY", 50)
    CARD_HOLD_MINUTES = _int("CARD_HOLD_MINUTES", 15)
    BANK_TRANSFER_HOLD_MINUTES = _int("BANK_TRANSFER_HOLD_MINUTES", 24 * 60)
    CART_COOKIE_NAME = "cart"

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

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_DEFAULT = os.environ.get("RATELIMIT_DEFAULT", "")
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None

    @classmethod
    def validate(cls) -> None:
        """Hook for configurations that must fail fast; the default has safe fallbacks."""


class DevelopmentConfig(Config):
    DEBUG = False  # the reloader/debugger is opt-in with `flask run --debug`


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SERVER_NAME = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}

    @classmethod
    def validate(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production configuration needs these environment variables: " + ", ".join(missing)
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
