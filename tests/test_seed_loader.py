"""The demo data files: shipped with the package, and a malformed file is named with its row or key."""
from __future__ import annotations

import fnmatch
import shutil
import tomllib
from pathlib import Path

import pytest

from shop.seed import loader
from shop.seed.loader import DemoDataError, load_demo_data

DATA = Path(loader.__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A copy of the shipped data files that a test may spoil."""
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_files_load_and_ship_with_the_package():
    data = load_demo_data()
    assert len(data.products) >= 45 and len(data.producers) >= 15 and len(data.shops) == 11
    assert {s.kind for s in data.shops} == {"shop", "warehouse"}
    assert next(p for p in data.products if p.slug == "mien-dong-tai-hoan").decisions[0].decision == "2890/QĐ-BNN-VPĐP"
    # Every data file matches a package-data pattern, so a wheel (not only a checkout) carries it.
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["shop.seed"]
    for path in DATA.iterdir():
        assert any(fnmatch.fnmatch(f"data/{path.name}", pattern) for pattern in patterns), path.name


@pytest.mark.parametrize("file, old, new, message", [
    ("products.toml", 'price = 65000', 'price = "65000"',
     "products.toml: [[product]] 2, key 'price': expected a whole number, got '65000'"),
    ("products.toml", 'price = 65000', 'price = 65000\nprice_en = 3',
     "products.toml: [[product]] 2: unknown key 'price_en'"),
    ("products.toml", 'unit_en = "1 kg bag"\nprice = 65000', 'price = 65000',
     "products.toml: [[product]] 2: missing key 'unit_en'"),
    ("products.toml", 'producer = "htx-yen-duong"', 'producer = "htx-yen-duong-x"',
     "products.toml: [[product]] 3 (gao-nep-tai), key 'producer': unknown producer 'htx-yen-duong-x'"),
    ("products.toml", 'barcode = "8930001000018"', 'barcode = "8930001000019"',
     "products.toml: [[product]] 1 (mien-dong-tai-hoan): key 'barcode': not an EAN-13 code"),
    ("products.toml", 'issued = 2021-06-30', 'issued = "30/6/2021"',
     "products.toml: [[product]] 1, key 'decisions'[1], key 'issued': expected a date (YYYY-MM-DD), got '30/6/2021'"),
    ("products.toml", 'price = 65000', 'price = 65000 000',
     "products.toml: not valid TOML: "),
    ("producers.toml", 'locality = "con-minh"', 'locality = "con-minh-x"',
     "producers.toml: [[producer]] 1 (htx-tai-hoan), key 'locality': unknown place 'con-minh-x'"),
    ("shops.toml", 'hours = "long"', 'hours = "evening"',
     "shops.toml: [[shop]] 1 (ocop-bac-kan-trung-tam), key 'hours': unknown [hours.<name>] table 'evening'"),
    ("shops.toml", 'lat = 22.147180', 'lat = "north"',
     "shops.toml: [[shop]] 1, key 'lat': expected a decimal number, got 'north'"),
    ("stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-na-ri,mien-dong-tai-hoan,three",
     "stock.csv: line 9, column 'quantity': expected a whole number, got 'three'"),
    ("stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-na-ri,mien-dong-tai-hoan",
     "stock.csv: line 9: 2 cells for 3 columns"),
    ("stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-na-ri,mien-dong-tai-hoan,0",
     "stock.csv: line 9, column 'quantity': must be more than 0"),
    ("stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-na-ri,mien-dong-tai-hoanx,3",
     "stock.csv: line 9, column 'product': unknown product 'mien-dong-tai-hoanx'"),
    ("stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-pac-nam,mien-dong-tai-hoan,3",
     "stock.csv: line 9: the same row as one above"),
    ("stock.csv", "shop,product,quantity", "shop,product,quantity,lot",
     "stock.csv: line 5: unknown column 'lot'"),
    ("localities.csv", "ba-be,Ba Bể,district,bac-kan,", "ba-be,Ba Bể,district,bac-can,",
     "localities.csv: line 9, column 'parent': unknown place 'bac-can' (parents are defined on a line above)"),
    ("product_groups.csv", "I.1,", "IX.1,",
     "product_groups.csv: line 7, column 'code': unknown parent group 'IX'"),
])
def test_a_malformed_file_is_named_with_its_row_or_key_and_the_reason(data_dir, file, old, new, message):
    _edit(data_dir / file, old, new)
    with pytest.raises(DemoDataError) as caught:
        load_demo_data(data_dir)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.file == file


def test_comment_lines_in_a_csv_file_are_skipped_and_lines_still_counted(data_dir):
    _edit(data_dir / "stock.csv", "shop,product,quantity\n", "shop,product,quantity\n# A comment.\n\n")
    assert len(load_demo_data(data_dir).stock) == len(load_demo_data().stock)
    _edit(data_dir / "stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-na-ri,mien-dong-tai-hoan,-3")
    with pytest.raises(DemoDataError, match=r"^stock.csv: line 11, column 'quantity'"):
        load_demo_data(data_dir)


def test_seed_demo_reports_a_malformed_file_and_writes_nothing(app, runner, data_dir, monkeypatch):
    from sqlalchemy import func, select

    from shop.extensions import db
    from shop.places.models import Locality

    _edit(data_dir / "stock.csv", "ocop-na-ri,mien-dong-tai-hoan,3", "ocop-na-ri,mien-dong-tai-hoan,3.5")
    monkeypatch.setattr(loader, "DATA_DIR", data_dir)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert ("demo data not loaded: stock.csv: line 9, column 'quantity': expected a whole number, got '3.5'"
            in result.output)
    assert db.session.scalar(select(func.count()).select_from(Locality)) == 0
