import pytest

from shop.money import format_vnd
from shop.text import fold, slugify


@pytest.mark.parametrize("amount, shown", [
    (120000, "120.000\u00a0₫"),
    (0, "0\u00a0₫"),
    (1_250_000, "1.250.000\u00a0₫"),
    (999, "999\u00a0₫"),
    (-15000, "-15.000\u00a0₫"),
])
def test_prices_are_whole_dong_with_dot_separators(amount, shown):
    assert format_vnd(amount) == shown


@pytest.mark.parametrize("text, folded", [
    ("Gạo Nếp Tài", "gao nep tai"),
    ("MIẾN DONG Tài Hoan", "mien dong tai hoan"),
    ("Đặc sản   Bắc Kạn", "dac san bac kan"),
    ("Trà Shan tuyết", "tra shan tuyet"),
    ("Rượu men lá Bằng Phúc", "ruou men la bang phuc"),
    ("", ""),
    (None, ""),
])
def test_fold_strips_vietnamese_diacritics_and_case(text, folded):
    assert fold(text) == folded


def test_fold_handles_decomposed_input():
    # The same word typed with combining marks (as some keyboards send it) folds the same way.
    import unicodedata

    assert fold(unicodedata.normalize("NFD", "Nếp Tài")) == "nep tai"


def test_slugify():
    assert slugify("Miến dong Tài Hoan (1 kg)") == "mien-dong-tai-hoan-1-kg"


# ---- amounts typed by people (issue 8 item 1) -----------------------------------------------

from shop.errors import InvalidInput  # noqa: E402
from shop.money import MAX_VND, parse_vnd  # noqa: E402


@pytest.mark.parametrize("text, amount", [
    ("250000", 250_000),
    ("250.000", 250_000),
    ("250,000", 250_000),
    ("250 000", 250_000),
    ("250.000 ₫", 250_000),
    ("250.000\u00a0₫", 250_000),  # exactly what format_vnd prints
    ("250000đ", 250_000),
    ("250.000 đồng", 250_000),
    ("250.000 VND", 250_000),
    ("250,000 vnđ", 250_000),
    ("  1.250.000 ", 1_250_000),
    ("1.000", 1_000),
    ("999", 999),
    ("0", 0),
    ("2.000.000.000", MAX_VND),
])
def test_amounts_typed_in_every_usual_way_are_read_exactly(text, amount):
    assert parse_vnd(text) == amount


@pytest.mark.parametrize("amount", [0, 1, 999, 1000, 30_000, 250_000, 1_234_567, MAX_VND])
def test_what_format_vnd_prints_reads_back_to_the_same_amount(amount):
    assert parse_vnd(format_vnd(amount)) == amount


@pytest.mark.parametrize("text, says", [
    ("1,000.00", "mixes separators"),   # the example: was read as 100000
    ("1.000,50", "mixes separators"),
    ("1.000 000", "mixes separators"),
    ("250000.50", "decimal"),
    ("250000,5", "decimal"),
    ("1.5", "decimal"),
    ("25.00.00", "grouped in threes"),
    ("1.0000", "grouped in threes"),
    ("1234.567", "grouped in threes"),
    ("1,00,000", "grouped in threes"),  # Indian grouping
    ("-50000", "sign"),
    ("+50000", "sign"),
    ("\u221250000", "sign"),
    ("٢٥٠٠٠٠", "digits 0-9"),
    ("２５００００", "digits 0-9"),
    ("25O000", "for example"),
    ("2.5e5", "for example"),
    ("0x10", "for example"),
    (".250", "for example"),
    ("250.", "for example"),
    ("₫", "for example"),
    ("", "for example"),
    ("   ", "for example"),
    ("2.000.000.001", "too large"),
    ("99999999999", "too large"),
    ("1" * 33, "too long"),
    ("1" * 4301, "too long"),  # bounded before int(): no ValueError from Python's digit limit
    ("250000 USD", "for example"),
])
def test_amounts_that_could_be_misread_are_refused_never_rounded(text, says):
    from flask_babel import force_locale

    with force_locale("en"), pytest.raises(InvalidInput) as error:
        parse_vnd(text)
    assert says in error.value.message and error.value.details["field"] == "amount"


def test_refusals_are_explained_in_vietnamese():
    from flask_babel import force_locale

    with force_locale("vi"), pytest.raises(InvalidInput) as error:
        parse_vnd("1,000.00")
    assert "dấu phân cách" in error.value.message


def test_money_in_the_environment_is_read_with_the_same_parser(monkeypatch):
    import config

    monkeypatch.setenv("SHIPPING_FEE", "30.000 ₫")
    assert config._vnd("SHIPPING_FEE", 1) == 30_000
    monkeypatch.setenv("SHIPPING_FEE", "30,000.00")
    with pytest.raises(RuntimeError, match="SHIPPING_FEE"):
        config._vnd("SHIPPING_FEE", 1)
