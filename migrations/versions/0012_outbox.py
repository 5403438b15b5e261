"""outbox: e-mails written with the change that causes them, delivered with retries (issue 17)

Revision ID: 0012_outbox
Revises: 0011_vocabulary_checks
Create Date: 2026-12-01 04:40:00

A new table only: nothing existing changes. E-mails sent before this version were not kept.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_outbox'
down_revision = '0011_vocabulary_checks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'dead')", name=op.f('ck_outbox_message_state_known')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_message_attempts_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
        sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_message_id')),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_sent_at'), ['sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_sent_at'))
        batch_op.drop_index('ix_outbox_message_state_next_attempt_at')
    op.drop_table('outbox_message')
