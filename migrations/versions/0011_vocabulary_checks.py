"""vocabulary checks: producer, shop and place kinds, certificate kind, level and status are known codes

Revision ID: 0011_vocabulary_checks
Revises: 0010_lots
Create Date: 2026-12-01 04:30:00

The values are the enums of shop/producers/enums.py, shop/shops/enums.py, shop/places/enums.py
and shop/catalog/enums.py, copied here (a migration keeps the words of its day). Rows written
outside the shop that hold another word are settled first where a safe word exists (a producer of
an unknown kind is ``other``; an outlet of an unknown kind a ``shop``; a decision of an unknown
kind a first recognition); an unknown place level, certificate level or certificate status has no
safe reading, so the upgrade stops and names the rows to correct.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_vocabulary_checks'
down_revision = '0010_lots'
branch_labels = None
depends_on = None

PRODUCER_KINDS = ('cooperative', 'cooperative_group', 'company', 'household', 'other')
SHOP_KINDS = ('shop', 'warehouse')
PLACE_KINDS = ('province', 'city', 'district', 'town', 'ward', 'commune')
CERT_KINDS = ('new', 're_recognition', 'upgrade')
CERT_LEVELS = ('district', 'province', 'national')
CERT_STATUSES = ('active', 'revoked', 'superseded')

CHECKS = {
    'producer': [('kind_known', 'kind', PRODUCER_KINDS)],
    'shop': [('kind_known', 'kind', SHOP_KINDS)],
    'locality': [('kind_known', 'kind', PLACE_KINDS)],
    'certificate': [('kind_known', 'kind', CERT_KINDS), ('level_known', 'level', CERT_LEVELS),
                    ('status_known', 'status', CERT_STATUSES)],
}
# {(table, column): the word an unknown value becomes}; the others must be corrected by hand.
SETTLE = {('producer', 'kind'): 'other', ('shop', 'kind'): 'shop', ('certificate', 'kind'): 'new'}


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _foreign_keys(enabled):
    # SQLite changes a table by copying it; these tables are referenced by others, so the
    # foreign-key check is paused for the copy (rows and keys do not change).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _settle_unknown_words():
    conn = op.get_bind()
    unknown = []
    for table, checks in CHECKS.items():
        for _name, column, values in checks:
            where = f'{column} IS NULL OR NOT ({_in(column, values)})'
            if (table, column) in SETTLE:
                op.execute(f'UPDATE "{table}" SET {column} = {SETTLE[table, column]!r} WHERE {where}')
                continue
            rows = conn.execute(sa.text(f'SELECT id, {column} FROM "{table}" WHERE {where}')).all()
            unknown += [f"{table} {row_id}: {column} = {value!r} (expected one of {', '.join(values)})"
                        for row_id, value in rows]
    if unknown:
        raise RuntimeError("Correct these rows, then upgrade again:\n" + "\n".join(unknown))


def upgrade():
    _settle_unknown_words()
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
