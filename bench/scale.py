"""How search cost grows with the collection: exact FAISS search against HNSW.

For each size (1k, 10k, 100k, 1M vectors of dimension 384) it builds an exact
`IndexFlatIP` and an `IndexHNSWFlat` with the parameters Pilcrow's store uses, then
measures build time, single-query latency (p50/p95 over held-out queries, k=10),
memory (serialized index bytes and the growth of the process RSS while building) and
HNSW recall@10 against the exact result.

Vectors: real MiniLM paragraph vectors read from a Pilcrow index folder (`--real-index`)
fill the collection as far as they go; the rest are drawn from a Gaussian with the real
vectors' mean and covariance, so the synthetic vectors have the same spectrum as real
embeddings (isotropic random vectors would make HNSW look far worse than it is on real
text). Without `--real-index` every vector is synthetic, from a power-law spectrum.
Queries are held-out vectors of the same kind, never in the collection.

Writes bench/results/scale.json, scale.md and scale.png (log-log).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Callable

import faiss
import numpy as np
from faiss.contrib.evaluation import knn_intersection_measure
import psutil
from tqdm import tqdm

from embeddings.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M
from eval.metrics import percentile

DIM = 384
K = 10
CANDIDATES = 50  # what each retriever hands to fusion (PILCROW_CANDIDATES)
RESULTS = Path(__file__).resolve().parent / "results"
CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"

EPILOG = """examples:
  .venv/bin/python -m bench.scale
  .venv/bin/python -m bench.scale --real-index var/bench/pilcrow
  .venv/bin/python -m bench.scale --sizes 1000 10000 --queries 100
  .venv/bin/python -m bench.scale --hybrid 130000            # a twentieth of the release
  .venv/bin/python -m bench.scale --hybrid 2600000 --real-index var/corpus   # the release
"""


def machine_description() -> dict:
    """Cores, memory and CPU model of this machine, for every benchmark report."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        # The machine may be shared: a load above the core count means the timings are
        # slower than the same code on an idle machine.
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def percentile_ms(seconds: list[float], q: float) -> float:
    """Percentile of durations in seconds, returned in milliseconds.

    >>> percentile_ms([0.001, 0.002, 0.003], 50)
    2.0
    """
    return round(percentile(seconds, q) * 1000, 3)


def normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class GaussianSampler:
    """Draws unit vectors from N(mean, cov): fitted to real vectors, or a power-law spectrum."""

    def __init__(self, real: np.ndarray | None, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        if real is not None and len(real) > DIM * 4:
            self.mean = real.mean(axis=0)
            cov = np.cov(real - self.mean, rowvar=False)
            eigval, eigvec = np.linalg.eigh(cov)
            self.transform = (eigvec * np.sqrt(np.clip(eigval, 0, None))).T
        else:
            # Sentence embeddings concentrate their variance in few directions; a 1/i
            # spectrum around a shared mean direction mimics that.
            self.mean = np.zeros(DIM)
            self.mean[0] = 1.0
            self.transform = np.diag(np.sqrt(0.3 / np.arange(1, DIM + 1)))

    def sample(self, n: int, batch: int = 100_000) -> np.ndarray:
        out = np.empty((n, DIM), dtype=np.float32)
        for start in range(0, n, batch):
            m = min(batch, n - start)
            z = self.rng.standard_normal((m, DIM))
            out[start:start + m] = normalise(z @ self.transform + self.mean)
        return out


def read_real_vectors(index_dir: Path) -> np.ndarray:
    """Every chunk vector of a Pilcrow index folder's live generation, as float32 rows."""
    from embeddings import store, vectors

    try:
        generation = index_dir / (index_dir / store.CURRENT).read_text().strip()
    except FileNotFoundError:
        raise SystemExit(f"error: no Pilcrow index at {index_dir}; build one first "
                         f"(bench/peer.py leaves one in var/bench/pilcrow)") from None
    _, real = vectors.contents(vectors.read(str(generation / store.VECTORS)))
    return real


def vector_pool(size: int, n_queries: int, real: np.ndarray | None, seed: int):
    """(collection of `size` vectors, queries, how many collection vectors are real)."""
    sampler = GaussianSampler(real, seed)
    if real is None:
        return sampler.sample(size), sampler.sample(n_queries), 0
    real = normalise(real[np.random.default_rng(seed).permutation(len(real))])
    queries, real = real[:n_queries], real[n_queries:]
    n_real = min(size, len(real))
    pool = np.empty((size, DIM), dtype=np.float32)
    pool[:n_real] = real[:n_real]
    pool[n_real:] = sampler.sample(size - n_real)
    return pool, queries, n_real


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS, so that RSS growth counts only new memory
    (otherwise the index reuses pages the vector generator freed and seems to cost nothing)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss() -> int:
    return psutil.Process().memory_info().rss


def make_index(kind: str, m: int, ef_construction: int, ef_search: int) -> faiss.Index:
    if kind == "flat":
        return faiss.IndexFlatIP(DIM)
    index = faiss.IndexHNSWFlat(DIM, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.hnsw.efSearch = ef_search
    return index


def measure(kind: str, vectors: np.ndarray, queries: np.ndarray, params: dict) -> tuple[dict, np.ndarray]:
    """Build one index over `vectors`, time single queries; returns (row, top-k ids).

    Runs in a forked child so that the RSS growth is this index's alone: in one long
    process, memory freed by the previous index is reused and the growth reads as zero.
    """
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_measure_child, args=(kind, vectors, queries, params, results))
    child.start()
    row, ids = results.get()
    child.join()
    return row, ids


def _measure_child(kind: str, vectors: np.ndarray, queries: np.ndarray, params: dict, results) -> None:
    release_free_memory()
    before = rss()
    index = make_index(kind, **params)
    start = time.perf_counter()
    index.add(vectors)
    build_s = time.perf_counter() - start
    rss_growth = rss() - before
    index_bytes = faiss.serialize_index(index).nbytes
    index.search(queries[:5], K)  # warm caches before timing
    # One thread per query: on a shared 2-core machine OpenMP's spinning threads turn
    # a 1 ms exact search into tens of ms of noise; a server answering several users
    # at once would run one query per core anyway.
    faiss.omp_set_num_threads(1)
    latencies = []
    for q in queries:
        t = time.perf_counter()
        index.search(q[None, :], K)
        latencies.append(time.perf_counter() - t)
    _, ids = index.search(queries, K)
    row = {
        "index": kind,
        "n": len(vectors),
        "build_s": round(build_s, 3),
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "index_bytes": int(index_bytes),
        "rss_growth_bytes": int(rss_growth),
    }
    results.put((row, ids))


def run(sizes: list[int], n_queries: int, real: np.ndarray | None,
        ef_construction: Callable[[int], int], seed: int,
        done: Callable[[list[dict]], None]) -> list[dict]:
    """Rows for every size, exact then HNSW; `ef_construction(n)` is the build breadth at n.
    `done(rows)` is called after each size, so a run cut short keeps what it measured."""
    pool, queries, n_real = vector_pool(max(sizes), n_queries, real, seed)
    rows = []
    with tqdm(total=2 * len(sizes), desc="scale", unit="index", dynamic_ncols=True) as bar:
        for n in sizes:
            vectors = pool[:n]
            params = {"m": HNSW_M, "ef_construction": ef_construction(n), "ef_search": HNSW_EF_SEARCH}
            bar.set_postfix_str(f"flat {n:,}")
            flat, exact_ids = measure("flat", vectors, queries, params)
            bar.update()
            bar.set_postfix_str(f"hnsw {n:,}")
            hnsw, approx_ids = measure("hnsw", vectors, queries, params)
            bar.update()
            flat["recall_at_10"] = 1.0
            hnsw["recall_at_10"] = round(knn_intersection_measure(exact_ids, approx_ids), 4)
            hnsw["ef_construction"] = params["ef_construction"]
            for row in (flat, hnsw):
                row["real_vectors"] = min(n, n_real)
                rows.append(row)
                bar.write(json.dumps(row), file=sys.stderr)
            done(rows)
    return rows


def fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def markdown(report: dict) -> str:
    m, p = report["machine"], report["params"]
    lines = [
        "# Search cost as the collection grows",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}, faiss {m['faiss']}, load average {m['load_avg_1m']} at the start. "
        f"Run took {report['total_s']:.0f} s.",
        "",
        f"Dimension {DIM}, k={K}, {report['queries']} held-out single queries per size "
        f"({report['threads']}). HNSW as Pilcrow's store builds it: M={p['m']}, "
        f"efSearch={p['ef_search']}, efConstruction={p['store_ef_construction']} up to "
        f"{p['full_build_up_to']:,} vectors; above that efConstruction={p['large_ef_construction']} "
        f"(column efC) to keep the 1M build within the time budget, which costs some recall. "
        f"Pilcrow itself searches exactly (flat) up to 200,000 vectors and switches to HNSW above. "
        f"{report['vectors_note']}",
        "",
        *([report["note"], ""] if report.get("note") else []),
        "| vectors | real | index | efC | build s | p50 ms | p95 ms | index size | RSS growth | recall@10 |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['n']:,} | {r['real_vectors']:,} | {r['index']} | {r.get('ef_construction', '')} | "
            f"{r['build_s']:.2f} | "
            f"{r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {fmt_bytes(r['index_bytes'])} | "
            f"{fmt_bytes(r['rss_growth_bytes'])} | {r['recall_at_10']:.3f} |"
        )
    lines += ["", "![latency and memory against collection size](scale.png)", ""]
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for kind, style in (("flat", "o-"), ("hnsw", "s--")):
        rs = [r for r in rows if r["index"] == kind]
        n = [r["n"] for r in rs]
        axes[0].plot(n, [r["p50_ms"] for r in rs], style, label=f"{kind} p50")
        axes[0].plot(n, [r["p95_ms"] for r in rs], style, alpha=0.5, label=f"{kind} p95")
        axes[1].plot(n, [r["index_bytes"] / 2**20 for r in rs], style, label=kind)
        axes[2].plot(n, [max(r["build_s"], 1e-4) for r in rs], style, label=kind)
    titles = ("query latency (ms)", "index size (MiB)", "build time (s)")
    for ax, title in zip(axes, titles):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("vectors in the index")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("Pilcrow vector search, exact (IndexFlatIP) vs HNSW, dim 384")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- hybrid, at release scale

