"""BM25 keyword search over postings arrays, for indexes too large for FTS5 to rank.

FTS5 ranks by calling bm25 on every paragraph that holds any query term: at 2.6 million
paragraphs one common word costs a second, and bounding the terms searched loses the
ranking. An index of more than `POSTINGS_FROM` paragraphs therefore also holds its FTS5
index laid out as arrays, written from FTS5 itself (same tokenizer, stems and counts):

    keyword-docs.npy      int32 paragraph row ids, grouped by term
    keyword-weights.npy   float32 BM25 weight of that term in that paragraph, as FTS5's
                          bm25() computes it (k1 1.2, b 0.75, idf floored at 1e-6)
    table postings        (term, start, docs) in cables.sqlite: where a term's run starts

A query adds its terms' runs into one score per paragraph with numpy and keeps the best:
the same scores as FTS5's -bm25() (to float32 rounding), at the cost of reading each
posting once. Phrase search and smaller indexes stay on FTS5.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cables.records import Filters
from embeddings import tables

POSTINGS_FROM = 200_000  # paragraphs; below this FTS5's own ranking takes milliseconds
LAYOUT = "postings"  # the manifest's "keyword" of an index that has them
DOCS, WEIGHTS = "keyword-docs.npy", "keyword-weights.npy"
FILES = (DOCS, WEIGHTS)
K1, B, MIN_IDF = 1.2, 0.75, 1e-6  # FTS5's bm25() constants (fts5_aux.c)
# Postings a query may add up, its rarest terms first: the commonest words of a
# 2.6M-paragraph collection hold hundreds of thousands each and, with an idf near zero,
# barely move the ranking. At 2.6M chunks, 95 dev questions, idle: every term p50 24 /
# p95 79 ms; 2,000,000 postings 17 / 35 ms, top 10 as exact; 1,000,000 16 / 23 ms, 98.9%
# of the exact top 10; 500,000 14 / 17 ms, 90.5% (bench/results/scale-hybrid.md).
BUDGET = 1_000_000
_READ_ROWS = 1 << 20  # FTS5 token instances read at a time while writing
_WEIGH_POSTINGS = 1 << 22  # postings weighed at a time


def write(conn: sqlite3.Connection, folder: Path) -> dict:
    """Write the postings arrays of `conn`'s FTS5 index into `folder` and its term table
    into `conn` (replacing any copied from an earlier generation); returns counts.

    Memory stays flat: token instances are read in blocks and written into arrays
    mapped from disk, then weighed term by term.
    """
    conn.execute("DROP TABLE IF EXISTS postings")
    conn.execute("CREATE TABLE postings (term TEXT PRIMARY KEY, start INTEGER NOT NULL, "
                 "docs INTEGER NOT NULL) WITHOUT ROWID")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.paragraph_instances USING "
                 "fts5vocab(main, paragraphs_fts, 'instance')")
    n_rows, size = conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0], _size(conn)
    total = conn.execute("SELECT coalesce(sum(docs), 0) FROM term_docs").fetchone()[0]
    docs = np.lib.format.open_memmap(folder / DOCS, mode="w+", dtype=np.int32, shape=(total,))
    weights = np.lib.format.open_memmap(folder / WEIGHTS, mode="w+", dtype=np.float32,
                                        shape=(total,))
    lengths = np.zeros(size, dtype=np.int64)  # tokens per paragraph: FTS5's column size
    terms: list[str] = []
    runs = np.zeros(0, dtype=np.int64)  # postings per term, in the order FTS5 lists them
    filled, last = 0, (None, -1, -1)  # postings written; term, term index, paragraph of the last
    cursor = conn.execute("SELECT term, doc FROM temp.paragraph_instances")
    while block := cursor.fetchmany(_READ_ROWS):
        names, ids = zip(*block)
        ids = np.fromiter(ids, dtype=np.int64, count=len(ids))
        lengths += np.bincount(ids, minlength=size)
        # Instances come sorted by term, then paragraph: a posting is a run of equal
        # (term, paragraph) pairs, and its length is the term's frequency there.
        new_term = np.fromiter((a != b for a, b in zip(names, (last[0], *names[:-1]))),
                               dtype=bool, count=len(names))
        term_of = len(terms) - 1 + np.cumsum(new_term)
        terms += [names[i] for i in np.flatnonzero(new_term)]
        runs = np.r_[runs, np.zeros(len(terms) - len(runs), dtype=np.int64)]
        starts = np.flatnonzero(np.r_[True, (term_of[1:] != term_of[:-1]) | (ids[1:] != ids[:-1])])
        freq = np.diff(np.r_[starts, len(ids)])
        if term_of[0] == last[1] and ids[0] == last[2]:  # a posting went on from the last block
            weights[filled - 1] += freq[0]
            starts, freq = starts[1:], freq[1:]
        docs[filled:filled + len(starts)] = ids[starts]
        weights[filled:filled + len(starts)] = freq
        if len(starts):
            first = term_of[starts[0]]
            counts = np.bincount(term_of[starts] - first)
            runs[first:first + len(counts)] += counts
        filled += len(starts)
        last = (names[-1], int(term_of[-1]), int(ids[-1]))
    if filled != total:
        raise RuntimeError(f"FTS5 listed {filled} postings, its vocabulary {total}")
    average = lengths.sum() / max(n_rows, 1)
    offsets = np.r_[0, np.cumsum(runs)]
    idf = np.maximum(np.log((n_rows - runs + 0.5) / (runs + 0.5)), MIN_IDF)
    norm = K1 * (1 - B + B * lengths / average)
    first = 0
    while first < len(runs):  # weigh whole terms, about _WEIGH_POSTINGS postings at a time
        end = int(np.searchsorted(offsets, offsets[first] + _WEIGH_POSTINGS, side="right"))
        end = max(end - 1, first + 1)
        lo, hi = offsets[first], offsets[end]
        tf = weights[lo:hi].astype(np.float64)
        weights[lo:hi] = np.repeat(idf[first:end], runs[first:end]) * \
            (tf * (K1 + 1)) / (tf + norm[docs[lo:hi]])
        first = end
    docs.flush()
    weights.flush()
    del docs, weights
    conn.executemany("INSERT INTO postings VALUES (?, ?, ?)",
                     zip(terms, offsets[:-1].tolist(), runs.tolist()))
    return {"terms": len(terms), "postings": int(total), "paragraphs": int(n_rows)}


def _size(conn: sqlite3.Connection) -> int:
    """One more than the largest paragraph row id: the length of a score per paragraph."""
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM paragraphs").fetchone()[0]


@dataclass
class Postings:
    """The postings arrays of an index generation, mapped read-only."""

    docs: np.ndarray
    weights: np.ndarray
    size: int  # one more than the largest paragraph row id

    @classmethod
    def open(cls, folder: Path, conn: sqlite3.Connection) -> Postings:
        """The arrays in `folder`, for the paragraphs of `conn`."""
        docs = np.load(folder / DOCS, mmap_mode="r")
        weights = np.load(folder / WEIGHTS, mmap_mode="r")
        if docs.shape != weights.shape:
            raise ValueError(f"{folder}: {DOCS} and {WEIGHTS} differ in length")
        return cls(docs, weights, _size(conn))

    def scores(self, runs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """(paragraph row ids, BM25 scores) of every paragraph that holds any of the
        (start, length) runs, a term's run counted once per time it is asked."""
        total = np.zeros(self.size, dtype=np.float32)
        for start, length in runs:
            total[self.docs[start:start + length]] += self.weights[start:start + length]
        found = np.flatnonzero(total)
        return found, total[found]


