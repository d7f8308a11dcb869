"""HNSW against exact search on real MiniLM vectors of the 6,712-cable corpus.

Embedding all ~100k paragraph chunks of the corpus takes about an hour on a 2-core CPU, so
this test embeds one chunk per cable (its first chunk, header included, cut to its first
64 word pieces): 6,573 real corpus vectors, queried with 200 other chunks of the corpus.
The full-scale figure (every chunk) is measured by bench/index.py.
"""
from pathlib import Path

import numpy as np
import pytest
from faiss.contrib.evaluation import knn_intersection_measure

from embeddings import vectors
from cables.reader import read_cables
from embeddings.chunks import chunk_cable
from embeddings.encoder import Encoder

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"
QUERIES, K, WORD_PIECES = 200, 10, 64

pytestmark = pytest.mark.slow


def cut(encoder: Encoder, text: str) -> str:
    offsets = encoder.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                                verbose=False)["offset_mapping"]
    return text[:offsets[min(len(offsets), WORD_PIECES) - 1][1]]


@pytest.fixture(scope="session")
def corpus_vectors() -> tuple[np.ndarray, np.ndarray]:
    """(vectors of each cable's first chunk, vectors of 200 cables' last chunk)."""
    encoder = Encoder()
    firsts, lasts = [], []
    for cable in read_cables(CORPUS):
        chunks = chunk_cable(cable, encoder.tokenizer, encoder.max_tokens)
        firsts.append(cut(encoder, chunks[0].embed_text))
        if len(chunks) > 2:
            lasts.append(cut(encoder, chunks[-1].embed_text))
    assert len(firsts) > 6_500
    picked = np.random.default_rng(0).choice(len(lasts), QUERIES, replace=False)
    return (encoder.encode(firsts, progress=True),
            encoder.encode([lasts[i] for i in picked], progress=True))


def recall(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """Recall@k of `found` against the exact `truth`, by faiss's own measure; a filtered
    search may return fewer than k ids, and the missing ones count as misses."""
    padded = np.array([np.pad(f, (0, K - len(f)), constant_values=-1) for f in found])
    return knn_intersection_measure(np.array(truth), padded)


@pytest.mark.parametrize("filtered", [False, True], ids=["all", "filtered"])
def test_hnsw_recall_at_10_against_flat_on_the_corpus(corpus_vectors, filtered):
    base, queries = corpus_vectors
    ids = np.arange(len(base), dtype=np.int64) * 7 + 3  # ids are row ids, not positions
    flat = vectors.build(vectors.choose_layout(len(base), len(base)), base.shape[1], ids, base)
    hnsw = vectors.build(vectors.choose_layout(len(base), 0), base.shape[1], ids, base)
    assert (vectors.layout_of(flat), vectors.layout_of(hnsw)) == ("flat", "hnsw")
    # a filter keeping a third of the vectors, searched through the HNSW graph (not exactly)
    allowed = ids[::3] if filtered else None
    truth = [vectors.search(flat, q, K, allowed)[1] for q in queries]
    found = [vectors.search(hnsw, q, K, allowed, exact_limit=0)[1] for q in queries]
    assert all(len(t) == K for t in truth)
    if filtered:
        assert all(set(f) <= set(allowed) for f in found)
    assert recall(found, truth) >= 0.95
