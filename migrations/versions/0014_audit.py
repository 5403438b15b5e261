"""audit: the history of administrators' changes (issue 14) — who, when, which object, what was
done, the changed fields before and after.

Revision ID: 0014_audit
Revises: 0013_accounts
Create Date: 2026-12-01 05:15:00

A new table only: nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_audit'
down_revision = '0013_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('object_type', sa.String(length=20), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("object_type IN ('shop', 'product', 'certificate')",
                           name=op.f('ck_audit_entry_object_type_known')),
        sa.CheckConstraint("action IN ('edit', 'retire', 'reopen', 'record', 'renew', 'revoke', 'import')",
                           name=op.f('ck_audit_entry_action_known')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_audit_entry_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_object', ['object_type', 'object_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_user_id'))
        batch_op.drop_index('ix_audit_entry_object')
    op.drop_table('audit_entry')
