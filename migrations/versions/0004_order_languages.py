"""order languages: order lines keep English names and units; orders keep their language

Existing lines get the English name and unit of their product where the product still exists
(lines whose product was deleted keep an empty English name and show the Vietnamese one).
Existing orders were placed before the language was recorded: they are taken as Vietnamese, the
shop's default language.

Revision ID: 0004_order_languages
Revises: 0003_payments
Create Date: 2026-11-30 19:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_order_languages'
down_revision = '0003_payments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lang', sa.String(length=5), server_default='vi', nullable=False))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_name_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('unit_en', sa.String(length=60), server_default='', nullable=False))

    # Backfill from the product (a correlated subquery works the same on SQLite and PostgreSQL).
    op.execute(
        "UPDATE order_line SET "
        "product_name_en = COALESCE((SELECT product.name_en FROM product WHERE product.id = order_line.product_id), ''), "
        "unit_en = COALESCE((SELECT product.unit_en FROM product WHERE product.id = order_line.product_id), '') "
        "WHERE product_id IS NOT NULL"
    )


def downgrade():
    # SQLite drops a column by copying the table; "order" is referenced by other tables, so the
    # foreign-key check is paused for the copy (the rows and their keys do not change).
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('unit_en')
        batch_op.drop_column('product_name_en')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('lang')
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
