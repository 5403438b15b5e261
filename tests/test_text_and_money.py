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
