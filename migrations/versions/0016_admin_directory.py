"""admin directory: producers can be retired; the audit history covers producers, localities and users (issue 14)

Revision ID: 0016_admin_directory
Revises: 0015_transfers
Create Date: 2026-12-01 10:40:00

``producer.active`` (every existing producer stays active) and wider vocabulary checks on
``audit_entry`` (object types and actions, copied from shop/admin/enums.py as of today).
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_admin_directory'
down_revision = '0015_transfers'
branch_labels = None
depends_on = None

OLD_OBJECTS = ('shop', 'product', 'certificate')
OLD_ACTIONS = ('edit', 'retire', 'reopen', 'record', 'renew', 'revoke', 'import')
NEW_OBJECTS = OLD_OBJECTS + ('producer', 'locality', 'user')
NEW_ACTIONS = OLD_ACTIONS + ('create', 'role', 'disable', 'enable')


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _foreign_keys(enabled):
    # SQLite changes a table by copying it; the foreign-key check is paused for the copy.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _checks(objects, actions):
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_object_type_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_audit_entry_action_known'), type_='check')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_audit_entry_object_type_known'), _in('object_type', objects))
        batch_op.create_check_constraint(op.f('ck_audit_entry_action_known'), _in('action', actions))


def upgrade():
    _foreign_keys(False)
    with op.batch_alter_table('producer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    _checks(NEW_OBJECTS, NEW_ACTIONS)
    _foreign_keys(True)


def downgrade():
    conn = op.get_bind()
    if conn.execute(sa.text(f"SELECT count(*) FROM audit_entry WHERE NOT ({_in('object_type', OLD_OBJECTS)}) "
                            f"OR NOT ({_in('action', OLD_ACTIONS)})")).scalar():
        raise RuntimeError("audit_entry holds entries about producers, localities or users: keep them "
                           "(the history is never rewritten) or move them aside, then downgrade again")
    _foreign_keys(False)
    _checks(OLD_OBJECTS, OLD_ACTIONS)
    with op.batch_alter_table('producer', schema=None) as batch_op:
        batch_op.drop_column('active')
    _foreign_keys(True)
