"""Benchmark of the index: the embedding backends side by side, then build the 6,712-cable
corpus and time searches.

    python bench/index.py                      # the whole corpus (idle 2 cores: ~20 min projected)
    python bench/index.py --limit 500 --compare 256   # a quick look

First torch and the int8 OpenVINO backend embed the same `--compare` chunks (chunks/s,
ratio, cosine between their vectors, recall@10 of int8 neighbours against torch's).
Then the build with `--backend` (default: openvino):
cables, paragraphs, chunks; seconds to parse, chunk, embed and write; chunks per second;
peak RSS; bytes on disk per chunk; dense and keyword search latency p50/p95; HNSW
recall@10 against exact search over every vector of the built index. Writes
bench/results/index.md (or --out).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np
from faiss.contrib.evaluation import knn_intersection_measure

ROOT = Path(__file__).resolve().parent.parent

from embeddings import vectors
from embeddings.chunks import chunk_cable
from embeddings.encoder import OPENVINO, TORCH, Encoder
from cables.reader import ParseReport, read_cables
from cables.records import Filters
from embeddings.store import VECTORS, index_cables, open_index
from eval.metrics import percentile

CORPUS = ROOT / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"
QUESTIONS = [
    "What did officials say about migrant workers returning home?",
    "North Korean refugees crossing the border into China",
    "the Zhejiang residency policy", "nuclear enrichment negotiations with Iran",
    "corruption allegations against the interior minister", "election fraud and protests",
    "arms sales to Taiwan", "human rights lawyers detained", "oil exports and sanctions",
    "what did the ambassador tell the foreign minister?", "drug trafficking cartels Mexico",
    "piracy off the coast of Somalia", "Guantanamo detainee transfers",
    "climate change negotiations Copenhagen", "military cooperation agreement",
    "bank secrecy and money laundering", "food prices and inflation",
    "the president's health", "visa fraud", "trade dispute over tariffs",
]
RECALL_QUERIES, K = 200, 10


def percentiles(seconds: list[float]) -> str:
    return f"{percentile(seconds, 50) * 1000:.1f} ms / {percentile(seconds, 95) * 1000:.1f} ms"


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def timed(call, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return out


def hnsw_recall(vector_file: Path) -> float:
    """Recall@10 of HNSW against exact search over every vector of the index but the
    200 held out as queries (a query that is in the index would find itself)."""
    ids, stored = vectors.contents(vectors.read(str(vector_file)))
    held = np.zeros(len(ids), dtype=bool)
    held[np.random.default_rng(0).choice(len(ids), min(RECALL_QUERIES, len(ids) // 2),
                                         replace=False)] = True
    flat, hnsw = (vectors.build(vectors.choose_layout(len(ids), threshold), stored.shape[1],
                                ids[~held], stored[~held]) for threshold in (len(ids), 0))
    truth = np.array([vectors.search(flat, q, K)[1] for q in stored[held]])
    found = np.array([vectors.search(hnsw, q, K)[1] for q in stored[held]])
    return knn_intersection_measure(truth, found)


def compare_backends(n: int) -> dict:
    """torch and openvino on the same first `n` chunks of the corpus, each timed alone."""
    torch, int8 = Encoder(backend=TORCH), Encoder(backend=OPENVINO)
    texts = list(islice((c.embed_text for cable in read_cables(CORPUS)
                         for c in chunk_cable(cable, torch.tokenizer, torch.max_tokens)), n))
    out = {}
    for name, encoder in ((TORCH, torch), (OPENVINO, int8)):
        encoder.encode(texts[:16])  # warm up: first-call allocations, thread pools
        start = time.perf_counter()
        vecs = encoder.encode(texts)
        out[name] = (vecs, len(texts) / (time.perf_counter() - start))
    a, b = out[TORCH][0], out[OPENVINO][0]
    cosines = np.sum(a * b, axis=1)
    queries = np.random.default_rng(0).choice(len(texts), min(100, len(texts) // 2), replace=False)
    def neighbours(v: np.ndarray) -> np.ndarray:  # each query's K nearest, itself left out
        return np.argsort(-(v[queries] @ v.T), axis=1)[:, 1:K + 1]

    return {"chunks": len(texts), "torch_cps": out[TORCH][1], "openvino_cps": out[OPENVINO][1],
            "cos_mean": float(cosines.mean()), "cos_min": float(cosines.min()),
            "recall": float(knn_intersection_measure(neighbours(a), neighbours(b))), "identity": int8.identity}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="index only the first N cables")
    parser.add_argument("--index", help="index folder (default: a temporary folder)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "index.md"))
    parser.add_argument("--compare", type=int, default=2048, metavar="N",
                        help="chunks both backends embed for the comparison (0: skip it)")
    parser.add_argument("--backend", default=OPENVINO, help="backend of the build "
                        "(default: openvino, the fast one)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    compared = compare_backends(args.compare) if args.compare else None

    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as tmp:
        index_dir = Path(args.index or tmp)
        parse = ParseReport()
        report = index_cables(islice(read_cables(CORPUS, report=parse), args.limit), index_dir,
                              progress=True, parse_report=parse, backend=args.backend)
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with open_index(index_dir) as index:
            encoder = index.encoder()
            asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(200)]
            vecs = encoder.encode(asked)
            encode = timed(lambda i: encoder.encode([asked[i]]), 50)
            dense = timed(lambda i: index.search_dense(vecs[i], K), 200)
            dense_filtered = timed(lambda i: index.search_dense(
                vecs[i], K, Filters(date_from="2008-01-01", date_to="2009-12-31")), 200)
            keyword = timed(lambda i: index.search_keyword(asked[i], K), 200)
            gen = index_dir / (index_dir / "CURRENT").read_text().strip()
            recall = hnsw_recall(gen / VECTORS)
            size = disk_bytes(gen)
            files = {p.name: p.stat().st_size for p in gen.iterdir()}

    s = report.seconds
    c = compared
    lines = [
        "# Index benchmark", "",
        f"`python bench/index.py {' '.join(sys.argv[1:])}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end"
        f"{': other work shared the cores' if load > 1.5 else ''}), "
        f"model {report.model}, backend {report.backend}.", "",
        *([f"Backends on the same first {c['chunks']:,} chunks of the corpus: torch "
           f"{c['torch_cps']:.1f} chunks/s, openvino int8 {c['openvino_cps']:.1f} chunks/s "
           f"(**{c['openvino_cps'] / c['torch_cps']:.2f}x**); cosine of their vectors "
           f"{c['cos_mean']:.4f} mean, {c['cos_min']:.4f} min; recall@{K} of int8 "
           f"neighbours against torch's {c['recall']:.3f} (100 chunks as queries).", ""]
          if c else []),
        "| measure | value |", "| --- | --- |",
        f"| corpus | {CORPUS.name}{f' (first {args.limit} cables)' if args.limit else ''} |",
        f"| parse report | {parse.summary()[:200]} |",
        f"| cables / paragraphs / chunks | {report.cables} / {report.paragraphs} / {report.chunks} |",
        f"| index type | {report.index_type} |",
        f"| seconds: parse / chunk / embed / write | {s['parse']:.1f} / {s['chunk']:.1f} / "
        f"{s['embed']:.1f} / {s['write']:.1f} |",
        f"| paragraphs embedded per second | {report.paragraphs / s['embed']:.1f} "
        f"({report.chunks_embedded / s['embed']:.1f} chunks/s) |",
        f"| whole build: wall seconds, peak RSS | {sum(s.values()):.0f} s, "
        f"{peak_rss / 2**20:,.0f} MiB |",
        f"| index on disk | {size:,} bytes = {size / max(report.chunks, 1):,.0f} bytes per chunk "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(files.items()))}) |",
        f"| query encoding p50 / p95 | {percentiles(encode)} |",
        f"| dense search p50 / p95 (k={K}) | {percentiles(dense)} |",
        f"| dense search with a date filter p50 / p95 | {percentiles(dense_filtered)} |",
        f"| keyword (FTS5 BM25) search p50 / p95 | {percentiles(keyword)} |",
        f"| HNSW recall@{K} vs IndexFlatIP ({RECALL_QUERIES} held-out chunks as queries) | "
        f"{recall:.3f} |",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
