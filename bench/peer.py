"""Pilcrow against a peer framework (LlamaIndex) on the same cables, in one run.

Both systems ingest the same input: the 6,712-cable corpus plus the five seed files of
`data/cables/` (the eval questions are about the sample corpus; its 77 China-post cables
are in the corpus, its five seeds are not). Both use the same embedding model (the bundled
all-MiniLM-L6-v2 folder) and keep their index on disk.

- Pilcrow: `build_index` (parse, paragraph chunks, embed, SQLite + FTS5 + FAISS), then
  `Assistant.search` (hybrid: dense + BM25 fused by RRF) and, like for like with the peer,
  dense-only `Index.search_dense`.
- LlamaIndex, as its documentation sets it up: one `Document` per cable (the cable's text;
  metadata: its ID), `VectorStoreIndex.from_documents` with the default node parser
  (SentenceSplitter, 1,024 tokens, overlap 200) and `HuggingFaceEmbedding` pointed at the
  same model folder, the default in-memory vector store persisted with
  `storage_context.persist`; retrieval with `as_retriever(similarity_top_k=5)`.

Each system runs in its own subprocess (LlamaIndex in its own virtualenv,
bench/.venv-peer, so the main environment stays clean), so its peak memory is its own.
Measured: ingest wall time (model load + parse + chunk + embed + index + persist), peak
RSS, index size on disk, retrieval latency p50/p95 over the eval questions, and recall@5
over the answerable eval questions: cable-level (a gold cable among the top 5) for both,
paragraph-level (a gold cable ID and paragraph number) for Pilcrow only, since the peer's
chunks carry no paragraph numbers.

Writes bench/results/peer.json, peer.md and peer.png.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PEER_PYTHON = ROOT / "bench" / ".venv-peer" / "bin" / "python"
K = 5
FULL_CORPUS = 6_712

EPILOG = """examples:
  .venv/bin/python -m bench.peer
  .venv/bin/python -m bench.peer --work var/bench --out bench/results

The peer needs its own virtualenv first (once, a few minutes):
  python3.11 -m venv bench/.venv-peer
  bench/.venv-peer/bin/pip install torch==2.13.0
  bench/.venv-peer/bin/pip install -r bench/requirements.txt
"""

# What goes in the table: (key, label, unit, True when higher is better).
METRICS = [
    ("ingest_s", "ingest wall time", "s", False),
    ("peak_rss_mib", "peak RSS", "MiB", False),
    ("index_mib", "index size on disk", "MiB", False),
    ("p50_ms", "retrieval latency p50", "ms", False),
    ("p95_ms", "retrieval latency p95", "ms", False),
    ("cable_recall_at_5", "cable recall@5", "", True),
    ("paragraph_recall_at_5", "paragraph recall@5", "", True),
]

# Why the peer can beat Pilcrow on a metric (printed only where it does).
WHY_PEER_WINS = {
    "ingest_s": "LlamaIndex's 1,024-token chunks are cut to MiniLM's 256-word-piece window when "
                "embedded, so it embeds roughly a quarter of the text; Pilcrow embeds every "
                "paragraph in full (more, shorter chunks) and also builds the FTS5 keyword index",
    "peak_rss_mib": "Pilcrow embeds in batches of 64 (LlamaIndex: 10) and its process also "
                    "runs the queries with SQLite, FTS5 and the assistant loaded",
    "index_mib": "Pilcrow's index holds the full text, the metadata and an FTS5 keyword index "
                 "besides its vectors, and has about 4x as many vectors (one per paragraph)",
    "p50_ms": "Pilcrow's hybrid search runs a dense search and a BM25 search of 50 candidates "
              "each, fuses them and reads paragraphs from SQLite; LlamaIndex does one scan",
    "p95_ms": "as for p50; on a shared machine the tail also carries other processes' load",
}

# ---------------------------------------------------------------- shared by both children

def percentile_ms(seconds: list[float], q: float) -> float:
    """Percentile of durations in seconds, in milliseconds (nearest-rank, no numpy: the
    children do not share a numpy version).

    >>> percentile_ms([0.001, 0.002, 0.003, 0.004], 50)
    2.0
    """
    ordered = sorted(seconds)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return round(ordered[int(rank) - 1] * 1000, 3)


def recall_at_k(ranked: list[list], gold: list[set], k: int = K) -> float:
    """Share of questions with at least one gold item among their first `k` results.

    >>> recall_at_k([["a", "b"], ["c", "d"]], [{"b"}, {"x"}], k=2)
    0.5
    """
    found = sum(bool(set(r[:k]) & g) for r, g in zip(ranked, gold))
    return round(found / len(gold), 4)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def timed_queries(questions: list[str], search) -> tuple[list, list[float]]:
    """Run `search` on each question after one warm-up; (results, seconds per question)."""
    search(questions[0])
    results, seconds = [], []
    for q in questions:
        t = time.perf_counter()
        results.append(search(q))
        seconds.append(time.perf_counter() - t)
    return results, seconds


def scored(name: str, results: list[list[tuple[str, int | None]]], seconds: list[float],
           job: dict) -> dict:
    """One system's latency and recall from its (cable_id, paragraph) result lists."""
    gold_cables = [{c for c, _ in q["gold"]} for q in job["questions"]]
    row = {
        "system": name,
        "p50_ms": percentile_ms(seconds, 50),
        "p95_ms": percentile_ms(seconds, 95),
        "cable_recall_at_5": recall_at_k([[c for c, _ in r] for r in results], gold_cables),
    }
    if all(p is not None for r in results for _, p in r):
        gold = [{tuple(g) for g in q["gold"]} for q in job["questions"]]
        row["paragraph_recall_at_5"] = recall_at_k([[tuple(h) for h in r] for r in results], gold)
    return row