ORIGINS = ["Embassy Beijing", "Embassy Paris", "Consulate Shanghai", "Embassy Baghdad",
           "Embassy Moscow", "Embassy Mexico", "Embassy Tokyo", "USUN New York"]
IVF_PQ_M = 48  # sub-quantisers: 8 dimensions each, 48 bytes per vector
IVF_NPROBE = 32


def synthetic_store(path: Path, n_chunks: int, corpus: Path) -> dict:
    """An index database of `n_chunks` chunks: the corpus's real paragraphs repeated,
    each copy a new cable (ID, origin and year varied), so FTS5 holds a release-sized
    vocabulary with realistic term frequencies. One chunk per started 180 words."""
    from cables.reader import read_cables
    from cables.records import Cable
    from embeddings import tables
    from embeddings.chunks import Chunk

    source = [c for c in read_cables(corpus)
              if c.paragraphs and re.fullmatch(r"\d\d[A-Z]+\d{1,5}", c.id)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    tables.create(conn)
    start, chunks, copy = time.perf_counter(), 0, 0
    with tqdm(total=n_chunks, desc="store", unit="chunk", dynamic_ncols=True) as bar:
        while chunks < n_chunks:
            for cable in source:
                # Another valid cable ID per copy: the number moved up by 100,000s.
                head, number = re.fullmatch(r"(\d\d[A-Z]+)(\d+)", cable.id).groups()
                cid = f"{head}{copy * 100_000 + int(number)}"
                year = int(cable.date[:4] or 2000) - copy % 20
                made = Cable(cid, f"{year:04d}{cable.date[4:]}", ORIGINS[copy % len(ORIGINS)],
                             cable.classification, cable.tags, cable.subject, (), cable.signer,
                             cable.paragraphs, cable.source, cable.numbered)
                parts = [Chunk(cid, p.number, i, "", "") for p in cable.paragraphs
                         for i in range(1 + len(p.text.split()) // 180)]
                tables.insert_cable(conn, made, parts)
                chunks += len(parts)
                bar.update(len(parts))
                if chunks >= n_chunks:
                    break
            copy += 1
    conn.execute("INSERT INTO paragraphs_fts (paragraphs_fts) VALUES ('optimize')")
    tables.write_term_docs(conn)
    conn.commit()
    counts = tables.counts(conn)
    conn.close()
    return {**counts, "copies": copy, "build_s": round(time.perf_counter() - start, 1),
            "bytes": path.stat().st_size}


def ann_index(kind: str, n: int, sampler: "GaussianSampler", training: "GaussianSampler",
              batch: int = 100_000):
    """HNSW (Pilcrow's parameters, efConstruction 40) or IVF-PQ (trained on `training`)
    over `n` vectors of `sampler`, added in batches: only the index is ever whole in memory."""
    if kind == "hnsw":
        index = make_index("hnsw", HNSW_M, 40, HNSW_EF_SEARCH)
    else:
        nlist = 1 << max(8, int(np.log2(4 * np.sqrt(n))))
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(DIM), DIM, nlist, IVF_PQ_M, 8,
                                 faiss.METRIC_INNER_PRODUCT)
        index.train(training.sample(min(n, max(40 * nlist, 50_000))))
        index.nprobe = IVF_NPROBE
    for start in range(0, n, batch):
        index.add(sampler.sample(min(batch, n - start)))
    return index


def exact_top(n: int, sampler: "GaussianSampler", queries: np.ndarray, batch: int = 100_000):
    """Exact top-K ids of each query over the same `n` vectors, streamed in batches."""
    best = np.full((len(queries), K), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), K), -1, dtype=np.int64)
    for start in range(0, n, batch):
        block = sampler.sample(min(batch, n - start))
        scores = queries @ block.T
        top = np.argpartition(-scores, K, axis=1)[:, :K] if scores.shape[1] > K else \
            np.tile(np.arange(scores.shape[1]), (len(queries), 1))
        cand = np.concatenate([best, np.take_along_axis(scores, top, 1)], axis=1)
        cand_ids = np.concatenate([ids, top + start], axis=1)
        order = np.argsort(-cand, axis=1)[:, :K]
        best, ids = np.take_along_axis(cand, order, 1), np.take_along_axis(cand_ids, order, 1)
    return ids


