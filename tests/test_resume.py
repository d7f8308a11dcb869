"""A build killed with SIGKILL half-way resumes: the next run embeds only the batches the
killed one had not finished, and publishes the index an uninterrupted build publishes."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from embeddings import vectors
from embeddings.store import BUILD, CHECKPOINTS, DB, VECTORS, build_index

ROOT = Path(__file__).resolve().parent.parent
BATCH = 8  # chunks per batch: the five seeds (51 chunks) make 6 batches
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("PILCROW_")},
       "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def contents(index_dir: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """Every row of every table, and the (ids, vectors) of the live generation."""
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    conn = sqlite3.connect(gen / DB)
    rows = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("cables", "cable_tags", "paragraphs", "chunks")}
    conn.close()
    ids, stored = vectors.contents(vectors.read(str(gen / VECTORS)))
    return rows, ids, stored


def test_a_killed_build_resumes_without_re_embedding_finished_batches(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in sorted((ROOT / "data" / "cables").glob("*.txt")):
        shutil.copy(path, seeds)
    uninterrupted = build_index([seeds], tmp_path / "reference", backend="torch",
                                batch_chunks=BATCH, progress=False)

    index_dir = tmp_path / "index"
    checkpoints = index_dir / BUILD / CHECKPOINTS
    proc = subprocess.Popen(
        [sys.executable, "-m", "embeddings", "build", str(seeds), "--index", str(index_dir),
         "--backend", "torch", "--batch-chunks", str(BATCH)],
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list(checkpoints.glob("*.npy"))) < 2:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no batch was checkpointed in 5 minutes"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert not (index_dir / "CURRENT").exists()  # killed before publishing anything
    finished = sum(len(np.load(p)) for p in checkpoints.glob("*.npy"))
    assert 2 * BATCH <= finished < uninterrupted.chunks_embedded

    resumed = build_index([seeds], index_dir, backend="torch", batch_chunks=BATCH,
                          progress=False)
    assert (resumed.chunks_embedded, resumed.chunks_resumed) == (
        uninterrupted.chunks_embedded, finished)
    assert "resumed from the checkpoints of a killed build" in resumed.summary()
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "CURRENT", "gen-000001"]
    rows, ids, stored = contents(index_dir)
    ref_rows, ref_ids, ref_stored = contents(tmp_path / "reference")
    assert rows == ref_rows
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(stored, ref_stored)
