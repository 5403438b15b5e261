"""lots: stock per shop and lot, ledger rows that name their lot (and their hold), recalls

Revision ID: 0010_lots
Revises: 0009_order_shape
Create Date: 2026-11-30 23:45:00

Existing stock is kept: each shop × product that has a stock level or ledger rows gets one lot,
code ``OPENING-<shop id>``, with no production or best-before date (unknown: staff read the
packages and set them later), holding today's on-hand; every existing ledger row names that lot.
Sales, releases and returns of existing orders are tied to their reservation (same order number,
shop and product), so ``lots_taken`` and a recall's list of buyers work for past orders too.
Where an undated lot stands in the FEFO order is explained in the README ("Lots and best-before
dates"): first, because it is the oldest stock.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0010_lots'
down_revision = '0009_order_shape'
branch_labels = None
depends_on = None

REASONS = ("receive", "sale", "adjust", "count", "transfer_out", "transfer_in", "return", "release",
           "write_off", "recall")
STATES = ("held", "committed", "released")
OPENING_NOTE = ("Stock on hand before lots were tracked (migration 0010_lots); production and "
                "best-before dates unknown: read them on the packages.")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    op.create_table('lot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('produced_on', sa.Date(), nullable=True),
    sa.Column('best_before', sa.Date(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recalled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recall_reason', sa.Text(), nullable=False),
    sa.Column('recall_reference', sa.String(length=80), nullable=True),
    sa.Column('recalled_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('best_before IS NULL OR produced_on IS NULL OR best_before >= produced_on',
                       name=op.f('ck_lot_best_before_not_before_production')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_lot_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot')),
    sa.UniqueConstraint('product_id', 'code', name='uq_lot_product_code')
    )
    op.create_index(op.f('ix_lot_product_id'), 'lot', ['product_id'], unique=False)
    op.create_index(op.f('ix_lot_expires_at'), 'lot', ['expires_at'], unique=False)
    op.create_table('lot_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_lot_stock_on_hand_not_negative')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_lot_stock_lot_id_lot')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_lot_stock_product_id_product')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_lot_stock_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_stock')),
    sa.UniqueConstraint('shop_id', 'lot_id', name='uq_lot_stock_shop_lot')
    )
    op.create_index(op.f('ix_lot_stock_lot_id'), 'lot_stock', ['lot_id'], unique=False)
    op.create_index('ix_lot_stock_shop_product', 'lot_stock', ['shop_id', 'product_id'], unique=False)

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # batch mode copies tables; keys do not change meanwhile
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_reservation_state_known'), _in('state', STATES))
    op.add_column('stock_movement', sa.Column('lot_id', sa.Integer(), nullable=True))
    op.add_column('stock_movement', sa.Column('reservation_id', sa.Integer(), nullable=True))

    conn = op.get_bind()
    now = datetime.now(UTC)
    pairs = set(conn.execute(sa.text("SELECT shop_id, product_id FROM stock_level")).all())
    pairs |= set(conn.execute(sa.text("SELECT DISTINCT shop_id, product_id FROM stock_movement")).all())
    levels = dict(((s, p), n) for s, p, n in conn.execute(
        sa.text("SELECT shop_id, product_id, on_hand FROM stock_level")).all())
    lot = sa.table('lot', sa.column('id', sa.Integer), sa.column('product_id', sa.Integer),
                   sa.column('code', sa.String), sa.column('note', sa.Text), sa.column('created_at', sa.DateTime),
                   sa.column('recall_reason', sa.Text))
    for shop_id, product_id in sorted(pairs):
        lot_id = conn.execute(lot.insert().values(
            product_id=product_id, code=f"OPENING-{shop_id}", note=OPENING_NOTE, created_at=now,
            recall_reason="").returning(lot.c.id)).scalar_one()
        conn.execute(sa.text("INSERT INTO lot_stock (shop_id, lot_id, product_id, on_hand) "
                             "VALUES (:s, :l, :p, :n)"),
                     {"s": shop_id, "l": lot_id, "p": product_id, "n": levels.get((shop_id, product_id), 0)})
        conn.execute(sa.text("UPDATE stock_movement SET lot_id = :l WHERE shop_id = :s AND product_id = :p"),
                     {"l": lot_id, "s": shop_id, "p": product_id})
    conn.execute(sa.text(
        "UPDATE stock_movement SET reservation_id = (SELECT MIN(r.id) FROM reservation r "
        "JOIN order_line l ON l.id = r.order_line_id JOIN \"order\" o ON o.id = l.order_id "
        "WHERE o.number = stock_movement.reference AND r.shop_id = stock_movement.shop_id "
        "AND r.product_id = stock_movement.product_id) "
        "WHERE reason IN ('sale', 'release', 'return') AND reference IS NOT NULL"))

    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.alter_column('lot_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_reservation_id'), ['reservation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_stock_movement_lot_id_lot'), 'lot', ['lot_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_stock_movement_reservation_id_reservation'), 'reservation',
                                    ['reservation_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_stock_movement_reason_known'), _in('reason', REASONS))
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    # Rows of reasons the older schema does not know (write_off, recall) stay: its column is free text.
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_stock_movement_reason_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_stock_movement_reservation_id_reservation'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_stock_movement_lot_id_lot'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_stock_movement_reservation_id'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_lot_id'))
        batch_op.drop_column('reservation_id')
        batch_op.drop_column('lot_id')
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reservation_state_known'), type_='check')
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    op.drop_index('ix_lot_stock_shop_product', table_name='lot_stock')
    op.drop_index(op.f('ix_lot_stock_lot_id'), table_name='lot_stock')
    op.drop_table('lot_stock')
    op.drop_index(op.f('ix_lot_expires_at'), table_name='lot')
    op.drop_index(op.f('ix_lot_product_id'), table_name='lot')
    op.drop_table('lot')
