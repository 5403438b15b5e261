"""accounts: users, memberships (staff → shops, producer users → a producer), recovery codes,
saved addresses; real foreign keys for the columns that named a user by number (cart, order,
ledger, lot recall) and a nullable user beside the free-text actor of order events and refunds.

Revision ID: 0013_accounts
Revises: 0012_outbox
Create Date: 2026-12-01 04:11:46

No existing data changes: the user-like columns were never filled before accounts existed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_accounts'
down_revision = '0012_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), server_default='', nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('session_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'staff', 'producer', 'customer')", name=op.f('ck_user_role_known')),
    sa.CheckConstraint('session_version >= 1', name=op.f('ck_user_session_version_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_role'), ['role'], unique=False)

    op.create_table('address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('ward', sa.String(length=120), nullable=False),
    sa.Column('province', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_address_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address'))
    )
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_recovery_code_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('shop_role', sa.String(length=20), nullable=True),
    sa.Column('producer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("shop_role IN ('manager', 'clerk')", name=op.f('ck_membership_shop_role_known')),
    sa.CheckConstraint('(shop_id IS NULL) <> (producer_id IS NULL)', name=op.f('ck_membership_one_scope')),
    sa.CheckConstraint('(shop_id IS NULL) = (shop_role IS NULL)', name=op.f('ck_membership_shop_role_with_shop')),
    sa.ForeignKeyConstraint(['producer_id'], ['producer.id'], name=op.f('fk_membership_producer_id_producer')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_membership_shop_id_shop')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_membership_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('user_id', 'producer_id', name='uq_membership_user_producer'),
    sa.UniqueConstraint('user_id', 'shop_id', name='uq_membership_user_shop')
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_producer_id'), ['producer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cart_user_id_user'), 'user', ['user_id'], ['id'])

    with op.batch_alter_table('lot', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_lot_recalled_by_user'), 'user', ['recalled_by'], ['id'])

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_user_id_user'), 'user', ['user_id'], ['id'])

    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_event_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_event_actor_user_id_user'), 'user', ['actor_user_id'], ['id'])

    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_refund_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_refund_actor_user_id_user'), 'user', ['actor_user_id'], ['id'])

    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_stock_movement_user_id_user'), 'user', ['user_id'], ['id'])



def downgrade():
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_stock_movement_user_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_stock_movement_user_id'))

    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refund_actor_user_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refund_actor_user_id'))
        batch_op.drop_column('actor_user_id')

    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_event_actor_user_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_event_actor_user_id'))
        batch_op.drop_column('actor_user_id')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_user_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_user_id'))

    with op.batch_alter_table('lot', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lot_recalled_by_user'), type_='foreignkey')

    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cart_user_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cart_user_id'))

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_user_id'))
        batch_op.drop_index(batch_op.f('ix_membership_shop_id'))
        batch_op.drop_index(batch_op.f('ix_membership_producer_id'))

    op.drop_table('membership')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_user_id'))

    op.drop_table('address')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_role'))

    op.drop_table('user')
