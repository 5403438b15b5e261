"""Product search: diacritics and typos forgiven, the right product first, the same on SQLite and PostgreSQL.

Each product keeps its searchable text twice, in sections (both names, group, producer, places,
the start of the description) separated by `` | ``:

- ``search_words``: the words as written, lower case ("miến dong tài hoan | tài hoan arrowroot …");
- ``search_text``: the same words folded (``shop.text.fold``: "mien dong tai hoan | tai hoan …"),
  word for word, indexed by the database's own engine: a GIN trigram index (``pg_trgm``) on
  PostgreSQL, an FTS5 table with the trigram tokenizer (``product_fts``, kept by triggers) on SQLite.

Both columns are kept in step by a flush hook, whoever edits (shop pages, API, CLI, seed).

A search runs in two steps (``rank``):

1. **Candidates** (one SQL statement when some product has every word as typed; otherwise one
   more to look the misspelt words up in the vocabulary, ``search_term``, and one or two more):
   products whose folded text holds, for every query word, the word itself, a word it begins (4+
   letters) or a real word of the catalogue one typo away (4+ letters: one letter missing, extra,
   wrong, or two neighbours swapped) — as a regular expression the pg_trgm GIN index answers
   (PostgreSQL) or trigram phrases of the FTS5 table (SQLite). At most ``MAX_CANDIDATES`` rows.
2. **Ranking** in Python (rapidfuzz for the typo distance) over that bounded set, by the rules of
   ``score`` below. Both databases hand the same candidates to the same Python, so a query gives
   the same result on both.

Issue 16 (typos forgiven, the right product first) is the source of the rules.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA
from sqlalchemy import (DDL, Integer, and_, column, delete, event, false, func, inspect, literal, literal_column, or_,
                        select, text)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Join

from shop.catalog.models import Product, ProductGroup, SearchTerm
from shop.extensions import db
from shop.places.models import Locality
from shop.producers.models import Producer
from shop.text import fold

MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
# Query words shorter than this match whole words only: "tra" finds trà, not trang or trai.
MIN_FUZZY_LENGTH = 4
# Longer words still match exactly or as a prefix; their typo patterns would make a huge statement.
MAX_TYPO_LENGTH = 20
# Candidates ranked in Python per search: the bound on the work one query can cause.
MAX_CANDIDATES = 600
# Only the start of a description is searched (it ranks last anyway).
DESCRIPTION_CHARS = 400

SECTION = "|"
# Rank tier of each section of the search text: names, then group, producer, place, description.
SECTION_TIERS = (0, 0, 1, 2, 3, 4)
NAME_SECTIONS = 2

_WORD = re.compile(r"[^\W_]+")


# ---- Building the search text ----------------------------------------------------------------

@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """One word folded; cached because a catalogue uses few distinct words."""
    return fold(word).replace(" ", "")


def split_words(text: str | None) -> list[tuple[str, str]]:
    """(word as written in lower case, folded word) for each word of ``text``; punctuation drops."""
    pairs = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text or "").lower()):
        folded = fold_word(word)
        if folded and _WORD.fullmatch(folded):
            pairs.append((word, folded))
    return pairs


def search_columns(sections: list[str]) -> tuple[str, str]:
    """(search_words, search_text) for the six sections' texts, in ``SECTION_TIERS`` order."""
    written, folded = [], []
    for section in sections:
        pairs = split_words(section)
        written.append(" ".join(w for w, _f in pairs))
        folded.append(" ".join(f for _w, f in pairs))
    return _join(written), _join(folded)


def _join(sections: list[str]) -> str:
    # Every word has a space on each side: " w " is a whole word, " w" a prefix, in SQL as in Python.
    return " " + f" {SECTION} ".join(s for s in sections) + " "


def place_names(locality) -> list[str]:
    names, seen = [], set()
    stack = [locality] if locality is not None else []
    while stack:
        place = stack.pop()
        if place is None or id(place) in seen:  # by object: unsaved places have no id yet
            continue
        seen.add(id(place))
        names.append(place.name)
        stack.extend([place.parent, place.successor])
    return names


