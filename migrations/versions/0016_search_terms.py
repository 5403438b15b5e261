"""search_terms: the vocabulary typos are looked up in (issue 16)

Revision ID: 0016_search_terms
Revises: 0016_admin_directory
Create Date: 2026-12-01 10:50:00

A new table, filled here from the products' folded search text (plain SQL reads; the word rule
is ``shop.catalog.search.term_words`` as of this revision: letters only, 3 to 21 long).
On PostgreSQL the words compare byte by byte (collation "C") so that range scans on a prefix work.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_search_terms'
down_revision = '0016_admin_directory'
branch_labels = None
depends_on = None


def _term_type():
    return sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")


def upgrade():
    op.create_table('search_term',
    sa.Column('term', _term_type(), nullable=False),
    sa.Column('reversed_term', _term_type(), nullable=False),
    sa.PrimaryKeyConstraint('term', name=op.f('pk_search_term'))
    )
    with op.batch_alter_table('search_term', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_term_reversed_term'), ['reversed_term'], unique=False)

    conn = op.get_bind()
    words = set()
    for (folded,) in conn.execute(sa.text("SELECT search_text FROM product")):
        words |= {w for w in (folded or "").split() if 3 <= len(w) <= 21 and w.isalpha()}
    table = sa.table('search_term', sa.column('term'), sa.column('reversed_term'))
    ordered = sorted(words)
    for start in range(0, len(ordered), 1000):
        op.bulk_insert(table, [{'term': w, 'reversed_term': w[::-1]} for w in ordered[start:start + 1000]])


def downgrade():
    with op.batch_alter_table('search_term', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_term_reversed_term'))
    op.drop_table('search_term')
