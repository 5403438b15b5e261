"""transfers: stock sent from one shop to another in two steps (issue 13)

Revision ID: 0015_transfers
Revises: 0014_audit
Create Date: 2026-12-01 05:11:40

New tables only: nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_transfers'
down_revision = '0014_audit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_shop_id', sa.Integer(), nullable=False),
    sa.Column('to_shop_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('sent_by', sa.Integer(), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('sent', 'received', 'cancelled')", name=op.f('ck_stock_transfer_state_known')),
    sa.CheckConstraint('from_shop_id <> to_shop_id', name=op.f('ck_stock_transfer_two_shops')),
    sa.ForeignKeyConstraint(['closed_by'], ['user.id'], name=op.f('fk_stock_transfer_closed_by_user')),
    sa.ForeignKeyConstraint(['from_shop_id'], ['shop.id'], name=op.f('fk_stock_transfer_from_shop_id_shop')),
    sa.ForeignKeyConstraint(['sent_by'], ['user.id'], name=op.f('fk_stock_transfer_sent_by_user')),
    sa.ForeignKeyConstraint(['to_shop_id'], ['shop.id'], name=op.f('fk_stock_transfer_to_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfer'))
    )
    with op.batch_alter_table('stock_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_transfer_from_shop_id'), ['from_shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_transfer_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_transfer_to_shop_id'), ['to_shop_id'], unique=False)

    op.create_table('stock_transfer_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('quantity_sent', sa.Integer(), nullable=False),
    sa.Column('quantity_received', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity_received IS NULL OR quantity_received >= 0', name=op.f('ck_stock_transfer_line_received_not_negative')),
    sa.CheckConstraint('quantity_sent > 0', name=op.f('ck_stock_transfer_line_sent_positive')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_stock_transfer_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_transfer_line_product_id_product')),
    sa.ForeignKeyConstraint(['transfer_id'], ['stock_transfer.id'], name=op.f('fk_stock_transfer_line_transfer_id_stock_transfer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfer_line'))
    )
    with op.batch_alter_table('stock_transfer_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_transfer_line_transfer_id'), ['transfer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('stock_transfer_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_transfer_line_transfer_id'))

    op.drop_table('stock_transfer_line')
    with op.batch_alter_table('stock_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_transfer_to_shop_id'))
        batch_op.drop_index(batch_op.f('ix_stock_transfer_state'))
        batch_op.drop_index(batch_op.f('ix_stock_transfer_from_shop_id'))

    op.drop_table('stock_transfer')