def product_sections(product: Product) -> list[str]:
    """The six section texts of a product: name, English name, group, producer, places, description."""
    group_names = []
    if product.group is not None:
        group_names = [product.group.name, product.group.name_en or ""]
        if product.group.parent is not None:
            group_names += [product.group.parent.name, product.group.parent.name_en or ""]
    producer = product.producer
    return [
        product.name or "",
        product.name_en or "",
        " ".join(group_names),
        producer.name if producer is not None else "",
        " ".join(place_names(producer.locality)) if producer is not None else "",
        (product.description or "")[:DESCRIPTION_CHARS],
    ]


def product_search_text(product: Product) -> str:
    return search_columns(product_sections(product))[1]


def refresh_search_fields(product: Product) -> None:
    product.name_folded = fold(product.name)
    product.search_words, product.search_text = search_columns(product_sections(product))


# What a product's search text is made of: its own fields, and (through the producer) the
# producer's name and place. Anything else changing on a row leaves its search text alone.
_PRODUCT_FIELDS = ("name", "name_en", "description", "producer", "producer_id", "group", "group_id")
_PRODUCER_FIELDS = ("name", "locality", "locality_id")
# A group's or a place's name is part of the search text of every product under it.
_GROUP_FIELDS = ("name", "name_en", "parent", "parent_id")
_PLACE_FIELDS = ("name", "parent", "parent_id", "successor", "successor_id")


def _products_of_groups(session: Session, group_ids: set[int]) -> list[Product]:
    """Products filed under these groups or their subgroups (a product's text names its group and
    the group's parent)."""
    ids = set(group_ids)
    ids |= set(session.scalars(select(ProductGroup.id).where(ProductGroup.parent_id.in_(group_ids))))
    return list(session.scalars(select(Product).where(Product.group_id.in_(ids))))


def _products_of_places(session: Session, place_ids: set[int]) -> list[Product]:
    """Products whose producer sits in one of these places or in a place below or merged into
    one of them (``place_names`` walks parents and successors upwards)."""
    ids, frontier = set(place_ids), set(place_ids)
    while frontier:
        below = set(session.scalars(select(Locality.id).where(
            or_(Locality.parent_id.in_(frontier), Locality.successor_id.in_(frontier))))) - ids
        ids |= below
        frontier = below
    return list(session.scalars(select(Product).join(Producer, Product.producer_id == Producer.id)
                                .where(Producer.locality_id.in_(ids))))


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "before_flush")
def _keep_search_fields(session: Session, _context, _instances) -> None:
    """Refold a product when it is new or what its search text is made of changed.

    A producer's products are refolded only when the producer's name or place changes, not when a
    product is added to it or its story is edited: writing one product costs the same whether its
    producer has ten products or ten thousand. Renaming (or moving) a group or a place refolds the
    products under it, found by indexed queries.
    """
    with session.no_autoflush:
        touched: set[Product] = set()
        groups = {obj.id for obj in session.dirty
                  if isinstance(obj, ProductGroup) and obj.id is not None and _changed(obj, _GROUP_FIELDS)}
        places = {obj.id for obj in session.dirty
                  if isinstance(obj, Locality) and obj.id is not None and _changed(obj, _PLACE_FIELDS)}
        if groups:
            touched.update(_products_of_groups(session, groups))
        if places:
            touched.update(_products_of_places(session, places))
        for obj in session.new:
            if isinstance(obj, Product):
                touched.add(obj)
        for obj in session.dirty:
            if isinstance(obj, Product) and _changed(obj, _PRODUCT_FIELDS):
                touched.add(obj)
            elif isinstance(obj, Producer) and _changed(obj, _PRODUCER_FIELDS):
                touched.update(obj.products)
        pending = session.info.setdefault(_PENDING_TERMS, set())
        for product in touched:
            refresh_search_fields(product)
            pending |= term_words(product.search_text)


@event.listens_for(Session, "after_flush")
def _keep_search_terms(session: Session, _context) -> None:
    """Add the new words of the products just written to the vocabulary, in the same transaction."""
    words = session.info.pop(_PENDING_TERMS, None)
    if words:
        add_terms(session.connection(), words)


# ---- The database engines: FTS5 trigram table (SQLite), pg_trgm GIN index (PostgreSQL) --------

