"""search: accented search words, sectioned folded text, FTS5 trigram table (SQLite) or pg_trgm index

Revision ID: 0005_search
Revises: 0004_order_languages
Create Date: 2026-11-30 20:20:00

Existing products get their search columns rebuilt here from plain SQL reads (not the ORM models,
which may be ahead of this revision), with the same text builder the app uses.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_search'
down_revision = '0004_order_languages'
branch_labels = None
depends_on = None


def _rebuild_search_columns(conn) -> None:
    from shop.catalog.search import DESCRIPTION_CHARS, search_columns
    from shop.text import fold

    places = {r.id: r for r in conn.execute(sa.text("SELECT id, name, parent_id, successor_id FROM locality"))}
    groups = {r.id: r for r in conn.execute(sa.text("SELECT id, name, name_en, parent_id FROM product_group"))}
    producers = {r.id: r for r in conn.execute(sa.text("SELECT id, name, locality_id FROM producer"))}

    def place_names(place_id):
        names, seen, stack = [], set(), [place_id]
        while stack:
            pid = stack.pop()
            if pid is None or pid in seen or pid not in places:
                continue
            seen.add(pid)
            names.append(places[pid].name)
            stack.extend([places[pid].parent_id, places[pid].successor_id])
        return names

    rows = conn.execute(sa.text(
        "SELECT id, name, name_en, description, producer_id, group_id FROM product")).all()
    update = sa.text("UPDATE product SET name_folded = :nf, search_text = :st, search_words = :sw WHERE id = :id")
    batch = []
    for row in rows:
        group = groups.get(row.group_id)
        group_names = []
        if group is not None:
            group_names = [group.name, group.name_en or ""]
            parent = groups.get(group.parent_id)
            if parent is not None:
                group_names += [parent.name, parent.name_en or ""]
        producer = producers.get(row.producer_id)
        words, folded = search_columns([
            row.name or "", row.name_en or "", " ".join(group_names),
            producer.name if producer else "", " ".join(place_names(producer.locality_id)) if producer else "",
            (row.description or "")[:DESCRIPTION_CHARS],
        ])
        batch.append({"nf": fold(row.name), "st": folded, "sw": words, "id": row.id})
        if len(batch) >= 500:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)


def upgrade():
    from shop.catalog.search import POSTGRES_CREATE, SQLITE_CREATE

    op.add_column('product', sa.Column('search_words', sa.Text(), nullable=False, server_default=''))
    conn = op.get_bind()
    _rebuild_search_columns(conn)
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            op.execute(statement)
        op.execute("INSERT INTO product_fts(product_fts) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        for statement in POSTGRES_CREATE:
            op.execute(statement)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for trigger in ("product_fts_insert", "product_fts_delete", "product_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS product_fts")
    elif conn.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_product_search_trgm")
    if conn.dialect.name == "sqlite":
        # Not batch mode: copying the product table would null every order line's product_id
        # (ON DELETE SET NULL fires when the old table is dropped). SQLite 3.35+ drops in place.
        op.execute("ALTER TABLE product DROP COLUMN search_words")
    else:
        op.drop_column('product', 'search_words')