# ---------------------------------------------------------------- the two systems

def run_pilcrow(job: dict) -> list[dict]:
    from embeddings.store import build_index, open_index
    from qa import Assistant, Settings

    index_dir = Path(job["work"]) / "pilcrow"
    start = time.perf_counter()
    report = build_index([job["corpus"], *job["seeds"]], index_dir, progress=True)
    ingest_s = time.perf_counter() - start
    built = {
        "ingest_s": round(ingest_s, 1),
        "index_mib": round(folder_bytes(index_dir) / 2**20, 1),
        "documents": report.cables,
        "chunks": report.chunks,
        "chunking": "one chunk per paragraph (long ones split at 256 word pieces)",
        "stage_seconds": report.seconds,
    }
    questions = [q["question"] for q in job["questions"]]
    assistant = Assistant(Settings.from_env(index_dir=str(index_dir), generator="extractive"))
    hybrid, hybrid_s = timed_queries(
        questions, lambda q: [(h.cable_id, h.paragraph) for h in assistant.search(q, K)])
    index = open_index(index_dir)
    encoder = index.encoder()
    dense, dense_s = timed_queries(
        questions, lambda q: [(m.cable_id, m.paragraph)
                              for m in index.search_dense(encoder.encode([q])[0], K)])
    rss = peak_rss_mib()
    return [
        {**scored("Pilcrow (hybrid)", hybrid, hybrid_s, job), **built, "peak_rss_mib": rss},
        {**scored("Pilcrow (dense only)", dense, dense_s, job), **built, "peak_rss_mib": rss},
    ]


def read_corpus_rows(path: str):
    """The rows of a cables.csv-layout file, gzipped or not: [row, created, reference id,
    origin, classification, references, header, body]."""
    csv.field_size_limit(sys.maxsize)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        yield from csv.reader(f, escapechar="\\")


def sample_corpus(corpus: str, keep: set[str], n: int, out: Path, seed: int = 0) -> tuple[str, int]:
    """Write `n` cables of `corpus` to `out` (same layout), always including the IDs in
    `keep`, the rest drawn at random; (the file both systems ingest, its cable count).
    `n` of 0 or at least the corpus size means the whole corpus, unchanged."""
    rows = list(read_corpus_rows(corpus))
    if n <= 0 or n >= len(rows):
        return corpus, len(rows)
    kept = [r for r in rows if r[2] in keep]
    others = [r for r in rows if r[2] not in keep]
    chosen = kept + random.Random(seed).sample(others, max(0, n - len(kept)))
    chosen.sort(key=lambda r: int(r[0]))
    with gzip.open(out, "wt", encoding="utf-8", newline="") as f:
        csv.writer(f, escapechar="\\", doublequote=False, quoting=csv.QUOTE_ALL).writerows(chosen)
    return str(out), len(chosen)


