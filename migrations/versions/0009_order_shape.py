"""orders and payments: one vocabulary, shipments per source shop, payment status (issue 9)

Revision ID: 0009_order_shape
Revises: 0008_order_review
Create Date: 2026-12-01 00:15:00

1. CHECK constraints for every coded value of orders and payments. The values are those of the
   enums in shop/orders/enums.py and shop/payments/enums.py at this revision (copied here: a
   migration must not change when the code does). A refund status that Stripe sent and the shop
   does not know is read as ``pending`` (money not confirmed back yet).
2. ``shipment`` (one per source shop of an order) and ``order_event.shipment_id``. Existing orders
   get one shipment per shop their reservations come from, in the state their order's status
   implies: waiting, paid or being prepared → to prepare; shipped, delivered, ready for pick-up,
   collected → the same; cancelled → cancelled (gone from the shop when its units had been sold:
   a cash-on-delivery parcel refused at the door); refunded → delivered / collected when its units
   had been sold and not put back, else cancelled. ``left_at`` is the order's last change for
   shipments whose goods left the shop.
3. ``order.payment_status`` and ``order.amount_refunded``, read from each order's status, method
   and payments: waiting for a card or transfer → pending; money received (a confirmed transfer or
   card payment, a delivered cash-on-delivery or collected pay-at-shop order, money that came for a
   cancelled order) → paid, partially refunded or refunded by what went back; otherwise unpaid.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_order_shape'
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

PAYMENT_STATE = ('unpaid', 'pending', 'paid', 'partially_refunded', 'refunded')
CHECKS = {
    'order': [('payment_status_known', 'payment_status', PAYMENT_STATE), ('status_known', 'status', ORDER_STATUSES), ('fulfilment_known', 'fulfilment', FULFILMENTS),
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


STATES = ('to_prepare', 'packed', 'shipped', 'delivered', 'ready_for_pickup', 'collected', 'cancelled')
SAME = {'shipped': 'shipped', 'delivered': 'delivered', 'ready_for_pickup': 'ready_for_pickup',
        'collected': 'collected'}
LEFT = {'shipped', 'delivered', 'collected'}


def _state(status, fulfilment, sold):
    if status in SAME:
        return SAME[status], status in LEFT
    if status == 'cancelled':
        return 'cancelled', sold
    if status == 'refunded':
        if sold:
            return ('delivered' if fulfilment == 'delivery' else 'collected'), True
        return 'cancelled', False
    return 'to_prepare', False


PREPAID = ('card', 'bank_transfer')
PAID_STATUSES = ('paid', 'processing', 'shipped', 'delivered', 'ready_for_pickup', 'collected')


def _payment_status(status, method, received, refunded):
    if status == 'refunded':
        return 'refunded'
    held = (received or (method in PREPAID and status in PAID_STATUSES)
            or (method == 'cod' and status == 'delivered') or (method == 'pay_at_shop' and status == 'collected'))
    if held:
        if refunded and received and refunded >= received:
            return 'refunded'
        return 'partially_refunded' if refunded else 'paid'
    return 'pending' if status == 'pending_payment' else 'unpaid'


def _shipments():
    op.create_table('shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('carrier', sa.String(length=80), server_default='', nullable=False),
    sa.Column('tracking_number', sa.String(length=80), server_default='', nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name=op.f('ck_shipment_state_known')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_shipment_order_id_order')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_shipment_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
    sa.UniqueConstraint('order_id', 'shop_id', name='uq_shipment_order_shop')
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_state'), ['state'], unique=False)

    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_event_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_event_shipment_id_shipment'), 'shipment',
                                    ['shipment_id'], ['id'])

    conn = op.get_bind()
    order = sa.table('order', sa.column('id', sa.Integer), sa.column('status', sa.String),
                     sa.column('fulfilment', sa.String), sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('updated_at', sa.DateTime(timezone=True)))
    line = sa.table('order_line', sa.column('id', sa.Integer), sa.column('order_id', sa.Integer))
    reservation = sa.table('reservation', sa.column('order_line_id', sa.Integer), sa.column('shop_id', sa.Integer),
                           sa.column('state', sa.String))
    shipment = sa.table('shipment', sa.column('order_id', sa.Integer), sa.column('shop_id', sa.Integer),
                        sa.column('state', sa.String), sa.column('carrier', sa.String),
                        sa.column('tracking_number', sa.String), sa.column('left_at', sa.DateTime(timezone=True)),
                        sa.column('created_at', sa.DateTime(timezone=True)), sa.column('updated_at', sa.DateTime(timezone=True)))
    rows = conn.execute(
        sa.select(order.c.id, order.c.status, order.c.fulfilment, order.c.created_at, order.c.updated_at,
                  reservation.c.shop_id, reservation.c.state)
        .select_from(order.join(line, line.c.order_id == order.c.id)
                     .join(reservation, reservation.c.order_line_id == line.c.id))
        .order_by(order.c.id, reservation.c.shop_id)
    ).all()
    groups = {}
    for order_id, status, fulfilment, created_at, updated_at, shop_id, state in rows:
        key = (order_id, shop_id)
        entry = groups.setdefault(key, {"status": status, "fulfilment": fulfilment, "created_at": created_at,
                                        "updated_at": updated_at, "sold": False})
        entry["sold"] = entry["sold"] or state == 'committed'
    for (order_id, shop_id), entry in groups.items():
        state, left = _state(entry["status"], entry["fulfilment"], entry["sold"])
        conn.execute(shipment.insert().values(
            order_id=order_id, shop_id=shop_id, state=state, carrier='', tracking_number='',
            left_at=entry["updated_at"] if left else None, created_at=entry["created_at"],
            updated_at=entry["updated_at"]))




def _payments():
    conn = op.get_bind()
    order = sa.table('order', sa.column('id', sa.Integer), sa.column('status', sa.String),
                     sa.column('payment_method', sa.String), sa.column('payment_status', sa.String),
                     sa.column('amount_refunded', sa.Integer))
    payment = sa.table('payment', sa.column('order_id', sa.Integer), sa.column('amount_received', sa.Integer),
                       sa.column('amount_refunded', sa.Integer))
    money = {order_id: (received or 0, refunded or 0) for order_id, received, refunded in conn.execute(
        sa.select(payment.c.order_id, sa.func.sum(payment.c.amount_received), sa.func.sum(payment.c.amount_refunded))
        .group_by(payment.c.order_id)).all()}
    for order_id, status, method in conn.execute(sa.select(order.c.id, order.c.status, order.c.payment_method)).all():
        received, refunded = money.get(order_id, (0, 0))
        conn.execute(order.update().where(order.c.id == order_id).values(
            payment_status=_payment_status(status, method, received, refunded), amount_refunded=refunded))


def upgrade():
    op.execute(f"UPDATE refund SET status = 'pending' WHERE NOT ({_in('status', REFUND_STATUSES)})")
    _shipments()
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_status', sa.String(length=20), server_default='unpaid', nullable=False))
        batch_op.add_column(sa.Column('amount_refunded', sa.Integer(), server_default='0', nullable=False))
    _payments()
    _foreign_keys(False)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, values in checks:
                batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), _in(column, values))
            if table == 'order':
                batch_op.create_check_constraint(op.f('ck_order_refunded_not_negative'), 'amount_refunded >= 0')
                batch_op.create_index(batch_op.f('ix_order_payment_status'), ['payment_status'], unique=False)
    _foreign_keys(True)


def downgrade():
    _foreign_keys(False)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _values in checks:
                batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
            if table == 'order':
                batch_op.drop_constraint(op.f('ck_order_refunded_not_negative'), type_='check')
                batch_op.drop_index(batch_op.f('ix_order_payment_status'))
                batch_op.drop_column('amount_refunded')
                batch_op.drop_column('payment_status')
    _foreign_keys(True)
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_event_shipment_id_shipment'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_event_shipment_id'))
        batch_op.drop_column('shipment_id')
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_state'))
        batch_op.drop_index(batch_op.f('ix_shipment_shop_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_order_id'))
    op.drop_table('shipment')
