"""Writes docs/ocop-import-sample.csv and .xlsx: a small province list made from the demo data
(shop/seed/data), for trying the import (README, "Administration"). DEMO DATA: the scores.

Against the demo catalogue it gives: re-recognitions of the products whose certificates expire
soon or have expired, one upgrade, one new product of a known producer (its name written with
"HTX" where the catalogue says "Hợp tác xã"), one new producer, and two rows refused to fix: an
unknown group, and a producer name one letter away from a known one.

    .venv/bin/python scripts/make_import_sample.py
"""
from __future__ import annotations

import csv
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "shop" / "seed" / "data"
SCORE = {3: 62, 4: 76, 5: 91}
# (product slug, stars now): products of the demo, re-recognised (or upgraded) by the decision.
KNOWN = [("ruou-men-la-bang-phuc", 4), ("tra-hoa-du-du-duc", 3), ("banh-gio-pac-san", 3), ("gio-tre-dan-na-phac", 3),
         ("gao-bao-thai-cho-don", 3), ("tra-ca-gai-leo", 3), ("gao-nep-tan-son", 3), ("vien-tinh-nghe-mat-ong", 4)]
HEADER = ["STT", "Tên sản phẩm", "Chủ thể OCOP", "Địa chỉ", "Phân nhóm", "Hạng sao", "Điểm"]


def rows() -> list[list]:
    producers = {p["slug"]: p for p in tomllib.loads((DATA / "producers.toml").read_text())["producer"]}
    products = {p["slug"]: p for p in tomllib.loads((DATA / "products.toml").read_text())["product"]}
    out = []
    for slug, stars in KNOWN:
        product = products[slug]
        producer = producers[product["producer"]]
        out.append([product["name"], producer["name"], producer["address"], product["group"], stars, SCORE[stars] + stars])
    tai_hoan = producers["htx-tai-hoan"]
    out.append(["Bánh đa dong riềng Tài Hoan", "HTX Tài Hoan", tai_hoan["address"], "I.3", 3, 64])
    out.append(["Tương ớt Bản Sáng", "Hộ kinh doanh Lò Thị Mai", "Thôn Bản Sáng, xã Yến Dương, huyện Ba Bể, tỉnh Bắc Kạn",
                "Gia vị", 3, 58])
    out.append(["Chè dây Ba Bể", "HTX Yến Dương", producers["htx-yen-duong"]["address"], "VII.1", 3, 60])
    thanh_tam = producers["htx-thanh-tam"]
    out.append(["Rượu ngô men lá Thanh Tâm", "HTX Than Tâm", thanh_tam["address"], "Đồ uống có cồn", 3, 66])
    return [[n, *row] for n, row in enumerate(out, start=1)]


def main() -> None:
    data = rows()
    with open(ROOT / "docs" / "ocop-import-sample.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *data])
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Phụ lục"
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    book.save(ROOT / "docs" / "ocop-import-sample.xlsx")


if __name__ == "__main__":
    main()
