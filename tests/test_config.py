import pytest

from config import ProductionConfig


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.validate()


PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 32, "DATABASE_URL": "postgresql+psycopg://u@db/ocop", "TRUSTED_HOSTS": "ocop.example",
    "BANK_BIN": "970418", "BANK_ACCOUNT": "123456789", "BANK_ACCOUNT_NAME": "OCOP BAC KAN",
    "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
}


def test_production_starts_with_secrets(monkeypatch):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    ProductionConfig.validate()


@pytest.mark.parametrize("name", ["TRUSTED_HOSTS", "BANK_ACCOUNT"])
def test_production_refuses_demo_bank_account_and_open_hosts(monkeypatch, name):
    for key, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(name)
    with pytest.raises(RuntimeError, match=name):
        ProductionConfig.validate()
