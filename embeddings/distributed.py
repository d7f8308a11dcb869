"""Bulk embedding on a Ray cluster: one encoder per actor, batches in flight on all of them.

    python -m embeddings build cables.csv --index var/full --ray ray://head.example:10001

Only the embedding moves: this process still reads and chunks the cables, checkpoints
each batch, and writes the index folder, so the index and its resume are the same as a
local build's. The actors run the encoder this process chose, down to the int8 model's
bytes (sent along, so every worker computes the vectors a local build would), and the
`embeddings` and `cables` packages travel with the job; the workers need the Python
packages of requirements.txt.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

import cables
import embeddings
from embeddings.encoder import OPENVINO, Encoder

CPUS_PER_ACTOR = 2  # torch and OpenVINO both use a core per thread; two keep one busy


class _Worker:
    """Runs in a Ray actor: one encoder, loaded once, the same as the driver's."""

    def __init__(self, model: str, backend: str, int8_files: dict[str, bytes] | None):
        cache = None
        if int8_files:
            from embeddings import quantize
            from embeddings.encoder import model_location

            cache = tempfile.mkdtemp(prefix="pilcrow-int8-")
            target = quantize.folder(model_location(model), cache)
            target.mkdir(parents=True)
            for name, data in int8_files.items():
                (target / name).write_bytes(data)
        self.encoder = Encoder(model, backend, cache_dir=cache)

    def identity(self) -> str:
        return self.encoder.identity

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)


class RayEmbedder:
    """Embeds a build's batches on Ray actors, `depth` batches in flight, in order.

    `address`: a cluster's head (`ray://host:10001`, `host:6379`), or None for
    $RAY_ADDRESS, else a new local cluster on 127.0.0.1 with `num_cpus` (default: all).
    One actor per `cpus_per_actor` CPUs of the cluster.
    """

    def __init__(self, encoder: Encoder, address: str | None = None,
                 cpus_per_actor: int = CPUS_PER_ACTOR, num_cpus: int | None = None):
        import ray
        from ray.util import ActorPool

        self._ray = ray
        packages = [str(Path(p.__file__).parent) for p in (embeddings, cables)]
        local = address is None and not os.environ.get("RAY_ADDRESS")
        ray.init(address=address, runtime_env={"py_modules": packages},
                 include_dashboard=False, log_to_driver=False,
                 **({"_node_ip_address": "127.0.0.1", "num_cpus": num_cpus} if local else {}))
        files = None
        if encoder.backend == OPENVINO:
            files = {p.name: p.read_bytes() for p in encoder.int8_dir.iterdir()}
        count = max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_actor)
        worker = ray.remote(num_cpus=cpus_per_actor)(_Worker)
        self._actors = [worker.remote(encoder.name, encoder.backend, files) for _ in range(count)]
        found = set(ray.get([a.identity.remote() for a in self._actors]))
        if found != {encoder.identity}:
            raise RuntimeError(f"Ray workers encode as {sorted(found)}, this process as "
                               f"{encoder.identity}: install the same requirements on them")
        self._pool = ActorPool(self._actors)
        self.depth = 2 * count  # every actor busy, and its next batch already queued

    def submit(self, texts: list[str]) -> None:
        self._pool.submit(lambda actor, batch: actor.encode.remote(batch), texts)

    def result(self, handle: None) -> np.ndarray:
        return self._pool.get_next()  # results come back in submission order

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._ray.shutdown()
