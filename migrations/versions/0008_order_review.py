"""orders: staff review flag, and the keys that recognise one customer (per-customer limits)

Revision ID: 0008_order_review
Revises: 0007_listing_read_model
Create Date: 2026-11-30 19:50:00

Existing orders keep their data: the flag starts cleared and ``email_key`` is filled from each
order's email with the same rule as ``shop.orders.models.email_key``. Holds that never ended
before this version get a deadline counted from the upgrade: cash-on-delivery and pay-at-shop
orders still waiting for staff (``placed``) 24 hours, pay-at-shop orders ready at the shop 7 days
(the defaults of COD_CONFIRM_HOURS and PICKUP_COLLECT_DAYS).
"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


revision = '0008_order_review'
down_revision = '0007_listing_read_model'
branch_labels = None
depends_on = None


def _email_key(email):
    local, _, domain = (email or "").strip().lower().rpartition("@")
    if not local:
        return domain
    return f"{local.split('+', 1)[0]}@{domain}"


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_key', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('needs_review', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('review_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_order_email_key'), ['email_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_needs_review'), ['needs_review'], unique=False)

    conn = op.get_bind()
    order = sa.table('order', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('email_key', sa.String))
    for row_id, email in conn.execute(sa.select(order.c.id, order.c.email)).all():
        conn.execute(order.update().where(order.c.id == row_id).values(email_key=_email_key(email)))

    now = datetime.now(UTC)
    for status, methods, deadline in (("placed", ("cod", "pay_at_shop"), now + timedelta(hours=24)),
                                      ("ready_for_pickup", ("pay_at_shop",), now + timedelta(days=7))):
        params = {"status": status, "deadline": deadline, **{f"m{i}": m for i, m in enumerate(methods)}}
        in_methods = ", ".join(f":m{i}" for i in range(len(methods)))
        waiting = f'SELECT id FROM "order" WHERE status = :status AND payment_method IN ({in_methods})'
        conn.execute(sa.text(
            "UPDATE reservation SET expires_at = :deadline WHERE state = 'held' AND expires_at IS NULL "
            f"AND order_line_id IN (SELECT id FROM order_line WHERE order_id IN ({waiting}))"), params)
        conn.execute(sa.text(
            f'UPDATE "order" SET hold_expires_at = :deadline WHERE hold_expires_at IS NULL AND id IN ({waiting})'),
            params)


def downgrade():
    # SQLite drops a column by copying the table; "order" is referenced by other tables, so the
    # foreign-key check is paused for the copy (the rows and their keys do not change).
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_needs_review'))
        batch_op.drop_index(batch_op.f('ix_order_phone'))
        batch_op.drop_index(batch_op.f('ix_order_email_key'))
        batch_op.drop_column('review_reason')
        batch_op.drop_column('needs_review')
        batch_op.drop_column('email_key')
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
