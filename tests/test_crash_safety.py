"""`python -m embeddings build` killed with SIGKILL while it updates an index, and a reader
process querying while builds swap the index: the index always answers exactly as before
the build or exactly as after a complete one, never a mix, never an error.

Run alone (with -s, the trials print what they did):
    .venv/bin/pytest tests/test_crash_safety.py -s
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from embeddings import build_index, open_index
from embeddings.encoder import Encoder
from cables.errors import NotFoundError
from embeddings.store import BUILD, Index

ROOT = Path(__file__).resolve().parent.parent
CABLES = ROOT / "data" / "cables"
SEED = 20240609  # the kill times, and so the trials, are the same on every run
SPREAD_TRIALS = 7  # kill times spread over the whole build, from start to exit
WRITE_TRIALS = 3  # kill times spread over writing and publishing, a small share of a build
NEW_CABLES = 4  # records of china-posts.csv the update adds (a few seconds of embedding)
QUERIES = ["Zhejiang residency policy for migrant workers", "itinerant labourers",
           "North Korea", "Burma Aung San Suu Kyi", "what did the ambassador say?"]
# (cable, paragraph): one the update changes, one it adds, two it leaves alone, one never there
PARAGRAPHS = [("09SHANGHAI374", 9), ("06BEIJING10909", 1), ("09GUANGZHOU54", 1),
              ("07BEIJING2459", 2), ("09SHANGHAI374", 999)]
# A build run as a user would: no PILCROW_* settings from the environment of the tests.
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("PILCROW_")},
       "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def answers_of(index: Index, vectors: np.ndarray) -> str:
    """Everything a fixed set of questions gets from an open index, as canonical JSON."""
    def lookup(cable_id: str, n: int) -> str | None:
        try:
            return index.paragraph(cable_id, n).text
        except NotFoundError:
            return None
    return json.dumps({
        "stats": index.stats(),
        "dense": [[(m.cable_id, m.paragraph, m.score) for m in index.search_dense(v, 5)]
                  for v in vectors],
        "keyword": [[(m.cable_id, m.paragraph, m.score) for m in index.search_keyword(q, 5)]
                    for q in QUERIES],
        "paragraphs": [lookup(cable_id, n) for cable_id, n in PARAGRAPHS],
    }, sort_keys=True)


def answers(index_dir: Path, vectors: np.ndarray) -> str:
    with open_index(index_dir) as index:
        return answers_of(index, vectors)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Run:
    seconds: float  # from start to exit
    embedded_at: float | None  # when the embedding bar reached 100%, if it did
    published_at: float | None  # when CURRENT named a new generation, if it did
    killed: bool
    returncode: int
    stderr: str


def run_build(inputs: Path, index_dir: Path, kill_at: float | None = None,
              kill_after_embedding: float | None = None) -> Run:
    """`python -m embeddings build inputs --index index_dir`, killed with SIGKILL `kill_at`
    seconds after it started, or `kill_after_embedding` seconds after its embedding bar
    reached 100%, unless it has exited by then."""
    proc = subprocess.Popen([sys.executable, "-m", "embeddings", "build", str(inputs), "--index",
                             str(index_dir)], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    started = time.monotonic()
    err, embedded = bytearray(), []

    def watch_stderr() -> None:
        while data := os.read(proc.stderr.fileno(), 65536):
            err.extend(data)
            if not embedded and b"embed: 100%" in err:
                embedded.append(time.monotonic() - started)
    watcher = threading.Thread(target=watch_stderr)
    watcher.start()
    killed, published, current = False, None, (index_dir / "CURRENT").read_text()
    while proc.poll() is None:
        now = time.monotonic() - started
        if published is None and (index_dir / "CURRENT").read_text() != current:
            published = now
        due = kill_at if kill_after_embedding is None else (
            embedded[0] + kill_after_embedding if embedded else None)
        if due is not None and now >= due:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        assert now < 900, "the build did not finish in 15 minutes"
        time.sleep(0.002)
    proc.wait()
    seconds = time.monotonic() - started
    watcher.join()
    proc.stderr.close()
    return Run(seconds, embedded[0] if embedded else None, published, killed, proc.returncode,
               err.decode(errors="replace"))


def clean_folder(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir())


@dataclass(frozen=True)
class Scenario:
    base: Path  # an index of the five seeds, never touched: each trial works on a copy
    update: Path  # the seeds with 09SHANGHAI374 ¶9 edited, and NEW_CABLES more cables
    vectors: np.ndarray  # the QUERIES, embedded
    before: str  # answers of the index before the update
    after: str  # answers after a complete update
    reference: Run  # the complete update, timed


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    root = tmp_path_factory.mktemp("crash")
    seeds, update = root / "seeds", root / "update"
    seeds.mkdir()
    for path in sorted(CABLES.glob("*.txt")):
        shutil.copy(path, seeds)
    build_index([seeds], root / "base", progress=False)
    shutil.copytree(seeds, update)
    edited = update / "001_77859e777fb636d1.txt"
    text = edited.read_text(encoding="utf-8")
    assert "blamed migrant workers" in text
    edited.write_text(text.replace("blamed migrant workers", "blamed itinerant labourers"),
                      encoding="utf-8")
    table = (CABLES / "china-posts.csv").read_bytes()
    starts = [m.start() for m in re.finditer(rb'^"\d+","', table, re.M)]
    (update / "china-posts.csv").write_bytes(table[:starts[NEW_CABLES]])

    vectors = Encoder().encode(QUERIES)
    shutil.copytree(root / "base", root / "reference")
    reference = run_build(update, root / "reference")
    assert reference.returncode == 0, reference.stderr
    assert f"{NEW_CABLES} added, 1 replaced, 4 unchanged" in reference.stderr
    assert None not in (reference.embedded_at, reference.published_at), reference.stderr
    before, after = answers(root / "base", vectors), answers(root / "reference", vectors)
    assert before != after
    return Scenario(root / "base", update, vectors, before, after, reference)


def kill_plan(reference: Run) -> list[tuple[str, float]]:
    """(kind, seconds) of each trial: SPREAD_TRIALS from start to exit, one at a random
    moment in each equal slice of the reference run; then WRITE_TRIALS the same way over
    twice the time the reference took from the end of embedding to publishing (counted
    from the end of embedding): that is where a swap could go wrong, and it is too short
    a share of the run for the spread trials to land in it."""
    rng = random.Random(SEED)
    write = 2 * (reference.published_at - reference.embedded_at)
    return ([("spread", reference.seconds * (i + rng.random()) / SPREAD_TRIALS)
             for i in range(SPREAD_TRIALS)]
            + [("write", write * (i + rng.random()) / WRITE_TRIALS) for i in range(WRITE_TRIALS)])


def test_a_killed_update_leaves_the_old_index_or_the_new_one(scenario, tmp_path):
    ref = scenario.reference
    print(f"\nreference update: {ref.seconds:.2f} s, embedding done at {ref.embedded_at:.2f} s, "
          f"published at {ref.published_at:.2f} s")
    outcomes = []
    for trial, (kind, seconds) in enumerate(kill_plan(scenario.reference)):
        index_dir = tmp_path / f"trial-{trial}"
        shutil.copytree(scenario.base, index_dir)
        run = run_build(scenario.update, index_dir, **(
            {"kill_at": seconds} if kind == "spread" else {"kill_after_embedding": seconds}))
        assert run.killed or run.returncode == 0, run.stderr
        found = answers(index_dir, scenario.vectors)
        state = {scenario.before: "before", scenario.after: "after"}.get(found, "MIXED")
        outcomes.append((trial, kind, round(seconds, 2), run.killed, state,
                         BUILD in clean_folder(index_dir)))
        print(f"trial {trial}: {kind} kill at {seconds:.2f} s, killed={run.killed}, "
              f"index answers as {state}, build folder left={outcomes[-1][-1]}")
        assert state != "MIXED", f"trial {trial} ({kind}, {seconds:.2f} s): {found}"
    assert sum(1 for o in outcomes if o[3]) >= SPREAD_TRIALS + WRITE_TRIALS - 2, outcomes

    # The next build after a crash finishes the job (resuming from the checkpoints the
    # killed one kept in its build folder) and clears what the crash left behind.
    leftover = next((tmp_path / f"trial-{o[0]}" for o in outcomes if o[-1]), None)
    if leftover is not None:
        build_index([scenario.update], leftover, progress=False)
        assert answers(leftover, scenario.vectors) == scenario.after
        names = clean_folder(leftover)
        assert len(names) == 3 and [n for n in names if n[:4] != "gen-"] == [".lock", "CURRENT"]


def read_loop(index_dir: str, vectors_path: str, stop_path: str) -> None:
    """The reader process: open and query the index until `stop_path` exists, printing one
    JSON line per round: the digest of what a fresh open answered, and whether an index
    opened at the start still answers as it did (its generation may be deleted meanwhile)."""
    vectors = np.load(vectors_path)
    held = open_index(index_dir)
    first = answers_of(held, vectors)
    print(json.dumps({"fresh": digest(first), "held_same": True}), flush=True)
    while not Path(stop_path).exists():
        try:
            line = {"fresh": digest(answers(Path(index_dir), vectors)),
                    "held_same": answers_of(held, vectors) == first}
        except Exception as e:  # noqa: BLE001 - any error is what the test looks for
            line = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(line), flush=True)


def test_a_reader_process_sees_each_published_index_whole(scenario, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(scenario.base, index_dir)
    np.save(tmp_path / "queries.npy", scenario.vectors)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, __file__, str(index_dir),
                               str(tmp_path / "queries.npy"), str(stop)], cwd=ROOT,
                              env={**ENV, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    first_line = threading.Event()

    def collect() -> None:
        for line in reader.stdout:
            lines.append(json.loads(line))
            first_line.set()
    collector = threading.Thread(target=collect)
    collector.start()
    try:
        assert first_line.wait(300), reader.stderr.read() if reader.poll() is not None else ""
        published = {digest(scenario.before)}
        # Four swaps to indexes that differ by construction (each holds another set of
        # cables, so their stats differ whatever the CPU's floating point does): add
        # cables, re-lay them as HNSW, prune to the seeds plus half the additions, and back
        # to the seeds alone; each published index is kept a moment.
        seeds = scenario.base.parent / "seeds"
        half = tmp_path / "half"
        shutil.copytree(seeds, half)
        table = (scenario.update / "china-posts.csv").read_bytes()
        starts = [m.start() for m in re.finditer(rb'^"\d+","', table, re.M)]
        (half / "china-posts.csv").write_bytes(table[:starts[NEW_CABLES // 2]])
        for inputs, options in [(scenario.update, {}), (scenario.update, {"hnsw_threshold": 0}),
                                (half, {"prune": True}), (seeds, {"prune": True, "hnsw_threshold": 0})]:
            report = build_index([inputs], index_dir, progress=False, **options)
            assert report.generation == (index_dir / "CURRENT").read_text().strip()
            published.add(digest(answers(index_dir, scenario.vectors)))
            time.sleep(1)
    finally:
        stop.touch()
        reader.wait(120)
        collector.join()
    assert reader.returncode == 0, reader.stderr.read()
    errors = [line["error"] for line in lines if "error" in line]
    seen = [line["fresh"] for line in lines if "fresh" in line]
    print(f"reader: {len(lines)} rounds, {len(errors)} errors, {len(set(seen))} of "
          f"{len(published)} published indexes seen")
    assert not errors, errors[:5]
    assert set(seen) <= published and all(line["held_same"] for line in lines)
    assert len(published) >= 3 and len(set(seen)) >= 2, (len(published), len(set(seen)), len(lines))


if __name__ == "__main__":
    read_loop(*sys.argv[1:])
