"""The SQLite half of an index: cables, paragraphs, chunks and the FTS5 keyword index.

Functions over an open connection; `store.py` decides which file and when to commit.
A chunk's row id is its FAISS id, so a vector leads straight to (cable, paragraph).
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from typing import Iterable

from embeddings.chunks import Chunk
from cables import references
from cables.errors import InvalidInputError
from cables.records import Cable, Filters, Paragraph
from cables.references import Reference

SCHEMA = """
CREATE TABLE cables (
    id TEXT PRIMARY KEY, date TEXT NOT NULL, origin TEXT NOT NULL,
    classification TEXT NOT NULL, tags TEXT NOT NULL, subject TEXT NOT NULL,
    signer TEXT NOT NULL, source TEXT NOT NULL,
    numbered INTEGER NOT NULL, content_hash TEXT NOT NULL,
    recipients TEXT NOT NULL  -- JSON list of the TO addressees: ["SECSTATE WASHDC"]
) WITHOUT ROWID;
CREATE INDEX cables_origin ON cables (origin);
CREATE INDEX cables_date ON cables (date);
CREATE TABLE cable_tags (
    tag TEXT NOT NULL, cable_id TEXT NOT NULL, PRIMARY KEY (tag, cable_id)
) WITHOUT ROWID;
-- A cable's REF line, item by item in its order: as written, its kind, and the cited
-- cable's canonical ID ('' when it is no cable); `cited` answers "which cables cite X".
CREATE TABLE cable_refs (
    cable_id TEXT NOT NULL, position INTEGER NOT NULL, written TEXT NOT NULL,
    kind TEXT NOT NULL, cited TEXT NOT NULL, PRIMARY KEY (cable_id, position)
) WITHOUT ROWID;
CREATE INDEX cable_refs_cited ON cable_refs (cited);
CREATE TABLE paragraphs (
    id INTEGER PRIMARY KEY, cable_id TEXT NOT NULL, number INTEGER NOT NULL,
    text TEXT NOT NULL, marking TEXT NOT NULL
);
CREATE INDEX paragraphs_cable ON paragraphs (cable_id, number);
-- AUTOINCREMENT: a chunk id is a FAISS id and must never be handed out twice.
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, cable_id TEXT NOT NULL,
    paragraph INTEGER NOT NULL, part INTEGER NOT NULL
);
CREATE INDEX chunks_cable ON chunks (cable_id);
-- Porter stemming: "regulations" finds "regulation"; the text itself lives in paragraphs.
CREATE VIRTUAL TABLE paragraphs_fts USING fts5 (
    text, content='paragraphs', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
-- Paragraphs per stemmed term, written with the index: keyword search skips the commonest
-- query terms (see bounded_terms). An index without it searches every term.
CREATE TABLE term_docs (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER paragraphs_insert AFTER INSERT ON paragraphs BEGIN
    INSERT INTO paragraphs_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER paragraphs_delete AFTER DELETE ON paragraphs BEGIN
    INSERT INTO paragraphs_fts (paragraphs_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""
FTS5 = "fts5"  # the manifest's "keyword" of an index FTS5 ranks alone
MAX_QUERY_TERMS = 32  # a pasted page must not become a 10,000-term OR query
TOKENIZER = "porter unicode61 remove_diacritics 2"  # paragraphs_fts's, in SCHEMA
# Paragraphs an FTS5 keyword query may score. On a 260,008-chunk synthetic index
# (bench/scale.py --hybrid, 95 dev questions, load 11 on 2 cores): every term p50 133 /
# p95 530 ms; within 50,000 p50 78 / p95 120 ms, keeping 91% of the top 10. Larger indexes
# search postings arrays instead (embeddings/postings.py): at 2.6M chunks this budget
# kept only 55% of the top 10.
KEYWORD_BUDGET = 50_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TERM = re.compile(r"\w+")


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def insert_cable(conn: sqlite3.Connection, cable: Cable, chunks: list[Chunk]) -> list[int]:
    """Store one cable, its paragraphs and chunks; returns the chunk ids in `chunks` order."""
    conn.execute(
        "INSERT INTO cables VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cable.id, cable.date, cable.origin, cable.classification, json.dumps(cable.tags),
         cable.subject, cable.signer, cable.source, int(cable.numbered), cable.content_hash(),
         json.dumps(cable.recipients)))
    conn.executemany("INSERT INTO cable_refs VALUES (?, ?, ?, ?, ?)",
                     [(cable.id, i, r.written, r.kind, r.cable_id)
                      for i, r in enumerate(references.of_cable(cable.id, cable.references))])
    conn.executemany("INSERT OR IGNORE INTO cable_tags VALUES (?, ?)",
                     [(tag, cable.id) for tag in cable.tags])
    conn.executemany("INSERT INTO paragraphs (cable_id, number, text, marking) VALUES (?, ?, ?, ?)",
                     [(cable.id, p.number, p.text, p.marking) for p in cable.paragraphs])
    return [conn.execute("INSERT INTO chunks (cable_id, paragraph, part) VALUES (?, ?, ?)",
                         (c.cable_id, c.paragraph, c.part)).lastrowid for c in chunks]


def delete_cables(conn: sqlite3.Connection, cable_ids: Iterable[str]) -> list[int]:
    """Remove cables and everything of theirs; returns the chunk ids that are gone."""
    gone: list[int] = []
    for cable_id in cable_ids:
        gone += [r[0] for r in conn.execute("SELECT id FROM chunks WHERE cable_id = ?", (cable_id,))]
        for table, column in (("chunks", "cable_id"), ("paragraphs", "cable_id"),
                              ("cable_tags", "cable_id"), ("cable_refs", "cable_id"),
                              ("cables", "id")):
            conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (cable_id,))
    return gone


def content_hashes(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT id, content_hash FROM cables"))


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("cables", "paragraphs", "chunks")}


def corpus_hash(conn: sqlite3.Connection) -> str:
    """One hash of every (cable ID, content hash): equal hashes, equal collections."""
    digest = hashlib.sha256()
    for cable_id, content in conn.execute("SELECT id, content_hash FROM cables ORDER BY id"):
        digest.update(f"{cable_id}\t{content}\n".encode())
    return digest.hexdigest()[:16]


def filter_clause(filters: Filters | None) -> tuple[str, list]:
    """A WHERE condition on the cables table aliased `c`, and its parameters.

    >>> filter_clause(Filters(origins=("Embassy Beijing",), date_to="2009-12-31"))
    ('c.origin IN (?) AND substr(c.date, 1, 10) <= ?', ['Embassy Beijing', '2009-12-31'])
    >>> filter_clause(None)
    ('1', [])
    """
    if filters is None or filters.is_empty():
        return "1", []
    where, params = [], []

    def any_of(column: str, values: tuple[str, ...]) -> None:
        where.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    if filters.origins:
        any_of("c.origin", filters.origins)
    for bound, op in ((filters.date_from, ">="), (filters.date_to, "<=")):
        if bound:
            if not _DATE.fullmatch(bound):
                raise InvalidInputError(f"date filter {bound!r} is not YYYY-MM-DD")
            where.append(f"substr(c.date, 1, 10) {op} ?")
            params.append(bound)
    if filters.classifications:
        any_of("c.classification", filters.classifications)
    if filters.tags:
        where.append("EXISTS (SELECT 1 FROM cable_tags t WHERE t.cable_id = c.id AND t.tag IN "
                     f"({', '.join('?' * len(filters.tags))}))")
        params.extend(filters.tags)
    if filters.references_to:
        where.append("EXISTS (SELECT 1 FROM cable_refs r WHERE r.cable_id = c.id AND r.cited IN "
                     f"({', '.join('?' * len(filters.references_to))}))")
        params.extend(filters.references_to)
    return " AND ".join(where), params


def query_terms(text: str) -> list[str]:
    """The words of any user text, lower-cased, once each; searched quoted and joined by
    OR, so punctuation, quotes, `AND`, `*` or NUL bytes are only ever searched as words.

    >>> query_terms('Zhejiang "hukou" AND reform*')
    ['zhejiang', 'hukou', 'and', 'reform']
    >>> query_terms("?!")
    []
    """
    return list(dict.fromkeys(t.lower() for t in _TERM.findall(text)))[:MAX_QUERY_TERMS]


def write_term_docs(conn: sqlite3.Connection) -> None:
    """Record how many paragraphs hold each (stemmed) term, for `bounded_terms`."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.paragraphs_vocab USING "
                 "fts5vocab(main, paragraphs_fts, 'row')")
    # An index written before term_docs existed gets it on its next update.
    conn.execute("CREATE TABLE IF NOT EXISTS term_docs (term TEXT PRIMARY KEY, "
                 "docs INTEGER NOT NULL) WITHOUT ROWID")
    conn.execute("DELETE FROM term_docs")
    conn.execute("INSERT INTO term_docs SELECT term, doc FROM temp.paragraphs_vocab")


def stem(conn: sqlite3.Connection, terms: list[str]) -> list[str | None]:
    """Each term as the index's tokenizer stems it (None: no token in it), by FTS5 itself.

    >>> stem(sqlite3.connect(":memory:"), ["Regulations", "officials", "?"])
    ['regul', 'offici', None]
    """
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_terms USING fts5 (text, "
                 f"tokenize='{TOKENIZER}')")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_stems USING "
                 "fts5vocab(temp, query_terms, 'instance')")
    conn.execute("DELETE FROM temp.query_terms")
    conn.executemany("INSERT INTO temp.query_terms (rowid, text) VALUES (?, ?)", enumerate(terms))
    found = dict(conn.execute("SELECT doc, term FROM temp.query_stems"))
    return [found.get(i) for i in range(len(terms))]


def bounded_terms(conn: sqlite3.Connection, terms: list[str], budget: int) -> list[str]:
    """The rarest of `terms` whose paragraphs add up to at most `budget` (always at least
    the rarest one): BM25 scores every paragraph that holds any query term, so a common
    word ("officials") costs the most and, having a low idf, hardly changes the ranking.
    Terms are compared as the index stems them.

    >>> conn = sqlite3.connect(":memory:"); create(conn)
    >>> conn.execute("INSERT INTO term_docs VALUES ('offici', 900), ('hukou', 3), ('reform', 50)")  # doctest: +ELLIPSIS
    <sqlite3.Cursor ...>
    >>> bounded_terms(conn, ["officials", "hukou", "reforms"], 100)
    ['hukou', 'reforms']
    """
    stems = dict(enumerate(stem(conn, terms)))
    try:
        docs = dict(conn.execute(f"SELECT term, docs FROM term_docs WHERE term IN "
                                 f"({', '.join('?' * len(stems))})", list(stems.values())))
    except sqlite3.OperationalError:  # an index from before term_docs: keep every term
        return terms
    kept = rarest_within([docs.get(stems[i], 0) for i in range(len(terms))], budget)
    return [terms[i] for i in sorted(kept)]


def rarest_within(counts: list[int], budget: int) -> list[int]:
    """Indices of the smallest `counts` that add up to at most `budget`, smallest first
    (always the smallest one): which query terms a keyword search can afford.

    >>> rarest_within([900, 3, 50], 100), rarest_within([900, 300], 100), rarest_within([], 1)
    ([1, 2], [1], [])
    """
    kept, total = [], 0
    for count, i in sorted((count, i) for i, count in enumerate(counts)):
        if kept and total + count > budget:
            break
        kept.append(i)
        total += count
    return kept


def phrase_query(text: str) -> str:
    """An FTS5 phrase: the words of `text` in this order, next to each other.

    >>> phrase_query('84 "percent"!')
    '"84 percent"'
    """
    terms = [t.lower() for t in _TERM.findall(text)][:MAX_QUERY_TERMS]
    return f'"{" ".join(terms)}"' if terms else ""


def keyword_search(conn: sqlite3.Connection, text: str, k: int, filters: Filters | None,
                   budget: int = KEYWORD_BUDGET, phrase: bool = False) -> list[tuple[str, int, float]]:
    """Best (cable_id, paragraph, score) by BM25; score = -bm25, so higher is better.

    Only the query's rarest terms are searched, up to `budget` paragraphs holding them
    (`bounded_terms`); without filters FTS5 ranks and cuts to `k` before any join. With
    `phrase`, only paragraphs holding the words of `text` in a row ("84 percent"), which
    are few by nature, so no term is left out.
    """
    terms = query_terms(text)
    if not terms or k <= 0:
        return []
    query = (phrase_query(text) if phrase else
             " OR ".join(f'"{t}"' for t in bounded_terms(conn, terms, budget)))
    if filters is None or filters.is_empty():
        return conn.execute(
            "SELECT p.cable_id, p.number, -top.rank FROM (SELECT rowid, rank FROM "
            "paragraphs_fts WHERE paragraphs_fts MATCH ? ORDER BY rank LIMIT ?) AS top "
            "JOIN paragraphs p ON p.id = top.rowid ORDER BY top.rank", [query, k]).fetchall()
    where, params = filter_clause(filters)
    return conn.execute(
        "SELECT p.cable_id, p.number, -bm25(paragraphs_fts) AS score FROM paragraphs_fts "
        "JOIN paragraphs p ON p.id = paragraphs_fts.rowid JOIN cables c ON c.id = p.cable_id "
        f"WHERE paragraphs_fts MATCH ? AND {where} ORDER BY score DESC LIMIT ?",
        [query, *params, k]).fetchall()


def chunk_ids(conn: sqlite3.Connection, filters: Filters) -> list[int]:
    """Ids of the chunks of cables that pass the filters."""
    where, params = filter_clause(filters)
    return [r[0] for r in conn.execute(
        f"SELECT ch.id FROM chunks ch JOIN cables c ON c.id = ch.cable_id WHERE {where}", params)]


def chunk_paragraphs(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[str, int]]:
    """chunk id → (cable_id, paragraph number)."""
    rows = conn.execute(f"SELECT id, cable_id, paragraph FROM chunks WHERE id IN "
                        f"({', '.join('?' * len(ids))})", ids)
    return {i: (cable_id, paragraph) for i, cable_id, paragraph in rows}


def read_paragraph(conn: sqlite3.Connection, cable_id: str, number: int) -> Paragraph | None:
    row = conn.execute("SELECT number, text, marking FROM paragraphs WHERE cable_id = ? AND "
                       "number = ? ORDER BY id LIMIT 1", (cable_id, number)).fetchone()
    return Paragraph(*row) if row else None


def read_cable(conn: sqlite3.Connection, cable_id: str) -> Cable | None:
    row = conn.execute("SELECT id, date, origin, classification, tags, subject, signer, "
                       "source, numbered, recipients FROM cables WHERE id = ?", (cable_id,)).fetchone()
    if row is None:
        return None
    paragraphs = tuple(Paragraph(*r) for r in conn.execute(
        "SELECT number, text, marking FROM paragraphs WHERE cable_id = ? ORDER BY id", (cable_id,)))
    written = tuple(r.written for r, _ in read_references(conn, cable_id))
    cid, date, origin, classification, tags, subject, signer, source, numbered, recipients = row
    return Cable(cid, date, origin, classification, tuple(json.loads(tags)), subject,
                 written, signer, paragraphs, source, bool(numbered), tuple(json.loads(recipients)))


def read_references(conn: sqlite3.Connection, cable_id: str) -> list[tuple[Reference, bool]]:
    """A cable's references in its order, each with whether the cable it cites is indexed."""
    rows = conn.execute(
        "SELECT r.written, r.kind, r.cited, c.id IS NOT NULL FROM cable_refs r "
        "LEFT JOIN cables c ON c.id = r.cited AND r.cited != '' WHERE r.cable_id = ? "
        "ORDER BY r.position", (cable_id,))
    return [(Reference(written, kind, cited), bool(indexed)) for written, kind, cited, indexed in rows]


def citing(conn: sqlite3.Connection, cable_id: str) -> list[str]:
    """The indexed cables whose references cite `cable_id`, by ID."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT cable_id FROM cable_refs WHERE cited = ? ORDER BY cable_id", (cable_id,))]


def stats(conn: sqlite3.Connection) -> dict:
    def column(sql: str) -> list:
        return [r[0] for r in conn.execute(sql)]

    first, last = conn.execute("SELECT min(substr(date, 1, 10)), max(substr(date, 1, 10)) "
                               "FROM cables WHERE date != ''").fetchone()
    origin_counts = dict(conn.execute("SELECT origin, count(*) FROM cables GROUP BY origin ORDER BY 2 DESC, 1"))
    return {**counts(conn), "date_from": first or "", "date_to": last or "",
            "origins": sorted(origin_counts),  # SQLite's and Python's orders of text agree
            "origin_counts": origin_counts,
            "classifications": column("SELECT DISTINCT classification FROM cables ORDER BY 1"),
            "tags": column("SELECT DISTINCT tag FROM cable_tags ORDER BY tag")}