FTS_TABLE = "product_fts"
TRGM_INDEX = "ix_product_search_trgm"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "search_text, content='product', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS product_fts_insert AFTER INSERT ON product BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS product_fts_delete AFTER DELETE ON product BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS product_fts_update AFTER UPDATE OF search_text ON product BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_DROP = [f"DROP TABLE IF EXISTS {FTS_TABLE}"]  # the triggers go with the product table
POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON product USING gin (search_text gin_trgm_ops)",
]


def _install_engine_ddl() -> None:
    table = Product.__table__
    for statement in SQLITE_CREATE:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in SQLITE_DROP:
        event.listen(table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
    for statement in POSTGRES_CREATE:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))


_install_engine_ddl()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the search engine's own objects (FTS5 tables, the trigram index) are made
    by migration 0005_search and ``_install_engine_ddl``, not by the models; autogenerate leaves them."""
    if name and (name == TRGM_INDEX or name.startswith(FTS_TABLE)):
        return False
    return True


# ---- Reading a query ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    written: str  # lower case, as typed ("chè")
    folded: str  # "che"
    prefix: bool = False  # may match the start of a longer word

    @property
    def accented(self) -> bool:
        return self.written != self.folded

    @property
    def fuzzy(self) -> bool:
        return MIN_FUZZY_LENGTH <= len(self.folded) <= MAX_TYPO_LENGTH


def strip_controls(text: str) -> str:
    """Drop control characters (NUL among them, which PostgreSQL refuses in text parameters)."""
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n")


def parse_terms(raw: str | None, *, typing: bool = False) -> list[Term]:
    """The query's words (at most ``MAX_TERMS`` of the first ``MAX_QUERY_LENGTH`` characters).

    Words of 4+ letters may match the start of longer words. ``typing`` (suggestions): the last
    word is being typed, so it matches the start of words whatever its length ("mat o" → mật ong).
    """
    pairs = split_words(strip_controls((raw or "")[:MAX_QUERY_LENGTH]))[:MAX_TERMS]
    terms = []
    for i, (written, folded) in enumerate(pairs):
        last_typed = typing and i == len(pairs) - 1
        terms.append(Term(written, folded, prefix=len(folded) >= MIN_FUZZY_LENGTH or last_typed))
    return terms


def parse_query(raw: str | None) -> list[str]:
    """Folded query words: ``"Nếp  TÀI!"`` → ``["nep", "tai"]``."""
    return [t.folded for t in parse_terms(raw)]


# ---- The vocabulary a typo may aim at ------------------------------------------------------------

# Words a typo can reach: a query word of MIN_FUZZY_LENGTH..MAX_TYPO_LENGTH letters, one letter more or less.
MIN_TERM_LENGTH = MIN_FUZZY_LENGTH - 1
MAX_TERM_LENGTH = MAX_TYPO_LENGTH + 1
# Real words one typo away from a query word that are looked for in the products, at most.
TYPO_WORDS_PER_TERM = 40
_PENDING_TERMS = "search_terms_pending"


def term_words(folded_text: str | None) -> set[str]:
    """The words of a folded search text that belong in ``search_term``: letters only (a typo in a
    number or a code is not forgiven), ``MIN_TERM_LENGTH`` to ``MAX_TERM_LENGTH`` long."""
    return {w for w in (folded_text or "").split() if MIN_TERM_LENGTH <= len(w) <= MAX_TERM_LENGTH and w.isalpha()}


def add_terms(connection, words: set[str] | list[str]) -> None:
    """Insert into ``search_term`` the ``words`` it lacks (an existing word is left alone).

    Sorted, so two transactions adding the same new words take their row locks in one order
    (PostgreSQL's ``ON CONFLICT DO NOTHING`` waits for the other's commit instead of deadlocking).
    Raises ``RuntimeError`` on a database other than SQLite or PostgreSQL.
    """
    words = sorted(set(words))
    if not words:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        raise RuntimeError(f"search_term: no insert-or-ignore for {dialect}")
    statement = dialect_insert(SearchTerm.__table__).on_conflict_do_nothing(index_elements=["term"])
    for start in range(0, len(words), 1000):
        connection.execute(statement, [{"term": w, "reversed_term": w[::-1]} for w in words[start:start + 1000]])


def rebuild_terms() -> int:
    """Make ``search_term`` the words of every product's search text, and nothing else (words no
    product uses any more go). Returns the number of words. For ``flask search rebuild-terms``
    and after bulk inserts that bypass the ORM (the benchmark's seeding). The caller commits."""
    session = db.session
    words: set[str] = set()
    for (folded,) in session.execute(select(Product.search_text).execution_options(yield_per=2000)):
        words |= term_words(folded)
    session.execute(delete(SearchTerm))
    add_terms(session.connection(), words)
    return len(words)


def _next_after(affix: str) -> str:
    """The smallest string greater than every string that starts with ``affix``."""
    return affix[:-1] + chr(ord(affix[-1]) + 1)


def typo_words(terms: list[Term]) -> list[list[str]]:
    """For each term, the catalogue's words one typo away from it (a letter missing, extra or
    wrong, or two neighbours swapped: optimal string alignment distance 1), alphabetical, at most
    ``TYPO_WORDS_PER_TERM``; ``[]`` for a term that is not ``fuzzy`` (under 4 or over 20 letters).

    One SQL statement on ``search_term`` (none when no term is fuzzy), read through its indexes
    only: for a word of n letters, the words one letter shorter or with two letters swapped are
    looked up exactly; a wrong or extra letter falls in one half of the word, so the other half is
    kept — the first ceil(n/2) letters (a range scan on ``term``) or the last floor(n/2)
    (a range scan on ``reversed_term``). rapidfuzz's OSA distance then keeps the true neighbours.
    """
    fuzzy = [t for t in terms if t.fuzzy]
    if not fuzzy:
        return [[] for _ in terms]
    conditions, exact = [], set()
    for term in fuzzy:
        word, n = term.folded, len(term.folded)
        exact.update(word[:i] + word[i + 1:] for i in range(n))  # a letter missing
        exact.update(word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(n - 1)
                     if word[i] != word[i + 1])  # two neighbours swapped
        head, tail = word[:(n + 1) // 2], word[::-1][:n // 2]
        long_enough = func.length(SearchTerm.term).between(n, n + 1)  # a letter wrong, or one more
        conditions.append(and_(SearchTerm.term >= head, SearchTerm.term < _next_after(head), long_enough))
        conditions.append(and_(SearchTerm.reversed_term >= tail, SearchTerm.reversed_term < _next_after(tail),
                               long_enough))
    conditions.append(SearchTerm.term.in_(sorted(exact)))
    found = db.session.scalars(select(SearchTerm.term).where(or_(*conditions))).all()
    near = []
    for term in terms:
        if not term.fuzzy:
            near.append([])
            continue
        word = term.folded
        near.append(sorted(v for v in found if v != word and abs(len(v) - len(word)) <= 1
                           and OSA.distance(word, v, score_cutoff=1) <= 1)[:TYPO_WORDS_PER_TERM])
    return near


# ---- Candidates: patterns the database's index answers ------------------------------------------

def term_patterns(term: Term, near: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Substrings of the padded search text that a match of ``term`` holds: the word itself (or,
    4+ letters, as the start of a word), then each real word ``near`` it (``typo_words``) whole."""
    patterns = [f" {term.folded}" if term.prefix else f" {term.folded} "]
    patterns += [f" {word} " for word in near]
    return patterns


def _fts_phrase(pattern: str) -> str:
    # Patterns hold only letters, digits and spaces (``_WORD``), three characters or more
    # (``_indexable``): a phrase of the trigram tokenizer.
    return f'"{pattern}"'


def _fts_query(terms: list[Term], near: list[list[str]], every: bool) -> str:
    per_term = ["(" + " OR ".join(_fts_phrase(p) for p in term_patterns(t, n)) + ")" for t, n in zip(terms, near)]
    return (" AND " if every else " OR ").join(per_term)


def _sellable() -> list:
    """Conditions on Product: listed, with a valid certificate today (what browse shows).

    A correlated EXISTS (index ix_certificate_product_status), so each candidate costs one lookup
    instead of reading every certificate."""
    from shop.catalog.models import Certificate

    valid = select(Certificate.id).where(Certificate.product_id == Product.id, Certificate.valid_clause())
    return [Product.listed.is_(True), valid.exists()]


def _indexable(term: Term) -> bool:
    # " m" (a one-letter prefix) is shorter than a trigram: such a word is checked in Python only.
    return len(term_patterns(term)[0]) >= 3


def _pg_regex(patterns: list[str]) -> str:
    return "(?:" + "|".join(re.escape(p) for p in patterns) + ")"


class _CrossJoin(Join):
    """A join whose left side SQLite must read first (``CROSS JOIN``: SQLite's documented way to
    fix the loop order). Without it the planner may walk every listed product and run the FTS5
    query once per product; with it the FTS5 matches drive and each costs one primary-key lookup."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _compile_cross_join(join, compiler, **kw):
    kw["asfrom"] = True
    return (f"{compiler.process(join.left, **kw)} CROSS JOIN "
            f"{compiler.process(join.right, **kw)} ON {compiler.process(join.onclause, **kw)}")


def _candidates(terms: list[Term], every: bool, limit: int,
                near: list[list[str]] | None = None) -> list[tuple[int, str, str]]:
    """(id, search_text, search_words) of at most ``limit`` sellable products (listed, with a valid
    certificate today) matching every term (or any): the term as typed (or as the start of a word),
    or one of the words ``near`` it (``typo_words``, one list per term).

    Terms the index cannot look up (a one-letter prefix while typing) are left to the ranking.
    One SQL statement.
    """
    near = near or [[] for _ in terms]
    pairs = [(t, n) for t, n in zip(terms, near) if _indexable(t)]
    if not pairs:
        return []
    terms, near = [t for t, _n in pairs], [n for _t, n in pairs]
    session = db.session
    columns = (Product.id, Product.search_text, Product.search_words)
    if session.get_bind().dialect.name == "sqlite":
        fts = (text(f"SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query")
               .bindparams(fts_query=_fts_query(terms, near, every)).columns(column("id", Integer)).subquery("fts"))
        query = (select(*columns).select_from(_CrossJoin(fts, Product.__table__, fts.c.id == Product.id))
                 .where(*_sellable()))
    else:
        # One regular expression per term: pg_trgm answers it from the GIN index (an OR of many
        # LIKEs made the planner scan the whole table). Patterns hold only letters, digits and spaces.
        per_term = [Product.search_text.regexp_match(_pg_regex(term_patterns(t, n))) for t, n in zip(terms, near)]
        query = select(*columns).where(*_sellable(), and_(*per_term) if every else or_(*per_term))
    rows = session.execute(query.limit(limit))
    return [(row[0], row[1], row[2]) for row in rows]


# ---- Ranking ---------------------------------------------------------------------------------

EXACT, PART, TYPO = 0, 1, 2


def match_kind(term: Term, word: str) -> int | None:
    """How folded ``word`` answers ``term``: EXACT, PART (a longer word it begins), TYPO or None."""
    if word == term.folded:
        return EXACT
    if term.prefix and word.startswith(term.folded):
        return PART
    if term.fuzzy and abs(len(word) - len(term.folded)) <= 1 and OSA.distance(term.folded, word, score_cutoff=1) <= 1:
        return TYPO
    return None


@dataclass
class Hit:
    product_id: int
    score: int  # lower is better; see ``score``
    missing: int  # query words not found
    inexact: int  # query words not found as typed: missing, or matched only through a typo
    whole: int = 0  # query words found as whole words, without a typo


def _section_keys(terms: list[Term], tier: int, section: str, written: str, kinds: list[dict]) -> tuple:
    """For each term, its best (typo, tier, part, accent miss) key in one section, or None."""
    words = set(section.split())
    keys: list[tuple | None] = [None] * len(terms)
    written_words = None
    for i, term in enumerate(terms):
        cache = kinds[i]
        for word in words:
            kind = cache.get(word, -1)
            if kind == -1:
                kind = cache[word] = match_kind(term, word)
            if kind is None:
                continue
            accent_miss = 0
            if term.accented and kind == EXACT:
                if written_words is None:
                    written_words = set(written.split())
                accent_miss = int(term.written not in written_words)
            key = (kind == TYPO, tier, kind == PART, accent_miss)
            if keys[i] is None or key < keys[i]:
                keys[i] = key
    return tuple(keys)


def score(terms: list[Term], folded_text: str, written_text: str, kinds: list[dict],
          sections_memo: dict | None = None) -> Hit | None:
    """Rank of one candidate; None when no term matches. Lower is better, compared in this order:

    1. fewer query words not found as typed (missing, or found only through a typo);
    2. fewer query words missing (all words before some);
    3. the whole query as a phrase in a name (Vietnamese or English), else in another section
       ("thai nguyen" in the places), before scattered words;
    4. the sum of each word's best section: name 0, group 1, producer 2, place 3, description 4;
    5. fewer words matched only as the start of a longer word (whole words before parts);
    6. fewer accented query words matched without their accents ("chè" before "chế").

    Ties are broken by the caller (browse: stars, then units in stock). ``kinds`` (one dict per
    term) and ``sections_memo`` are caches shared by the candidates of one search.
    """
    if sections_memo is None:
        sections_memo = {}
    sections = folded_text.split(SECTION)
    written_sections = written_text.split(SECTION) if any(t.accented for t in terms) else None
    best: list[tuple | None] = [None] * len(terms)
    for index, section in enumerate(sections[:len(SECTION_TIERS)]):
        tier = SECTION_TIERS[index]
        # A term found without a typo in an earlier tier cannot do better further on.
        if all(b is not None and not b[0] and b[1] < tier for b in best):
            break
        # Group, producer and place sections repeat across products: each is read once per search.
        written = written_sections[index] if written_sections is not None and index < len(written_sections) else ""
        memo_key = (index, section, written)
        keys = sections_memo.get(memo_key)
        if keys is None:
            keys = sections_memo[memo_key] = _section_keys(terms, tier, section, written, kinds)
        for i, key in enumerate(keys):
            if key is not None and (best[i] is None or key < best[i]):
                best[i] = key
    found = [b for b in best if b is not None]
    if not found:
        return None
    # The phrase counts for two words or more (one word is ranked by its section below).
    phrase = " " + " ".join(t.folded for t in terms) + ("" if terms[-1].prefix else " ")
    phrase_at = [i for i, section in enumerate(sections) if len(terms) > 1 and phrase in section + " "]
    phrase_rank = 2 if not phrase_at else (0 if phrase_at[0] < NAME_SECTIONS else 1)
    missing = len(terms) - len(found)
    typos = sum(b[0] for b in found)
    tiers = sum(b[1] for b in found) + 4 * missing
    parts = sum(b[2] for b in found)
    accents = sum(b[3] for b in found)
    value = (((((missing + typos) * 9 + missing) * 3 + phrase_rank) * 64 + tiers) * 9 + parts) * 9 + accents
    whole = sum(1 for b in found if not b[0] and not b[2])
    return Hit(product_id=0, score=value, missing=missing, inexact=missing + typos, whole=whole)


def rank(raw: str | None, *, typing: bool = False, limit: int = MAX_CANDIDATES) -> list[Hit]:
    """Products matching the query ``raw``, best first (``score``), at most ``limit``.

    Kept: the products with the most query words found as typed; a typo counts as a word not
    found, so a typo-free partial match is not hidden by a match of every word through typos, and
    typo matches appear only when nothing has more words as typed.
    Runs one to four SQL statements whatever the size of the catalogue. Listing and certificates
    are not checked here (``browse`` does). An empty or wordless query ("%", "!!") matches nothing.
    """
    terms = parse_terms(raw, typing=typing)
    if not terms:
        return []
    kinds: list[dict] = [{} for _ in terms]
    memo: dict = {}

    def complete_as_typed(found: list[Hit]) -> bool:
        return any(h.missing == 0 and h.inexact == 0 for h in found)

    def more(every: bool, near: list[list[str]] | None) -> None:
        seen = {h.product_id for h in hits}
        hits.extend(h for h in _scored(terms, _candidates(terms, every, limit, near), kinds, memo)
                     if h.product_id not in seen)

    hits: list[Hit] = []
    # 1. Every word as typed (or as the start of a word): when that finds something, typo matches
    #    would rank below and be dropped anyway, so the bounded candidates are all exact ones.
    more(every=True, near=None)
    if not complete_as_typed(hits):
        # 2. Every word, typos allowed (the real words one typo away, looked up in the vocabulary);
        #    3. when nobody has every word as typed, any word: products with fewer words but no
        #    typo may be better ("shan tiet": the Shan tuyết teas, not "than … tieu" by two typos).
        near = typo_words(terms)
        if any(near):
            more(every=True, near=near)
        # Step 3 can only add products lacking a word, which rank below every product of step 2
        # that has every word with as few typos: when those already fill ``limit``, it is skipped.
        fewest = min((h.inexact for h in hits), default=None)
        full = sum(1 for h in hits if h.missing == 0 and h.inexact == fewest) >= limit
        if len(terms) > 1 and not complete_as_typed(hits) and not full:
            more(every=False, near=near)
    if hits:
        # A typo is forgiven only when nothing answers as many words as typed ("mien dong" does
        # not list every "men" product, "mat ongg" lists the honeys).
        fewest_inexact = min(h.inexact for h in hits)
        hits = [h for h in hits if h.inexact == fewest_inexact]
        # A product that lacks some query words must hold at least one of the others as a whole
        # word: "mien dog" does not list smoked buffalo for the "miếng" in its story.
        hits = [h for h in hits if h.missing == 0 or h.whole > 0]
    hits.sort(key=lambda h: (h.score, h.product_id))
    return hits[:limit]


def _scored(terms, rows, kinds, memo=None) -> list[Hit]:
    hits = []
    memo = {} if memo is None else memo
    for product_id, folded_text, written_text in rows:
        hit = score(terms, folded_text or "", written_text or "", kinds, memo)
        if hit is not None:
            hit.product_id = product_id
            hits.append(hit)
    return hits


@dataclass
class Ranking:
    """What ``browse`` needs of a search: which products, and their order (``rank``)."""

    hits: list[Hit]

    def condition(self):
        """SQL condition: the product is one of the hits (none when nothing matched)."""
        if not self.hits:
            return false()
        return Product.id.in_([h.product_id for h in self.hits])

    def order(self):
        """SQL expression to ORDER BY, ascending: the hit's score (lower is better).

        Written out as SQL text: ids and scores are Python ints (``%d``), and building up to 600
        bound ``WHEN`` clauses cost more than the query that uses them."""
        if not self.hits:
            return literal(0)
        whens = " ".join("WHEN %d THEN %d" % (h.product_id, h.score) for h in self.hits)
        return literal_column(f"(CASE product.id {whens} ELSE {1 << 40} END)")


def ranking(raw: str | None) -> Ranking:
    """``rank(raw)`` as SQL pieces for ``browse``: ``condition()`` to filter, ``order()`` to sort.

    A plain IN list on the primary key and a CASE on the matching rows only: the database reads
    at most ``MAX_CANDIDATES`` products by id, whatever the size of the catalogue.
    """
    return Ranking(rank(raw))


# ---- Suggestions as they type, and "did you mean" ------------------------------------------------

SUGGEST_MIN_LETTERS = 2
SUGGEST_PRODUCTS = 5
SUGGEST_PRODUCERS = 2
SUGGEST_GROUPS = 2
# Ranked candidates looked at for suggestions (a short list: only the best few are shown).
SUGGEST_CANDIDATES = 200
DID_YOU_MEAN_CANDIDATES = 200
DID_YOU_MEAN_LIMIT = 3
DID_YOU_MEAN_CUTOFF = 70  # _closeness, 0–100


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "product", "producer" or "group"
    label: str  # in the page language
    slug: str  # the product's, producer's or group's slug




def suggest(raw: str | None, lang: str = "vi") -> list[Suggestion]:
    """What to offer while ``raw`` is being typed: up to 5 products, 2 producers, 2 groups.

    From the second letter (``SUGGEST_MIN_LETTERS``; before that: ``[]`` without touching the
    database); the last word matches the start of words. Products are sellable ones (listed, with a
    valid certificate), best first by the search ranking; producers and groups are those of the
    best-ranked products whose own name holds every query word. Labels are in ``lang`` ("en": the English
    name when there is one). At most four SQL statements, whatever the catalogue's size.
    """
    from shop.catalog.models import ProductGroup

    terms = parse_terms(raw, typing=True)
    if sum(len(t.folded) for t in terms) < SUGGEST_MIN_LETTERS:
        return []
    hits = rank(raw, typing=True, limit=SUGGEST_CANDIDATES)[:SUGGEST_CANDIDATES // 4]
    if not hits:
        return []
    rows = db.session.execute(
        select(Product.id, Product.slug, Product.name, Product.name_en,
               Producer.slug, Producer.name, ProductGroup.slug, ProductGroup.name, ProductGroup.name_en)
        .join(Producer, Producer.id == Product.producer_id)
        .join(ProductGroup, ProductGroup.id == Product.group_id)
        .where(Product.id.in_([h.product_id for h in hits]), *_sellable())
    ).all()
    by_id = {row[0]: row for row in rows}

    def holds_query(name: str) -> bool:
        words = [f for _w, f in split_words(name)]
        return all(any(match_kind(t, w) is not None for w in words) for t in terms)

    products, producers, groups = [], {}, {}
    for hit in hits:
        row = by_id.get(hit.product_id)
        if row is None:
            continue
        _id, slug, name, name_en, producer_slug, producer_name, group_slug, group_name, group_name_en = row
        if len(products) < SUGGEST_PRODUCTS:
            products.append(Suggestion("product", (lang == "en" and name_en) or name, slug))
        if (len(producers) < SUGGEST_PRODUCERS and producer_slug not in producers
                and holds_query(producer_name)):
            producers[producer_slug] = Suggestion("producer", producer_name, producer_slug)
        if (len(groups) < SUGGEST_GROUPS and group_slug not in groups
                and (holds_query(group_name) or holds_query(group_name_en or ""))):
            groups[group_slug] = Suggestion("group", (lang == "en" and group_name_en) or group_name, group_slug)
    return products + list(producers.values()) + list(groups.values())


def trigrams(word: str) -> list[str]:
    return list(dict.fromkeys(word[i:i + 3] for i in range(len(word) - 2)))


def _closeness(terms: list[Term], words: list[str]) -> float:
    """0–100: how close a name's folded ``words`` are to the query: for each query word its
    nearest word of the name (rapidfuzz ``ratio``), averaged over the query words."""
    from rapidfuzz import fuzz

    if not words:
        return 0.0
    return sum(max(fuzz.ratio(t.folded, w) for w in words) for t in terms) / len(terms)


def did_you_mean(raw: str | None, lang: str = "vi") -> list[str]:
    """Up to three product or group names close to ``raw``, for a search that found nothing.

    Candidates: products sharing a three-letter piece with a query word (the database's trigram
    index; at most ``DID_YOU_MEAN_CANDIDATES``), sellable ones only, and every product group; the
    names (both languages) are scored against the query (``_closeness`` ≥ 70) and the best are
    returned as written in ``lang``. Three SQL statements at most; none for a query
    without a word of three letters.
    """
    from shop.catalog.models import ProductGroup

    terms = parse_terms(raw)
    pieces = list(dict.fromkeys(p for t in terms for p in trigrams(t.folded)))[:24]
    if not pieces:
        return []
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        ids = session.execute(
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :query LIMIT :limit"),
            {"query": " OR ".join(f'"{p}"' for p in pieces), "limit": DID_YOU_MEAN_CANDIDATES},
        ).scalars().all()
    else:
        ids = session.execute(
            select(Product.id).where(Product.search_text.regexp_match(_pg_regex(pieces)))
            .limit(DID_YOU_MEAN_CANDIDATES)
        ).scalars().all()
    names: list[tuple[str, str]] = []  # (written in lang, folded alternatives)
    if ids:
        for name, name_en in session.execute(
            select(Product.name, Product.name_en)
            .where(Product.id.in_(ids), *_sellable())
        ).all():
            names.append(((lang == "en" and name_en) or name, name, name_en or ""))
    for name, name_en in session.execute(select(ProductGroup.name, ProductGroup.name_en)).all():
        names.append(((lang == "en" and name_en) or name, name, name_en or ""))
    scored = []
    for shown, *alternatives in names:
        best = max(_closeness(terms, [f for _w, f in split_words(a)]) for a in alternatives if a)
        if best >= DID_YOU_MEAN_CUTOFF:
            scored.append((-best, fold(shown), shown))
    scored.sort()
    return list(dict.fromkeys(shown for _b, _f, shown in scored))[:DID_YOU_MEAN_LIMIT]