def hybrid(n_chunks: int, corpus: Path, real: np.ndarray | None, seed: int, work: Path,
           kinds: list[str], encoder_backend: str | None, questions: list[str],
           keep_store: bool = False) -> dict:
    """The hybrid row: store, postings and ANN build, memory, dense / keyword / hybrid
    latency over `questions`. With `keep_store` the synthetic database and its postings
    stay in `work` (with their figures beside them) and a later run of the same size
    reuses them."""
    from embeddings import postings, tables
    from embeddings.encoder import Encoder
    from qa.retrieve import keyword_query, rrf

    work.mkdir(parents=True, exist_ok=True)
    db = work / f"hybrid-{n_chunks}.sqlite"
    figures = db.with_suffix(".json")
    row: dict = {"n_chunks": n_chunks}
    if keep_store and db.exists() and figures.exists():
        row["store"] = {**json.loads(figures.read_text()), "reused": True}
    else:
        db.unlink(missing_ok=True)
        row["store"] = synthetic_store(db, n_chunks, corpus)
        figures.write_text(json.dumps(row["store"]) + "\n")
    encoder = Encoder(backend=encoder_backend)
    encode = []
    for q in questions[:50]:
        t = time.perf_counter()
        encoder.encode([q])
        encode.append(time.perf_counter() - t)
    row["encode"] = {"backend": encoder.backend, "p50_ms": percentile_ms(encode, 50),
                     "p95_ms": percentile_ms(encode, 95)}

    # Keyword search four ways; the exact ranking is FTS5's over every term.
    arrays_at = work / f"hybrid-{n_chunks}-postings"
    if keep_store and (arrays_at / "figures.json").exists():
        row["postings"] = {**json.loads((arrays_at / "figures.json").read_text()), "reused": True}
    else:
        shutil.rmtree(arrays_at, ignore_errors=True)
        arrays_at.mkdir()
        start = time.perf_counter()
        with sqlite3.connect(db) as writer:
            row["postings"] = postings.write(writer, arrays_at)
        row["postings"]["write_s"] = round(time.perf_counter() - start, 1)
        (arrays_at / "figures.json").write_text(json.dumps(row["postings"]) + "\n")
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    arrays = postings.Postings.open(arrays_at, conn)
    row["postings"]["bytes"] = sum(p.stat().st_size for p in arrays_at.glob("*.npy"))

    def by_postings(budget: int):
        return lambda q: postings.search(conn, arrays, tables.stem(conn, tables.query_terms(q)),
                                         CANDIDATES, None, budget)
    exact = "FTS5, every term"
    searchers = {
        exact: lambda q: tables.keyword_search(conn, q, CANDIDATES, None, 10**12),
        f"FTS5, rarest terms within {tables.KEYWORD_BUDGET:,} paragraphs":
            lambda q: tables.keyword_search(conn, q, CANDIDATES, None),
        "postings, every term": by_postings(10**12),
        f"postings, rarest terms within {postings.BUDGET:,} postings": by_postings(postings.BUDGET),
    }
    found: dict[str, list] = {}
    row["keyword"] = {}
    for name, search in searchers.items():
        times, results = [], []
        for q in questions:
            t = time.perf_counter()
            results.append(search(keyword_query(q)))
            times.append(time.perf_counter() - t)
        found[name] = results
        row["keyword"][name] = {
            "p50_ms": percentile_ms(times, 50), "p95_ms": percentile_ms(times, 95),
            "overlap_at_10": round(float(np.mean([
                len({r[:2] for r in b[:K]} & {r[:2] for r in u[:K]}) / max(1, min(K, len(u)))
                for b, u in zip(results, found[exact])])), 3)}
        print(json.dumps({name: row["keyword"][name]}), file=sys.stderr)
    product = by_postings(postings.BUDGET)  # what an index of this size searches with

    sampler = GaussianSampler(real, seed)
    queries = sampler.sample(len(questions))
    n_vectors = row["store"]["chunks"]
    truth = exact_top(n_vectors, GaussianSampler(real, seed + 1), queries) if kinds else None
    for kind in kinds:
        release_free_memory()
        before = rss()
        start = time.perf_counter()
        index = ann_index(kind, n_vectors, GaussianSampler(real, seed + 1),
                          GaussianSampler(real, seed + 2))
        build_s = time.perf_counter() - start
        faiss.omp_set_num_threads(1)
        dense, hybrid_times, found = [], [], []
        for i, q in enumerate(queries):
            t = time.perf_counter()
            _, ids = index.search(q[None, :], CANDIDATES)
            owners = tables.chunk_paragraphs(conn, [int(x) + 1 for x in ids[0] if x >= 0])
            dense.append(time.perf_counter() - t)
            t2 = time.perf_counter()
            words = product(keyword_query(questions[i]))
            rrf([list(dict.fromkeys(owners.values())), [r[:2] for r in words]])
            hybrid_times.append(dense[-1] + time.perf_counter() - t2)
            found.append(ids[0][:K])
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        row[kind] = {"build_s": round(build_s, 1), "rss_growth_bytes": rss() - before,
                     "index_bytes": int(faiss.serialize_index(index).nbytes),
                     "recall_at_10": round(knn_intersection_measure(truth, np.array(found)), 3),
                     "dense_p50_ms": percentile_ms(dense, 50), "dense_p95_ms": percentile_ms(dense, 95),
                     "hybrid_p50_ms": percentile_ms(hybrid_times, 50),
                     "hybrid_p95_ms": percentile_ms(hybrid_times, 95)}
        print(json.dumps({kind: row[kind]}), file=sys.stderr)
        del index
    conn.close()
    row["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if not keep_store:
        db.unlink()
        figures.unlink()
        shutil.rmtree(arrays_at)
    return row


def hybrid_markdown(report: dict) -> str:
    m, r = report["machine"], report["row"]
    s = r["store"]
    lines = [
        "# Hybrid retrieval at release scale", "",
        f"`{report['command']}` on {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"load average {m['load_avg_1m']} at the start; run took {report['total_s']:.0f} s.", "",
        f"Store: {s['chunks']:,} chunks, {s['paragraphs']:,} paragraphs, {s['cables']:,} cables "
        f"(the corpus's real paragraphs, {s['copies']} copies with varied IDs, origins and "
        f"years); SQLite + FTS5 written in {s['build_s']:.0f} s"
        f"{' (by an earlier run, kept with --keep-store)' if s.get('reused') else ''}, "
        f"{fmt_bytes(s['bytes'])} on disk. "
        f"Vectors: {report['vectors_note']} Query encoding ({r['encode']['backend']}): "
        f"p50 {r['encode']['p50_ms']:.1f} ms, p95 {r['encode']['p95_ms']:.1f} ms.", "",
        f"Keyword search, {CANDIDATES} candidates, {report['questions']} eval questions "
        f"(overlap@10: share of the exact top 10, FTS5's over every term, kept). Postings "
        f"({r['postings']['terms']:,} terms, {r['postings']['postings']:,} postings, "
        f"{fmt_bytes(r['postings']['bytes'])}) written from FTS5 in {r['postings']['write_s']:.0f} s"
        f"{' by an earlier run' if r['postings'].get('reused') else ''}.", "",
        "| keyword search | p50 ms | p95 ms | overlap@10 |", "|---|---:|---:|---:|",
        *[f"| {name} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} | {v['overlap_at_10']:.3f} |"
          for name, v in r["keyword"].items()],
        "", "Hybrid below: dense search, chunk → paragraph lookup, keyword search by postings "
        "within the budget, RRF (what an index of this size runs).", "",
        "| ANN | build s | index size | RSS growth | recall@10 | dense p50 / p95 ms | "
        "hybrid p50 / p95 ms (no encoding) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in report["kinds"]:
        a = r[kind]
        lines.append(f"| {kind} | {a['build_s']:.0f} | {fmt_bytes(a['index_bytes'])} | "
                     f"{fmt_bytes(a['rss_growth_bytes'])} | {a['recall_at_10']:.3f} | "
                     f"{a['dense_p50_ms']:.1f} / {a['dense_p95_ms']:.1f} | "
                     f"{a['hybrid_p50_ms']:.1f} / {a['hybrid_p95_ms']:.1f} |")
    lines += ["", f"Peak RSS of the run: {fmt_bytes(r['peak_rss_bytes'])}.", ""]
    return "\n".join(lines)


def main_hybrid(args: argparse.Namespace, real: np.ndarray | None) -> int:
    from eval.questions import load_questions

    start = time.perf_counter()
    questions = [q.question for q in load_questions()]
    report = {"machine": machine_description(), "command": " ".join(["python -m bench.scale", *sys.argv[1:]]),
              "kinds": args.ann, "questions": len(questions),
              "vectors_note": ("Gaussian with the real vectors' mean and covariance."
                               if real is not None else "Gaussian with a 1/i spectrum.")}
    report["row"] = hybrid(args.hybrid, args.corpus, real, args.seed, args.work, args.ann,
                           args.backend, questions, args.keep_store)
    report["total_s"] = round(time.perf_counter() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "scale-hybrid" if args.hybrid >= 2_600_000 else f"scale-hybrid-{args.hybrid}"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = hybrid_markdown(report)
    (args.out / f"{name}.md").write_text(markdown)
    print(markdown)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200, help="held-out queries per size")
    parser.add_argument("--real-index", type=Path, help="Pilcrow index folder to take real vectors from")
    parser.add_argument("--large-ef-construction", type=int, default=40,
                        help="HNSW efConstruction above --full-build-up-to (default: 40, "
                             f"faiss's own default; Pilcrow's store uses {HNSW_EF_CONSTRUCTION})")
    parser.add_argument("--full-build-up-to", type=int, default=100_000,
                        help="sizes up to this build HNSW with Pilcrow's efConstruction "
                             f"({HNSW_EF_CONSTRUCTION}); larger ones use --large-ef-construction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--hybrid", type=int, metavar="CHUNKS",
                        help="instead: a synthetic index of CHUNKS chunks (2600000 = the full "
                             "release) with SQLite/FTS5 and an ANN index; hybrid latency")
    parser.add_argument("--ann", nargs="*", default=["hnsw", "ivfpq"], choices=["hnsw", "ivfpq"],
                        help="ANN indexes to build and time (none: the store and keyword search only)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="cables whose paragraphs "
                        "fill the synthetic store (default: the 6,712-cable corpus)")
    parser.add_argument("--backend", help="embedding backend whose query encoding is timed")
    parser.add_argument("--work", type=Path, default=Path("var/bench"),
                        help="folder for the synthetic database (deleted afterwards)")
    parser.add_argument("--keep-store", action="store_true",
                        help="keep the synthetic database and postings in --work, reuse them next time")
    args = parser.parse_args(argv)

    real = read_real_vectors(args.real_index) if args.real_index else None
    if args.hybrid:
        return main_hybrid(args, real)
    n_real = 0 if real is None else len(real) - args.queries
    start = time.perf_counter()
    report = {
        "machine": machine_description(),
        "threads": "builds use every core, single queries one thread",
        "queries": args.queries,
        "k": K,
        "params": {"m": HNSW_M, "ef_search": HNSW_EF_SEARCH, "store_ef_construction": HNSW_EF_CONSTRUCTION,
                   "large_ef_construction": args.large_ef_construction,
                   "full_build_up_to": args.full_build_up_to},
        "vectors_note": (
            f"The first {n_real:,} vectors are real MiniLM paragraph vectors from "
            f"{args.real_index}; the rest are drawn from a Gaussian with their mean and covariance."
            if real is not None else
            "All vectors synthetic: unit vectors from a Gaussian with a 1/i spectrum."
        ),
    }

    def write(rows: list[dict]) -> None:
        report.update(rows=rows, total_s=round(time.perf_counter() - start, 1))
        write_report(report, args.out)

    run(sorted(args.sizes), args.queries, real,
        lambda n: HNSW_EF_CONSTRUCTION if n <= args.full_build_up_to else args.large_ef_construction,
        args.seed, write)
    print(markdown(report))
    return 0


def write_report(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "scale.md").write_text(markdown(report))
    chart(report["rows"], out / "scale.png")


if __name__ == "__main__":
    sys.exit(main())
