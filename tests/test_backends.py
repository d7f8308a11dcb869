"""The OpenVINO int8 backend against torch on real cable chunks, and how an index keeps
the backend it was built with.

The int8 model is built once (NNCF calibration: about 2 minutes on 2 idle cores, up to 5
on a loaded machine) into var/models and reused by every later run and test.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cables.errors import InvalidInputError
from cables.reader import read_cables
from embeddings import quantize
from embeddings.chunks import chunk_cable
from embeddings.encoder import OPENVINO, TORCH, Encoder, backend_name
from embeddings.store import build_index, open_index
from eval.questions import load_questions

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "cables"
K = 5


@pytest.fixture(scope="session")
def int8() -> Encoder:
    return Encoder(backend=OPENVINO)


@pytest.fixture(scope="module")
def sample():
    """Every chunk of the sample cables, (cable_id, paragraph) of each, and their vectors
    from both backends (torch embeds them in about a minute on 2 idle cores)."""
    torch, int8 = Encoder(backend=TORCH), Encoder(backend=OPENVINO)
    chunks = [c for cable in read_cables(SAMPLE)
              for c in chunk_cable(cable, torch.tokenizer, torch.max_tokens)]
    texts = [c.embed_text for c in chunks]
    return ([(c.cable_id, c.paragraph) for c in chunks],
            {TORCH: (torch, torch.encode(texts)), OPENVINO: (int8, int8.encode(texts))})


def test_the_int8_model_is_cached_with_its_checksums_and_passed_its_check(int8):
    meta = json.loads((int8.int8_dir / "meta.json").read_text())
    assert meta["passed"] and meta["check"]["mean_cosine"] >= quantize.MIN_MEAN_COSINE
    assert meta["calibration_chunks"] == quantize.CALIBRATION_CHUNKS
    assert {name: quantize.sha256(int8.int8_dir / name) for name in meta["files"]} == meta["files"]
    assert int8.identity.endswith(meta["files"]["model.bin"])


def test_int8_vectors_are_within_cosine_0_99_of_torch_on_unseen_chunks(sample):
    # Past the chunks used for calibration and for the build's own check.
    unseen = slice(quantize.CALIBRATION_CHUNKS + quantize.CHECK_CHUNKS, None)
    _, by_backend = sample
    cosines = np.sum(by_backend[TORCH][1][unseen] * by_backend[OPENVINO][1][unseen], axis=1)
    assert len(cosines) >= 200
    print(f"\ncosine int8 to torch on {len(cosines)} unseen chunks: mean {cosines.mean():.4f}, "
          f"min {cosines.min():.4f}")
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.95


def gold_recall(encoder: Encoder, vectors: np.ndarray, owners: list[tuple[str, int]],
                questions) -> float:
    """Share of gold paragraphs among the K paragraphs nearest each question (dense)."""
    found = []
    for q, qvec in zip(questions, encoder.encode([q.question for q in questions])):
        top: list[tuple[str, int]] = []
        for i in np.argsort(-(vectors @ qvec), kind="stable"):
            if owners[i] not in top:
                top.append(owners[i])
            if len(top) == K:
                break
        found += [tuple(c) in top for c in q.citations]
    return float(np.mean(found))


def test_int8_keeps_the_gold_recall_of_torch_on_the_eval_questions(sample):
    owners, by_backend = sample
    questions = [q for q in load_questions() if q.answerable and q.citations]
    recall = {name: gold_recall(encoder, vectors, owners, questions)
              for name, (encoder, vectors) in by_backend.items()}
    print(f"\ndense gold-paragraph recall@{K} over {len(questions)} questions: {recall}")
    assert recall[OPENVINO] >= recall[TORCH] - 0.01


def test_an_index_encodes_questions_with_its_own_backend(int8, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in sorted(SAMPLE.glob("*.txt"))[:2]:
        (seeds / path.name).write_bytes(path.read_bytes())
    report = build_index([seeds], tmp_path / "index", backend=OPENVINO, progress=False)
    assert report.backend == OPENVINO
    with open_index(tmp_path / "index") as index:
        assert index.manifest["backend"] == OPENVINO
        assert index.encoder().identity == int8.identity
    # Another backend cannot update it in place: its vectors would not be comparable.
    again = build_index([seeds], tmp_path / "index", backend=TORCH, progress=False)
    assert again.backend == TORCH and "embedded with backend 'openvino'" in again.rebuilt


def test_an_unknown_backend_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="torch, openvino, auto"):
        backend_name("tensorrt")


def test_a_damaged_int8_model_is_rebuilt_not_trusted(int8, tmp_path):
    copy = tmp_path / int8.int8_dir.name
    copy.mkdir()
    for path in int8.int8_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert quantize._verified_meta(copy, json.loads((copy / "meta.json").read_text())["source"])
    data = bytearray((copy / "model.bin").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.bin").write_bytes(bytes(data))
    assert quantize._verified_meta(copy, json.loads((copy / "meta.json").read_text())["source"]) is None