def run_llamaindex(job: dict) -> list[dict]:
    from llama_index.core import (Document, Settings, StorageContext, VectorStoreIndex,
                                  load_index_from_storage)
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    index_dir = Path(job["work"]) / "llamaindex"
    start = time.perf_counter()
    Settings.llm = None  # retrieval only: no LLM (the default would be OpenAI)
    Settings.embed_model = HuggingFaceEmbedding(model_name=job["model_path"], device="cpu")
    documents = [Document(text=row[7], metadata={"cable_id": row[2]})
                 for row in read_corpus_rows(job["corpus"])]
    documents += [Document(text=Path(path).read_text(encoding="utf-8", errors="replace"),
                           metadata={"cable_id": cable_id})
                  for path, cable_id in job["seeds"].items()]
    index = VectorStoreIndex.from_documents(documents, show_progress=True)
    index.storage_context.persist(persist_dir=str(index_dir))
    ingest_s = time.perf_counter() - start
    built = {
        "ingest_s": round(ingest_s, 1),
        "index_mib": round(folder_bytes(index_dir) / 2**20, 1),
        "documents": len(documents),
        "chunks": len(index.docstore.docs),
        "chunking": "SentenceSplitter defaults: 1,024 tiktoken tokens, overlap 200",
    }
    # Query the index as it is loaded back from disk, as an application would.
    loaded = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(index_dir)))
    retriever = loaded.as_retriever(similarity_top_k=K)
    results, seconds = timed_queries(
        [q["question"] for q in job["questions"]],
        lambda q: [(n.node.metadata["cable_id"], None) for n in retriever.retrieve(q)])
    return [{**scored("LlamaIndex", results, seconds, job), **built, "peak_rss_mib": peak_rss_mib()}]


SYSTEMS = {"pilcrow": run_pilcrow, "llamaindex": run_llamaindex}


# ---------------------------------------------------------------- the parent

