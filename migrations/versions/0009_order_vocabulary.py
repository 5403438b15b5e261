"""orders and payments: CHECK constraints for every coded value (issue 9, one vocabulary)

Revision ID: 0009_order_vocabulary
Revises: 0008_order_review
Create Date: 2026-11-30 23:50:00

The values are those of the enums in shop/orders/enums.py and shop/payments/enums.py at this
revision (copied here: a migration must not change when the code does). A refund status that
Stripe sent and the shop does not know is read as ``pending`` (money not confirmed back yet).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_order_vocabulary'
down_revision = '0008_order_review'
branch_labels = None
depends_on = None

ORDER_STATUSES = ('pending_payment', 'placed', 'paid', 'processing', 'shipped', 'delivered', 'ready_for_pickup',
                  'collected', 'cancelled', 'refunded')
FULFILMENTS = ('delivery', 'pickup')
PAYMENT_METHODS = ('cod', 'bank_transfer', 'pay_at_shop', 'card')
PAYMENT_STATUSES = ('pending', 'processing', 'succeeded', 'failed', 'expired', 'mismatch', 'partially_refunded',
                    'refunded')
PROVIDERS = ('stripe', 'bank_transfer', 'cash')
REFUND_STATUSES = ('requested', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled')

CHECKS = {
    'order': [('status_known', 'status', ORDER_STATUSES), ('fulfilment_known', 'fulfilment', FULFILMENTS),
              ('payment_method_known', 'payment_method', PAYMENT_METHODS)],
    'payment': [('status_known', 'status', PAYMENT_STATUSES), ('provider_known', 'provider', PROVIDERS)],
    'refund': [('status_known', 'status', REFUND_STATUSES)],
    'webhook_event': [('provider_known', 'provider', PROVIDERS)],
}


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _foreign_keys(enabled):
    # SQLite changes a table by copying it; "order" and "payment" are referenced by other tables,
    # so the foreign-key check is paused for the copy (rows and keys do not change).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def upgrade():
    op.execute(f"UPDATE refund SET status = 'pending' WHERE NOT ({_in('status', REFUND_STATUSES)})")
    _foreign_keys(False)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, values in checks:
                batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), _in(column, values))
    _foreign_keys(True)


def downgrade():
    _foreign_keys(False)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _values in checks:
                batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
    _foreign_keys(True)
