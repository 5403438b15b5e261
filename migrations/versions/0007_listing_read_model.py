"""listing read model: a product's current stars and when they next change; catalogue version; indexes

Revision ID: 0007_listing_read_model
Revises: 0006_h2_cart_order_phone
Create Date: 2026-11-30 20:00:00

Existing rows are filled from their certificates (shop.catalog.listing.refresh_products), so the
catalogue shows the same products before and after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_listing_read_model'
down_revision = '0006_h2_cart_order_phone'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_version'))
    )
    # Plain ALTERs, not batch mode: SQLite adds columns and indexes in place (a table copy would
    # drop the search triggers and null order lines' products).
    op.add_column('product', sa.Column('current_stars', sa.Integer(), nullable=True))
    op.add_column('product', sa.Column('stars_until', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_product_stars_until', 'product', ['stars_until'], unique=False)
    op.create_index('ix_product_listing_stars', 'product', ['listed', sa.text('current_stars DESC'), 'name_folded', 'id'], unique=False)
    op.create_index('ix_product_listing_price', 'product', ['listed', 'price', 'name_folded', 'id'], unique=False)
    op.create_index('ix_product_listing_name', 'product', ['listed', 'name_folded', 'id'], unique=False)
    op.create_index('ix_product_listing_newest', 'product', ['listed', 'created_at', 'id'], unique=False)
    op.create_index('ix_product_producer_listing', 'product', ['producer_id', 'listed', sa.text('current_stars DESC'), 'name_folded', 'id'], unique=False)
    op.create_index('ix_product_group_listing', 'product', ['group_id', 'listed', sa.text('current_stars DESC'), 'name_folded', 'id'], unique=False)
    op.create_index('ix_reservation_product_state', 'reservation', ['product_id', 'state'], unique=False)

    from shop.catalog.listing import bump_version, refresh_products

    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM product"))]
    refresh_products(conn, ids)
    bump_version(conn)


def downgrade():
    op.drop_index('ix_reservation_product_state', table_name='reservation')
    for name in ('ix_product_group_listing', 'ix_product_producer_listing', 'ix_product_listing_newest',
                 'ix_product_listing_name', 'ix_product_listing_price', 'ix_product_listing_stars',
                 'ix_product_stars_until'):
        op.drop_index(name, table_name='product')
    # Not batch mode on SQLite: copying the product table would drop the search triggers and null
    # the product of every order line (ON DELETE SET NULL fires when the old table is dropped).
    # SQLite 3.35+ drops columns in place; PostgreSQL always did.
    op.execute("ALTER TABLE product DROP COLUMN stars_until")
    op.execute("ALTER TABLE product DROP COLUMN current_stars")
    op.drop_table('catalogue_version')
