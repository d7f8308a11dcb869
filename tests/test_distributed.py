"""`build --ray` on a local Ray cluster (loopback only, 2 CPUs, two actors): the same
index, vectors included, as a build in this process."""
from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import numpy as np

from embeddings.distributed import RayEmbedder
from embeddings.encoder import OPENVINO
from embeddings.store import build_index
from tests.test_resume import contents

SEEDS = sorted((Path(__file__).resolve().parent.parent / "data" / "cables").glob("*.txt"))


def test_a_ray_build_gives_the_index_and_vectors_of_a_local_build(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # a new local cluster, never another
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in SEEDS:
        shutil.copy(path, seeds)
    # The int8 backend: its model's bytes travel to the actors.
    local = build_index([seeds], tmp_path / "local", backend=OPENVINO, batch_chunks=8,
                        progress=False)
    on_ray = build_index([seeds], tmp_path / "ray", backend=OPENVINO, batch_chunks=8,
                         progress=False, embedder=partial(RayEmbedder, num_cpus=2, cpus_per_actor=1))
    assert (on_ray.backend, on_ray.chunks_embedded) == (local.backend, local.chunks_embedded)
    rows, ids, stored = contents(tmp_path / "ray")
    local_rows, local_ids, local_stored = contents(tmp_path / "local")
    assert rows == local_rows
    np.testing.assert_array_equal(ids, local_ids)
    # Actors run one thread each, this process two: sums may round differently in the
    # last bits, nothing more.
    np.testing.assert_allclose(stored, local_stored, atol=1e-6)
