"""staff settings: blind count per shop, the low-stock list last e-mailed (issue 13)

Revision ID: 0019_staff_settings
Revises: 0018_bank_statements
Create Date: 2026-12-01 10:40:00

Two columns on shop, with defaults: existing shops count openly and have e-mailed nothing yet.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_staff_settings'
down_revision = '0018_bank_statements'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blind_count', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('low_stock_digest', sa.String(length=64), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_column('low_stock_digest')
        batch_op.drop_column('blind_count')
