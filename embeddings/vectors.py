"""The FAISS half of an index: which structure holds the vectors, and searching it.

Vectors live in an `IndexIDMap2` keyed by the chunk's SQLite row id. Below the threshold
the inner index is the exact `IndexFlatIP`; above it, HNSW (approximate, much faster on
large collections). The choice is automatic and can be forced with the threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

FLAT, HNSW = "flat", "hnsw"
HNSW_M = 32  # links per node: recall ≥ 0.95 on the 6,712-cable corpus at the efSearch below
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128
# A filter that keeps this few chunks is searched exactly: cheap, and HNSW with a selective
# ID selector loses recall (most graph neighbours are filtered out).
EXACT_FILTER_LIMIT = 20_000


@dataclass(frozen=True)
class Layout:
    """How the vectors of one index are organised; recorded in the manifest."""

    kind: str  # FLAT or HNSW
    m: int = HNSW_M
    ef_construction: int = HNSW_EF_CONSTRUCTION
    ef_search: int = HNSW_EF_SEARCH


def choose_layout(n_vectors: int, hnsw_threshold: int) -> Layout:
    """Exact search up to the threshold, HNSW above it (0 forces HNSW).

    >>> choose_layout(1_000, 200_000).kind, choose_layout(300_000, 200_000).kind
    ('flat', 'hnsw')
    """
    return Layout(HNSW if n_vectors > hnsw_threshold else FLAT)


def new_index(layout: Layout, dim: int) -> faiss.IndexIDMap2:
    if layout.kind == HNSW:
        inner = faiss.IndexHNSWFlat(dim, layout.m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = layout.ef_construction
        inner.hnsw.efSearch = layout.ef_search
    else:
        inner = faiss.IndexFlatIP(dim)
    return faiss.IndexIDMap2(inner)


def build(layout: Layout, dim: int, ids: np.ndarray, vectors: np.ndarray) -> faiss.IndexIDMap2:
    index = new_index(layout, dim)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                           np.asarray(ids, dtype=np.int64))
    return index


def contents(index: faiss.IndexIDMap2) -> tuple[np.ndarray, np.ndarray]:
    """All (ids, vectors) of an index, so an update can rebuild it without re-embedding."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    if not len(ids):
        return ids, np.empty((0, index.d), dtype=np.float32)
    return ids, index.index.reconstruct_n(0, index.ntotal)


def layout_of(index: faiss.IndexIDMap2) -> str:
    return HNSW if isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW) else FLAT


def search(index: faiss.IndexIDMap2, query: np.ndarray, k: int,
           allowed: np.ndarray | None = None, ef_search: int = HNSW_EF_SEARCH,
           exact_limit: int = EXACT_FILTER_LIMIT) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` (scores, ids) for one query vector, restricted to `allowed` ids when given.

    Flat search is exact with or without a filter; HNSW with at most `exact_limit` allowed
    ids is searched exactly too, over just those vectors.
    """
    query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    k = min(k, index.ntotal if allowed is None else len(allowed))
    if k <= 0:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
    hnsw = layout_of(index) == HNSW
    if allowed is not None and hnsw and len(allowed) <= exact_limit:
        scores = index.reconstruct_batch(allowed) @ query[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return scores[top], allowed[top]
    # Kept in a local so the selector outlives the search that points at it.
    selector = None if allowed is None else faiss.IDSelectorBatch(allowed)
    if hnsw:
        # With a filter, widen the beam in proportion to what the filter removes.
        widen = 1 if allowed is None else min(8, index.ntotal // len(allowed) + 1)
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(ef_search, k) * widen)
    else:
        params = faiss.SearchParameters(sel=selector)
    scores, ids = index.search(query, k, params=params)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def read(path: str) -> faiss.IndexIDMap2:
    return faiss.read_index(path)


def write(index: faiss.IndexIDMap2, path: str) -> None:
    faiss.write_index(index, path)