def search(conn: sqlite3.Connection, postings: Postings, stems: list[str | None], k: int,
           filters: Filters | None, budget: int = BUDGET) -> list[tuple[str, int, float]]:
    """Best (cable_id, paragraph, score) for the stemmed query terms; score is FTS5's
    -bm25. With filters, candidates are checked best first in widening windows."""
    if not stems or k <= 0:
        return []
    unique = list({t for t in stems if t is not None})
    known = {t: (start, n) for t, start, n in conn.execute(
        f"SELECT term, start, docs FROM postings WHERE term IN ({', '.join('?' * len(unique))})",
        unique)}
    asked = [known[t] for t in stems if t in known]
    ids, scores = postings.scores([asked[i] for i in tables.rarest_within(
        [length for _, length in asked], budget)])
    where, params = tables.filter_clause(filters) if filters and not filters.is_empty() \
        else ("1", [])
    window = 4 * k
    while True:
        take = np.argpartition(-scores, window)[:window] if window < len(ids) else slice(None)
        chosen = {int(i): float(s) for i, s in zip(ids[take], scores[take])}
        rows = conn.execute(
            "SELECT p.id, p.cable_id, p.number FROM paragraphs p JOIN cables c ON "
            f"c.id = p.cable_id WHERE p.id IN (SELECT value FROM json_each(?)) AND {where}",
            [json.dumps(list(chosen)), *params]).fetchall()
        if len(rows) >= k or window >= len(ids):
            best = sorted(((chosen[i], -i, cid, n) for i, cid, n in rows), reverse=True)[:k]
            return [(cid, n, score) for score, _, cid, n in best]
        window *= 16

