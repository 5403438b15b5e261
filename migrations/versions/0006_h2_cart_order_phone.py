"""carts remember the order they became; customers' phone numbers stored as E.164

Revision ID: 0006_h2_cart_order_phone
Revises: 0005_search
Create Date: 2026-11-30 20:30:00

``cart.order_id``: a cart that became an order keeps no lines but points at it, so that sending
the same cart again shows that order (idempotent checkout).

``order.phone``: numbers were stored as Vietnamese national digits ("0912345678"); they become
E.164 ("+84912345678"), the form ``shop.phone.normalize_phone`` now stores. Anything else is left
as it is (pages show unreadable numbers as stored). The downgrade turns +84 numbers back.
"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_h2_cart_order_phone'
down_revision = '0005_search'
branch_labels = None
depends_on = None

_ORDER = sa.table("order", sa.column("id", sa.Integer), sa.column("phone", sa.String(20)))
_NATIONAL_VN = re.compile(r"0[0-9]{9,10}")  # what the old normaliser stored: 0 + 9 or 10 digits
_E164_VN = re.compile(r"\+84[0-9]{9,10}")


def _rewrite_phones(matches, convert) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_ORDER.c.id, _ORDER.c.phone)).all()
    for order_id, phone in rows:
        if phone and matches.fullmatch(phone):
            conn.execute(_ORDER.update().where(_ORDER.c.id == order_id).values(phone=convert(phone)))


def _alter_cart(change) -> None:
    """Batch-alter ``cart`` (SQLite copies the table). cart_item rows point at carts with ON DELETE
    CASCADE: with foreign keys on, dropping the old copy would delete them, so the check is paused
    for the copy (the rows and their keys do not change). Runs before any data change, so that the
    PRAGMA is not inside an open transaction."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('cart', schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def _add_order_id(batch_op) -> None:
    batch_op.add_column(sa.Column('order_id', sa.Integer(), nullable=True))
    batch_op.create_foreign_key(batch_op.f('fk_cart_order_id_order'), 'order', ['order_id'], ['id'],
                                ondelete='SET NULL')


def _drop_order_id(batch_op) -> None:
    batch_op.drop_constraint(batch_op.f('fk_cart_order_id_order'), type_='foreignkey')
    batch_op.drop_column('order_id')


def upgrade():
    _alter_cart(_add_order_id)
    _rewrite_phones(_NATIONAL_VN, lambda phone: "+84" + phone[1:])


def downgrade():
    _alter_cart(_drop_order_id)
    _rewrite_phones(_E164_VN, lambda phone: "0" + phone[3:])