def prepare_job(work: Path, corpus: str, n_cables: int, seeds_dir: str, questions_file: str) -> dict:
    """Everything both children need, decided once: inputs, gold answers, model folder."""
    from embeddings import read_cables
    from embeddings.encoder import model_location

    seeds = {}
    for path in sorted(Path(seeds_dir).glob("*.txt")):
        # The peer gets each seed's raw text; its ID (for scoring only) comes from Pilcrow's
        # parser, since the raw formats differ and carry the ID in different places.
        (cable,) = list(read_cables(path))
        seeds[str(path)] = cable.id
    questions = []
    with open(questions_file, encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if q["answerable"] and q["citations"]:
                gold = [[c["cable_id"], c["paragraph"]] for c in q["citations"]]
                questions.append({"id": q["id"], "question": q["question"], "gold": gold})
    gold_ids = {cable_id for q in questions for cable_id, _ in q["gold"]}
    corpus, corpus_cables = sample_corpus(corpus, gold_ids, n_cables, work / "corpus-sample.csv.gz")
    return {
        "work": str(work),
        "corpus": corpus,
        "corpus_cables": corpus_cables,
        "seeds": seeds,
        "questions": questions,
        "model_path": model_location("all-MiniLM-L6-v2"),
    }


def run_child(system: str, job_file: Path) -> list[dict]:
    python = sys.executable if system == "pilcrow" else str(PEER_PYTHON)
    if not Path(python).exists():
        raise SystemExit(f"error: {python} not found; create the peer's virtualenv first "
                         f"(see --help)")
    out = job_file.with_name(f"{system}.json")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    print(f"--- {system}", file=sys.stderr, flush=True)
    subprocess.run([python, "-m", "bench.peer", "--child", system, "--job", str(job_file),
                    "--child-out", str(out)], cwd=ROOT, env=env, check=True)
    return json.loads(out.read_text())


def ratios(rows: list[dict], peer: dict) -> dict:
    """Pilcrow / peer for every metric both have (below 1 is better for costs, above 1
    for recall)."""
    return {
        row["system"]: {key: round(row[key] / peer[key], 3) for key, *_ in METRICS
                        if key in row and key in peer and peer[key]}
        for row in rows if row is not peer
    }


def winners(rows: list[dict], peer: dict) -> list[str]:
    """Every metric where the peer beats Pilcrow's hybrid search, with the reason."""
    ours = rows[0]
    return [f"{label}: {WHY_PEER_WINS.get(key, 'see the table')}"
            for key, label, _, higher in METRICS
            if key in ours and key in peer
            and (peer[key] > ours[key] if higher else peer[key] < ours[key])]


def markdown(report: dict) -> str:
    m = report["machine"]
    rows, peer = report["rows"], report["rows"][-1]
    names = [r["system"] for r in rows]
    lines = [
        "# Pilcrow vs LlamaIndex on the same cables",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}, load average {m['load_avg_1m']} at the start (above "
        f"{m['cores']} means other work shared the cores). Both measured in one run "
        f"({report['total_s']:.0f} s), each in "
        f"its own process. Input: {report['inputs']}. Model: all-MiniLM-L6-v2 (bundled "
        f"folder) for both. Quality: {len(report['questions'])} answerable eval questions, "
        f"all with their gold cables in the ingested set.",
        "",
        "| metric | " + " | ".join(names) + " | " +
        " | ".join(f"{n} / LlamaIndex" for n in names[:-1]) + " |",
        "|---|" + "---:|" * (2 * len(names) - 1),
    ]
    for key, label, unit, _ in METRICS:
        cells = [f"{r[key]:,}" if key in r else "n/a" for r in rows]
        ratio = [f"{report['ratios'][n][key]:.2f}x" if key in report["ratios"][n] else ""
                 for n in names[:-1]]
        lines.append(f"| {label}{f' ({unit})' if unit else ''} | " + " | ".join(cells + ratio) + " |")
    lines.append("| chunks embedded | " + " | ".join(f"{r['chunks']:,}" for r in rows) +
                 " |" + " |" * (len(names) - 1))
    lines += [
        "",
        "Ingest is model load + parse + chunk + embed + index + persist; Pilcrow's two rows "
        "share one build (same ingest, size and peak RSS). Latency is one question at a time, "
        f"embedding included, top {K}. Pilcrow chunks: {rows[0]['chunking']}; "
        f"LlamaIndex chunks: {peer['chunking']}.",
        "",
    ]
    if peer["documents"] < FULL_CORPUS:  # a sample (the peer counts every input document)
        lines += [
            f"Full corpus ({FULL_CORPUS:,} cables) at these ingest rates: about "
            + ", ".join(f"{r['system'].split(' (')[0]} {r['ingest_s'] * FULL_CORPUS / r['documents'] / 60:.0f} min"
                        for r in (rows[0], peer)) + " (linear projection).",
            "",
        ]
    lines += [
        "Where LlamaIndex wins (against Pilcrow's hybrid search):",
        "",
        *([f"- {w}." for w in report["peer_wins"]] or ["- nowhere."]),
        "",
        "![Pilcrow vs LlamaIndex](peer.png)",
        "",
    ]
    return "\n".join(lines)


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    fig, grid = plt.subplots(2, 4, figsize=(13, 8))
    axes = grid.ravel()
    axes[-1].axis("off")
    colours = ["#1f5fa8", "#7aa6d6", "#d9822b"]
    for ax, (key, label, unit, higher) in zip(axes, METRICS):
        have = [(r["system"], r[key]) for r in rows if key in r]
        ax.bar(range(len(have)), [v for _, v in have],
               color=[colours[[r["system"] for r in rows].index(n)] for n, _ in have])
        ax.set_xticks(range(len(have)), [n.replace(" (", "\n(") for n, _ in have], fontsize=7)
        ax.set_title(f"{label}{f' ({unit})' if unit else ''}\n"
                     f"{'higher' if higher else 'lower'} is better", fontsize=9)
        for i, (_, v) in enumerate(have):
            ax.text(i, v, f"{v:,}", ha="center", va="bottom", fontsize=7)
    fig.suptitle(f"Pilcrow vs LlamaIndex, same cables, same MiniLM model "
                 f"({report['machine']['cores']} cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", default="data/corpus/cablegate-wl-mirror.csv.gz")
    parser.add_argument("--cables", type=int, default=300,
                        help="ingest this many corpus cables: every gold cable of the eval "
                             "questions plus a fixed random draw of the rest (0 = all 6,712; "
                             "about an hour per system on 2 cores). Default: %(default)s")
    parser.add_argument("--seeds", default="data/cables", help="folder of seed .txt files")
    parser.add_argument("--questions", default="eval/dev.jsonl")
    parser.add_argument("--work", type=Path, default=Path("var/bench"),
                        help="where both indexes are written (replaced each run)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=sorted(SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        rows = SYSTEMS[args.child](json.loads(args.job.read_text()))
        args.child_out.write_text(json.dumps(rows, indent=2))
        return 0

    import shutil

    from bench.scale import machine_description

    start = time.perf_counter()
    for system in SYSTEMS:
        shutil.rmtree(args.work / system, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    job = prepare_job(args.work.resolve(), args.corpus, args.cables, args.seeds, args.questions)
    job_file = args.work / "job.json"
    job_file.write_text(json.dumps(job, indent=2))
    rows = run_child("pilcrow", job_file) + run_child("llamaindex", job_file)
    peer = rows[-1]
    report = {
        "machine": machine_description(),
        "inputs": (f"{job['corpus_cables']:,} cables of {args.corpus}"
                   + (" (all)" if job["corpus"] == args.corpus else
                      " (every gold cable of the eval questions + a fixed random draw)")
                   + f" + the {len(job['seeds'])} seed files of {args.seeds}: "
                     f"{peer['documents']:,} documents"),
        "questions": [q["id"] for q in job["questions"]],
        "rows": rows,
        "ratios": ratios(rows, peer),
        "peer_wins": winners(rows, peer),
        "total_s": round(time.perf_counter() - start, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "peer.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "peer.md").write_text(markdown(report))
    chart(report, args.out / "peer.png")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
