"""Stock moves only through shop.inventory.services, and the ledger always explains the level."""
import pytest
from sqlalchemy import func, select

from shop.errors import InvalidInput, OutOfStock
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import StockLevel, StockMovement


def level(shop, product) -> int:
    return db.session.scalar(
        select(StockLevel.on_hand).where(StockLevel.shop_id == shop.id, StockLevel.product_id == product.id)
    )


def ledger_sum(shop, product) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(StockMovement.delta), 0))
        .where(StockMovement.shop_id == shop.id, StockMovement.product_id == product.id)
    )


def test_receiving_stock_writes_a_ledger_row_and_raises_the_level(make_product, make_shop):
    product, shop = make_product(), make_shop()
    movement = inventory.receive(shop.id, product.id, 12, note="first delivery")
    inventory.receive(shop.id, product.id, 3)
    db.session.commit()

    assert movement.reason == "receive" and movement.delta == 12
    assert level(shop, product) == 15 == ledger_sum(shop, product)
    assert inventory.ledger_mismatches() == []


def test_stock_cannot_go_below_zero_and_nothing_is_written(make_product, make_shop):
    product, shop = make_product(), make_shop()
    inventory.receive(shop.id, product.id, 2)
    db.session.commit()

    with pytest.raises(OutOfStock):
        inventory.adjust(shop.id, product.id, -3, note="broken jar")
    db.session.rollback()

    assert level(shop, product) == 2
    assert db.session.scalar(select(func.count(StockMovement.id))) == 1


def test_count_records_the_difference(make_product, make_shop):
    product, shop = make_product(), make_shop()
    inventory.receive(shop.id, product.id, 10)
    movement = inventory.count(shop.id, product.id, 7, note="monthly count")
    assert inventory.count(shop.id, product.id, 7) is None  # nothing to record
    db.session.commit()

    assert movement.delta == -3 and movement.reason == "count"
    assert level(shop, product) == 7 == ledger_sum(shop, product)


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "3", True, 10**9])
def test_receive_rejects_nonsense_quantities(make_product, make_shop, quantity):
    product, shop = make_product(), make_shop()
    with pytest.raises(InvalidInput):
        inventory.receive(shop.id, product.id, quantity)
    assert db.session.scalar(select(func.count(StockMovement.id))) == 0


@pytest.mark.no_read_model_check  # the test breaks the books on purpose
def test_ledger_mismatch_is_reported(make_product, make_shop):
    product, shop = make_product(), make_shop()
    inventory.receive(shop.id, product.id, 5)
    db.session.commit()
    # Someone edits the level behind the module's back: the check must notice.
    db.session.execute(StockLevel.__table__.update().values(on_hand=9))
    db.session.commit()
    assert inventory.ledger_mismatches() == [(shop.id, product.id, 9, 5)]
    assert inventory.lot_ledger_mismatches() == [f"shop {shop.id} product {product.id}: on hand 9, its lots 5"]
