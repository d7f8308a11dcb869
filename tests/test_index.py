"""The index on the five seed cables and the real MiniLM: update semantics, crash safety,
manifest checks, search with filters, and reads from several threads."""
import json
import shutil
import sqlite3
import threading
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cables import Filters
from embeddings import build_index, open_index
from embeddings.__main__ import main
from cables.reader import read_cables
from embeddings.chunks import chunk_cable
from embeddings.encoder import Encoder
from cables.errors import (IndexMismatchError, IndexNotFoundError, InvalidInputError,
                               NotFoundError)
from cables.records import Cable, Paragraph
from embeddings.store import BUILD, CHECKPOINTS, MANIFEST, VECTORS, _file_record, index_cables

DATA = Path(__file__).resolve().parent.parent / "data"
SEEDS = sorted((DATA / "cables").glob("*.txt"))
QUERIES = ["Zhejiang residency policy for migrant workers", "migrant workers returning to Guangxi",
           "North Korea", "what did the ambassador say?"]
REBUILD = "python -m embeddings build"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The seeds, copied and indexed once; tests work on copies of both."""
    root = tmp_path_factory.mktemp("seeds")
    shutil.copytree(DATA / "cables", root / "cables", ignore=shutil.ignore_patterns("*.csv"))
    build_index([root / "cables"], root / "index", progress=False)
    return root


@pytest.fixture
def seeds(built, tmp_path):
    """(folder of seed files, index folder) that a test may change."""
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    return tmp_path / "cables", tmp_path / "index"


def answers(index_dir: Path) -> list:
    with open_index(index_dir) as index:
        vectors = index.encoder().encode(QUERIES)
        return [(index.search_dense(v, 5), index.search_keyword(q, 5)) for q, v in zip(QUERIES, vectors)]


def generation_files(index_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index_dir)): p.read_bytes()
            for p in sorted(index_dir.rglob("*")) if p.is_file()}


def live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def edit_seed(folder: Path) -> str:
    """Change one word of 09SHANGHAI374's paragraph 9; returns that cable's ID."""
    path = folder / "001_77859e777fb636d1.txt"
    text = path.read_text()
    assert "blamed migrant workers" in text
    path.write_text(text.replace("blamed migrant workers", "blamed itinerant labourers"))
    return "09SHANGHAI374"


def test_the_seed_index_holds_every_seed_exactly(seeds):
    folder, index_dir = seeds
    cables = list(read_cables(folder))
    with open_index(index_dir) as index:
        # equal but for `source`: the index was built from another copy of the folder
        assert [replace(index.cable(c.id), source=c.source) for c in cables] == cables
        assert all(index.cable(c.id).content_hash() == c.content_hash() for c in cables)
        stats = index.stats()
        assert stats["cables"] == 5 and stats["paragraphs"] == sum(len(c.paragraphs) for c in cables)
        assert stats["origins"] == sorted({c.origin for c in cables})
        assert stats["date_from"] == min(c.date[:10] for c in cables)
        assert set(stats["tags"]) == {t for c in cables for t in c.tags}
        manifest = index.manifest
        assert (manifest["model"], manifest["dim"], manifest["index_type"]) == ("all-MiniLM-L6-v2", 384, "flat")
        assert manifest["counts"] == {k: stats[k] for k in ("cables", "paragraphs", "chunks")}
        assert index.paragraph("09SHANGHAI374", 9) == cables[1].paragraph(9)
        with pytest.raises(NotFoundError):
            index.paragraph("09SHANGHAI374", 99)
        with pytest.raises(NotFoundError):
            index.cable("99NOWHERE1")


def test_building_twice_changes_nothing(seeds):
    folder, index_dir = seeds
    before = generation_files(index_dir)
    report = build_index([folder], index_dir, progress=False)
    assert (report.added, report.replaced, report.unchanged, report.chunks_embedded) == (0, 0, 5, 0)
    assert generation_files(index_dir) == before


def test_editing_one_seed_reembeds_only_that_cable(seeds):
    folder, index_dir = seeds
    old_generation = live(index_dir)
    cable_id = edit_seed(folder)
    report = build_index([folder], index_dir, progress=False)
    edited = next(c for c in read_cables(folder) if c.id == cable_id)
    expected = chunk_cable(edited, Encoder().tokenizer)
    assert (report.added, report.replaced, report.unchanged) == (0, 1, 4)
    assert report.chunks_embedded == len(expected)
    assert not old_generation.exists() and live(index_dir) != old_generation
    with open_index(index_dir) as index:
        assert replace(index.cable(cable_id), source=edited.source) == edited
        top = index.search_keyword("itinerant labourers", 1)[0]
        assert (top.cable_id, top.paragraph) == (cable_id, 9)
        assert index.manifest["counts"]["chunks"] == index.stats()["chunks"]


def test_prune_removes_cables_no_longer_given(seeds):
    folder, index_dir = seeds
    report = build_index([folder / "000_fdada65da582d8ab.txt"], index_dir, prune=True, progress=False)
    assert (report.unchanged, report.removed, report.cables, report.chunks_embedded) == (1, 4, 1, 0)
    with open_index(index_dir) as index:
        assert {m.cable_id for m in index.search_keyword("migrant", 50)} == {"09GUANGZHOU54"}
        assert index.stats()["chunks"] == faiss.read_index(str(live(index_dir) / VECTORS)).ntotal


class Interrupt:
    """Raises KeyboardInterrupt on the n-th call of the function it wraps."""

    def __init__(self, function, n: int):
        self.function, self.n, self.calls = function, n, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.function(*args, **kwargs)


@pytest.mark.parametrize("where", ["embedding", "writing vectors"])
def test_an_interrupted_build_leaves_the_old_index_answering(seeds, monkeypatch, where):
    folder, index_dir = seeds
    before, files = answers(index_dir), generation_files(index_dir)
    reader = open_index(index_dir)  # a reader that was open during the build keeps working
    edit_seed(folder)
    if where == "embedding":
        shutil.copy(DATA / "cables" / "china-posts.csv", folder)  # enough for several batches
        interrupt = Interrupt(Encoder.encode, 2)  # in the second batch
        monkeypatch.setattr(Encoder, "encode", lambda *args, **kwargs: interrupt(*args, **kwargs))
    else:
        monkeypatch.setattr(faiss, "write_index", Interrupt(faiss.write_index, 1))
    with pytest.raises(KeyboardInterrupt):
        build_index([folder], index_dir, progress=False, batch_chunks=64)
    # Nothing changed; only the checkpoints of finished batches are kept, for a resume.
    left = generation_files(index_dir)
    assert {k: v for k, v in left.items() if not k.startswith(f"{BUILD}/")} == files
    assert all(k.startswith(f"{BUILD}/{CHECKPOINTS}/") for k in left if k not in files)
    assert answers(index_dir) == before
    assert reader.search_keyword("migrant", 3) == open_index(index_dir).search_keyword("migrant", 3)
    reader.close()


def test_a_different_model_or_a_tampered_manifest_is_a_mismatch(seeds):
    _, index_dir = seeds
    with pytest.raises(IndexMismatchError, match=REBUILD):
        open_index(index_dir, model="sentence-transformers/all-mpnet-base-v2")
    manifest_path = live(index_dir) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    for change in ({"model": "all-mpnet-base-v2", "dim": 768}, {"dim": 512}, {"format_version": 0}):
        manifest_path.write_text(json.dumps({**manifest, **change}))
        with pytest.raises(IndexMismatchError, match=REBUILD):
            with open_index(index_dir) as index:
                index.encoder()  # a renamed model is only loaded here


@pytest.mark.parametrize("damage", ["truncate vectors", "garbage database", "delete manifest",
                                    "bad manifest"])
def test_a_damaged_index_is_a_mismatch_with_the_rebuild_command(seeds, damage):
    _, index_dir = seeds
    gen = live(index_dir)
    if damage == "truncate vectors":
        data = (gen / VECTORS).read_bytes()
        (gen / VECTORS).write_bytes(data[:len(data) // 2])
    elif damage == "garbage database":
        (gen / "cables.sqlite").write_bytes(b"not a database" * 100)
    elif damage == "delete manifest":
        (gen / MANIFEST).unlink()
    else:
        (gen / MANIFEST).write_text("{")
    with pytest.raises(IndexMismatchError, match=REBUILD):
        open_index(index_dir)


def test_a_damaged_index_is_rebuilt_by_the_next_build(seeds):
    folder, index_dir = seeds
    (live(index_dir) / MANIFEST).write_text("{")
    report = build_index([folder], index_dir, progress=False)
    assert report.rebuilt and report.added == 5
    assert answers(index_dir)  # opens and answers


def test_no_index_is_not_found(tmp_path):
    with pytest.raises(IndexNotFoundError, match=REBUILD):
        open_index(tmp_path / "nothing")


def test_the_subject_header_finds_a_paragraph_that_never_names_its_topic(tmp_path):
    def cable(cid: str, origin: str, subject: str) -> Cable:
        return Cable(cid, "2009-08-27T09:15", origin, "UNCLASSIFIED", ("PGOV",), subject, (),
                     "", (Paragraph(1, "The new regulations take effect next month, officials said."),
                         Paragraph(2, "The embassy will follow up.")), "test")

    index_cables([cable("09HARARE1", "Embassy Harare", "ZIMBABWE MINING LICENCE RULES"),
                  cable("09SHANGHAI1", "Consulate Shanghai", "ZHEJIANG RESIDENCY POLICY FOR MIGRANTS"),
                  cable("09PARIS1", "Embassy Paris", "FRENCH WINE EXPORT TARIFFS")], tmp_path)
    with open_index(tmp_path) as index:
        query = index.encoder().encode(["the Zhejiang residency policy"])[0]
        found = index.search_dense(query, 6)
    # The three paragraphs 1 have the same text: only the header tells them apart.
    same_text = [m.cable_id for m in found if m.paragraph == 1]
    assert same_text[0] == "09SHANGHAI1" and found[0].cable_id == "09SHANGHAI1"


def passes(cable: Cable, filters: Filters) -> bool:
    return ((not filters.origins or cable.origin in filters.origins)
            and (not filters.date_from or cable.date[:10] >= filters.date_from)
            and (not filters.date_to or cable.date[:10] <= filters.date_to)
            and (not filters.classifications or cable.classification in filters.classifications)
            and (not filters.tags or bool(set(cable.tags) & set(filters.tags))))


def exact_paragraphs(index, query: np.ndarray, k: int, filters: Filters) -> list[tuple[str, int]]:
    """Brute force over every stored vector: the reference a flat index must equal."""
    ids = faiss.vector_to_array(index._vectors.id_map)
    scores = index._vectors.reconstruct_batch(ids) @ query
    owner = {i: (c, p) for i, c, p in index._conn.execute("SELECT id, cable_id, paragraph FROM chunks")}
    best: dict = {}
    for i in np.argsort(-scores, kind="stable"):
        cable_id, paragraph = owner[int(ids[i])]
        if passes(index.cable(cable_id), filters):
            best.setdefault((cable_id, paragraph), float(scores[i]))
    return list(best)[:k]


FILTERS = [Filters(), Filters(origins=("Consulate Shanghai", "Consulate Guangzhou")),
           Filters(date_from="2009-01-30", date_to="2009-08-27"), Filters(date_to="2007-12-31"),
           Filters(classifications=("UNCLASSIFIED//FOR OFFICIAL USE ONLY",)),
           Filters(tags=("ELAB", "KNNP")), Filters(origins=("Embassy Nowhere",))]


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_filtered_search_is_exact_and_keeps_only_matching_cables(seeds, filters):
    _, index_dir = seeds
    with open_index(index_dir) as index:
        for query in index.encoder().encode(QUERIES):
            found = index.search_dense(query, 10, filters)
            assert [(m.cable_id, m.paragraph) for m in found] == exact_paragraphs(index, query, 10, filters)
            assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
        for text in QUERIES:
            unfiltered = index.search_keyword(text, 1000)
            assert index.search_keyword(text, 1000, filters) == [
                m for m in unfiltered if passes(index.cable(m.cable_id), filters)]


def test_a_bad_date_filter_is_invalid_input(seeds):
    with open_index(seeds[1]) as index, pytest.raises(InvalidInputError):
        index.search_keyword("migrant", 5, Filters(date_from="last year"))


NASTY = ['', ' ', '"', '""', "'", "AND", "OR NOT", "*", "migrant*", "NEAR(a b)", "col:val", "\x00",
         "a\x00b", "(((", "^", "-", "+", "{}", "[]", "Zhejiang AND", '"unterminated', "ÄÖÜ", "北京",
         "_", "__init__", "🙂", "x" * 10_000, " ".join(["word"] * 500)]


@pytest.mark.parametrize("text", NASTY)
def test_keyword_search_is_safe_for_any_text(seeds, text):
    with open_index(seeds[1]) as index:
        found = index.search_keyword(text, 5)
        assert isinstance(found, list) and len(found) <= 5


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_keyword_search_never_raises(built, text):
    with open_index(built / "index") as index:
        assert len(index.search_keyword(text, 3)) <= 3


def test_keyword_search_ranks_by_bm25_with_stemming(seeds):
    with open_index(seeds[1]) as index:
        top = index.search_keyword("residency regulation Zhejiang", 3)
        assert top[0].cable_id == "09SHANGHAI374"
        assert top[0].score >= top[1].score >= top[2].score > 0


def test_searches_from_several_threads_agree_with_one_thread(seeds):
    with open_index(seeds[1]) as index:
        vectors = index.encoder().encode(QUERIES)

        def both(i):
            return (index.search_dense(vectors[i % 4], 5, FILTERS[i % len(FILTERS)]),
                    index.search_keyword(QUERIES[i % 4], 5), index.cable("09SHANGHAI374"))
        serial = [both(i) for i in range(40)]
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(both, range(40))) == serial


def test_readers_during_a_build_see_the_old_or_the_new_index(seeds):
    folder, index_dir = seeds
    old_hash = open_index(index_dir).manifest["corpus_hash"]
    edit_seed(folder)
    seen, errors, done = set(), [], threading.Event()

    def read():
        while not done.is_set():
            try:
                with open_index(index_dir) as index:
                    seen.add(index.manifest["corpus_hash"])
                    assert index.search_keyword("migrant", 3)
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                errors.append(e)
    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    build_index([folder], index_dir, progress=False)
    new_hash = open_index(index_dir).manifest["corpus_hash"]
    done.set()
    for t in threads:
        t.join()
    assert not errors and seen <= {old_hash, new_hash} and new_hash != old_hash


def test_hnsw_index_on_the_seeds_answers_like_the_flat_one(seeds):
    folder, index_dir = seeds
    hnsw_dir = index_dir.parent / "hnsw"
    shutil.copytree(index_dir, hnsw_dir)
    report = build_index([folder], hnsw_dir, hnsw_threshold=0, progress=False)
    # the layout changed, but no vector is re-embedded: they are taken from the old index
    assert (report.index_type, report.chunks_embedded) == ("hnsw", 0)
    edit_seed(folder)
    report = build_index([folder], hnsw_dir, hnsw_threshold=0, progress=False)
    build_index([folder], index_dir, progress=False)
    assert report.index_type == "hnsw" and report.replaced == 1
    with open_index(index_dir) as flat, open_index(hnsw_dir) as hnsw:
        assert hnsw.manifest["hnsw"]["m"] >= 16
        for query in flat.encoder().encode(QUERIES):
            for filters in FILTERS:
                approx, exact = hnsw.search_dense(query, 5, filters), flat.search_dense(query, 5, filters)
                assert [(m.cable_id, m.paragraph) for m in approx] == [(m.cable_id, m.paragraph) for m in exact]
                np.testing.assert_allclose([m.score for m in approx], [m.score for m in exact], atol=1e-5)


KEYWORD_QUERIES = [*QUERIES, "hukou reform Zhejiang", "officials officials", "?", "Guangxi 2009"]


def test_a_postings_index_on_the_seeds_ranks_keywords_like_fts5(seeds):
    folder, index_dir = seeds
    postings_dir = index_dir.parent / "postings"
    shutil.copytree(index_dir, postings_dir)
    report = build_index([folder], postings_dir, postings_from=0, progress=False)
    assert report.chunks_embedded == 0  # only the keyword layout changed
    edit_seed(folder)  # an update copies the database, postings table and all: rewritten
    build_index([folder], postings_dir, postings_from=0, progress=False)
    build_index([folder], index_dir, progress=False)
    with open_index(index_dir) as fts5, open_index(postings_dir) as arrays:
        assert (fts5.manifest["keyword"], arrays.manifest["keyword"]) == ("fts5", "postings")
        assert {"keyword-docs.npy", "keyword-weights.npy"} <= set(arrays.manifest["files"])
        assert arrays.search_keyword("itinerant labourers", 3)[0].cable_id == "09SHANGHAI374"
        for query in KEYWORD_QUERIES:
            for filters in FILTERS:
                got, want = arrays.search_keyword(query, 5, filters), fts5.search_keyword(query, 5, filters)
                assert [(m.cable_id, m.paragraph) for m in got] == [(m.cable_id, m.paragraph) for m in want]
                np.testing.assert_allclose([m.score for m in got], [m.score for m in want], rtol=1e-5)
    # Shrunk back below the threshold, it is an FTS5 index again, with no stale arrays.
    build_index([folder], postings_dir, progress=False)
    with open_index(postings_dir) as back:
        assert back.manifest["keyword"] == "fts5" and not list(live(postings_dir).glob("*.npy"))


def test_a_damaged_postings_file_is_refused(seeds):
    folder, index_dir = seeds
    build_index([folder], index_dir, postings_from=0, progress=False)
    weights = live(index_dir) / "keyword-weights.npy"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(IndexMismatchError, match="keyword-weights.npy fails its checksum"):
        open_index(index_dir)


def test_cli_build_and_info(seeds, capsys):
    folder, index_dir = seeds
    assert main(["build", str(folder), "--index", str(index_dir)]) == 0
    err = capsys.readouterr().err
    assert "5 cables read, 0 skipped" in err and "0 added, 0 replaced, 5 unchanged" in err
    assert main(["info", "--index", str(index_dir)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["stats"]["cables"] == 5 and info["manifest"]["model"] == "all-MiniLM-L6-v2"
    assert main(["info", "--index", str(index_dir / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no index at") and "\n" not in err


def test_recipients_round_trip_and_an_index_from_before_their_column_is_a_mismatch(seeds):
    folder, index_dir = seeds
    with open_index(index_dir) as index:
        assert index.cable("09SHANGHAI374").recipients == ("SECSTATE WASHDC",)
        assert index.cable("09BEIJING3235").recipients == ()  # seed 003 has no TO line
        assert [index.cable(c.id) for c in read_cables(folder)] == [
            replace(c, source=index.cable(c.id).source) for c in read_cables(folder)]
    gen = live(index_dir)
    conn = sqlite3.connect(gen / "cables.sqlite")
    conn.execute("ALTER TABLE cables DROP COLUMN recipients")  # a format-3 index, written before it
    conn.commit()
    conn.close()
    manifest = json.loads((gen / MANIFEST).read_text())  # an intact file of the older format
    manifest["format_version"] = 3
    manifest["files"]["cables.sqlite"] = _file_record(gen / "cables.sqlite")
    (gen / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="has format 3, this Pilcrow reads format 4.*" + REBUILD):
        open_index(index_dir)
    assert build_index([folder], index_dir, progress=False).rebuilt  # the next build starts over
