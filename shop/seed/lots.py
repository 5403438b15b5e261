"""Demo lots: the opening stock of each shop arrives in lots with realistic dates (DEMO DATA).

Shelf lives follow the kind of product (DOMAIN.md, "Lots, dates and food safety": dry noodles and
rice months, rice wine years, fresh bánh gio or oranges days to weeks, crafts none). Every dated
product has up to three lots, shared by the shops that stock it (a producer delivers one lot to
several shops): an old one with a quarter of its shelf life left, a middle one and a fresh one.
Dates are computed from today, so the demo keeps its mix in any year, including these on purpose:

- Miến dong Tài Hoan: the old lot is best before in 12 days — short-dated, kept for the counter;
- Mật ong rừng nguyên chất: the old lot is best before in 40 days — still online, expiring soon;
- Bún khô Huyền Nga: the old lot was best before 2 days ago — expired, on the "to withdraw" list;
- Bánh gio Pắc San: fresh (5 days), so never online with the default 30-day margin; Cam ngọt
  Thanh Mai (cool-stored, 45 days) is online from its fresh lot only;
- Tinh nghệ Bắc Kạn: the middle lot is recalled (``RECALL``), as after a food-safety check;
- crafts, orchids and homestays: lots without a best-before date.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

# Shelf life in days by product slug; a product not listed has no best-before date.
SHELF_LIFE_DAYS: dict[str, int | None] = {
    "mien-dong-tai-hoan": 365, "bot-dong-rieng-tai-hoan": 540, "gao-nep-tai": 270,
    "gao-bao-thai-yen-duong": 365, "gao-bao-thai-cho-don": 365, "gao-nep-tan-son": 270,
    "thuc-pham-bao-ve-suc-khoe-vicumax-nano-curcumin": 730,
    "thuc-pham-bao-ve-suc-khoe-vicumax-plus-nano-curcumin": 730,
    "thuc-pham-bao-ve-suc-khoe-vicumax-plus-tam-that-tieu-den-nano-curcumin": 730,
    "tra-giao-co-lam-nui-da": 540, "tinh-nghe-bac-kan": 730, "vien-tinh-nghe-mat-ong": 540,
    "bot-nghe-vang-bac-kan": 540, "tra-hoa-vang-bac-kan": 540, "tra-nu-voi": 540,
    "ruou-men-la-thanh-tam": 1825, "ruou-ngo-men-la-thanh-tam": 1825, "ruou-men-la-bang-phuc": 1825,
    "ruou-chuoi-men-la": 1095, "tra-ca-gai-leo": 540, "tra-tui-loc-ca-gai-leo": 720,
    "dau-goi-thao-duoc-bao-chau": 1095, "thuoc-tam-thao-duoc-nguoi-dao": 730,
    "bun-kho-huyen-nga": 365, "pho-kho-huyen-nga": 365, "tra-shan-tuyet-khau-bjooc": 540,
    "tra-shan-tuyet-bup-bac-ban-chao": 540, "mat-ong-rung-nguyen-chat": 730,
    "nuoc-gung-mat-ong-thanh-dat": 365, "giam-chuoi-manh-minh": 730, "tra-hoa-du-du-duc": 540,
    "cam-ngot-thanh-mai": 45, "banh-gio-pac-san": 5, "com-lam-sang-le": 45, "lap-suon-tam-cuong": 180,
    "thit-lon-treo-gac-bep-tam-cuong": 120, "thit-trau-gac-bep-tam-cuong": 120, "khau-sli-pac-nam": 90,
    "mang-kho-pac-nam": 365,
}

# The old lot's best-before, in days from today, where the demo wants a particular case.
OLD_LOT_LEFT_DAYS = {"mien-dong-tai-hoan": 12, "mat-ong-rung-nguyen-chat": 40, "bun-kho-huyen-nga": -2}

LOT_NOTE = "Lô hàng demo (demo lot)"

# The demo's recalled lot: (product slug, which lot: 0 old, 1 middle, 2 fresh, reason, decision).
RECALL = ("tinh-nghe-bac-kan", 1, "Kiểm tra định kỳ phát hiện độ ẩm vượt mức cho phép (demo)",
          "DEMO-07/QĐ-ATTP")


def lot_code(slug: str, produced: date) -> str:
    """A producer-style lot code: the product's initials and its production date (``MDTH-251104``)."""
    initials = "".join(word[0] for word in slug.split("-")[:4]).upper()
    return f"{initials}-{produced:%y%m%d}"


def product_lots(slug: str, today: date) -> list[dict]:
    """The lots of a product, oldest first: ``{"code", "produced_on", "best_before"}``. A product
    without a shelf life in ``SHELF_LIFE_DAYS`` (crafts, plants, stays) has one undated lot."""
    shelf = SHELF_LIFE_DAYS.get(slug)
    if shelf is None:
        produced = today - timedelta(days=60)
        return [{"code": lot_code(slug, produced), "produced_on": None, "best_before": None}]
    lots = []
    for share in (0.75, 0.45, 0.1):
        age = max(1, round(shelf * share))
        produced = today - timedelta(days=age)
        best_before = produced + timedelta(days=shelf)
        lots.append({"code": lot_code(slug, produced), "produced_on": produced, "best_before": best_before})
    if slug in OLD_LOT_LEFT_DAYS:
        best_before = today + timedelta(days=OLD_LOT_LEFT_DAYS[slug])
        produced = best_before - timedelta(days=shelf)
        lots[0] = {"code": lot_code(slug, produced), "produced_on": produced, "best_before": best_before}
    return lots


def split_receipt(quantity: int, lots: list[dict], rng: random.Random) -> list[tuple[int, int]]:
    """How a shop's opening quantity is spread over the product's lots: [(lot index, units)].

    From 6 units up, about a quarter is of the old lot and the rest of the middle or fresh one;
    smaller quantities are of the fresh lot.
    """
    if len(lots) <= 1:
        return [(0, quantity)]
    if quantity < 6:
        return [(len(lots) - 1, quantity)]  # a shop with little stock had the latest delivery
    old = max(1, quantity // 4)
    return [(0, old), (rng.choice((1, 2)), quantity - old)]
