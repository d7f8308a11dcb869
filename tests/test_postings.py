"""Keyword search over postings arrays gives FTS5's own BM25 ranking, on the sample index
and the dev questions, whatever the block sizes the arrays were written in."""
import shutil
import sqlite3

import numpy as np
import pytest

from embeddings import postings, tables
from embeddings.store import CURRENT, DB
from eval.questions import load_questions
from qa.retrieve import keyword_query

UNBOUNDED = 10**12


@pytest.fixture(scope="module", params=[(1 << 20, 1 << 22), (7, 5)], ids=["big blocks", "tiny blocks"])
def written(request, sample_index_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("postings")
    live = sample_index_dir / (sample_index_dir / CURRENT).read_text().strip()
    shutil.copyfile(live / DB, folder / DB)
    conn = sqlite3.connect(folder / DB)
    read_rows, weigh = request.param
    saved = postings._READ_ROWS, postings._WEIGH_POSTINGS
    postings._READ_ROWS, postings._WEIGH_POSTINGS = read_rows, weigh
    try:
        counts = postings.write(conn, folder)
    finally:
        postings._READ_ROWS, postings._WEIGH_POSTINGS = saved
    yield conn, postings.Postings.open(folder, conn), counts
    conn.close()


def test_every_posting_fts5_holds_is_written(written):
    conn, arrays, counts = written
    assert counts["postings"] == len(arrays.docs) == conn.execute(
        "SELECT sum(docs) FROM term_docs").fetchone()[0]
    assert counts["terms"] == conn.execute("SELECT count(*) FROM term_docs").fetchone()[0]
    assert np.all(arrays.weights > 0)


def test_scores_and_order_equal_fts5_bm25_on_every_dev_question(written):
    conn, arrays, _ = written
    for question in load_questions():
        text = keyword_query(question.question)
        want = tables.keyword_search(conn, text, 20, None, budget=UNBOUNDED)
        got = postings.search(conn, arrays, tables.stem(conn, tables.query_terms(text)), 20,
                              None, budget=UNBOUNDED)
        assert [r[:2] for r in got[:10]] == [r[:2] for r in want[:10]], question.question
        np.testing.assert_allclose([r[2] for r in got], [r[2] for r in want], rtol=1e-5)


def test_the_budget_keeps_the_rarest_terms(written):
    conn, arrays, _ = written
    stems = tables.stem(conn, ["officials", "hukou"])
    alone = postings.search(conn, arrays, [stems[1]], 5, None)
    assert postings.search(conn, arrays, stems, 5, None, budget=1) == alone
    assert alone and postings.search(conn, arrays, ["nosuchstem", None], 5, None) == []
