"""One frozen `Settings` object for the question-answering path, and its environment names.

Every field has a `PILCROW_*` environment variable; `Settings.from_env()` reads them and
explicit overrides win (`None` overrides are ignored, so a CLI can pass its unset flags).

>>> Settings.from_env(k=5, generator=None).k
5
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace

from cables.errors import InvalidInputError


def _env(name: str, doc: str) -> dict:
    return {"env": name, "doc": doc}


@dataclass(frozen=True)
class Settings:
    index_dir: str = field(default="var/index", metadata=_env(
        "PILCROW_INDEX", "index folder written by embeddings.build_index"))
    generator: str = field(default="transformers", metadata=_env(
        "PILCROW_GENERATOR", "extractive | transformers | llama-cpp | openai"))
    model: str = field(default="", metadata=_env(
        "PILCROW_MODEL", "generator model: '' = the bundled SmolLM2 GGUF, or a transformers "
        "model folder, or a .gguf file"))
    model_cache: str = field(default="var/models", metadata=_env(
        "PILCROW_MODEL_CACHE", "where GGUF files converted for transformers are kept"))
    embed_model: str = field(default="", metadata=_env(
        "PILCROW_EMBED_MODEL", "embedding model name; '' = the one the index was built with "
        "(any other must match it)"))
    k: int = field(default=8, metadata=_env(
        "PILCROW_K", "paragraphs shown to the generator and listed in the answer"))
    candidates: int = field(default=50, metadata=_env(
        "PILCROW_CANDIDATES", "candidates taken from each retriever before fusion"))
    rrf_k: int = field(default=60, metadata=_env(
        "PILCROW_RRF_K", "reciprocal rank fusion constant"))
    abstain_threshold: float = field(default=0.35, metadata=_env(
        "PILCROW_ABSTAIN_THRESHOLD", "abstain when no retrieved paragraph has a cosine "
        "similarity to the question at least this high (on the eval set answerable questions "
        "score 0.45 and up, off-topic ones about 0.2)"))
    support_threshold: float = field(default=0.55, metadata=_env(
        "PILCROW_SUPPORT_THRESHOLD", "a draft sentence whose support score (0..1) is below "
        "this is dropped; 0.55 drops most of SmolLM2's distortions and keeps close paraphrases"))
    max_new_tokens: int = field(default=200, metadata=_env(
        "PILCROW_MAX_NEW_TOKENS", "longest draft a model generator may write, in tokens"))
    temperature: float = field(default=0.0, metadata=_env(
        "PILCROW_TEMPERATURE", "0 = greedy decoding (deterministic)"))
    openai_base_url: str = field(default="", metadata=_env(
        "PILCROW_OPENAI_BASE_URL", "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1"))
    openai_model: str = field(default="", metadata=_env(
        "PILCROW_OPENAI_MODEL", "model name sent to that endpoint"))
    max_question_chars: int = field(default=2000, metadata=_env(
        "PILCROW_MAX_QUESTION_CHARS", "longer questions are rejected"))

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then `PILCROW_*` variables, then the non-None `overrides`."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f.metadata["env"])
            if raw is not None:
                values[f.name] = _convert(f.name, f.type, raw, f.metadata["env"])
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidInputError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update({name: v for name, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed; `None` values are ignored."""
        return replace(self, **{n: v for n, v in changes.items() if v is not None})

    def hash(self) -> str:
        """Short stable hash of everything that can change an answer (not cache locations).

        >>> Settings().hash() == Settings().hash() != Settings(k=3).hash()
        True
        """
        d = asdict(self)
        d.pop("model_cache")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def _convert(name: str, type_name: str, raw: str, env: str) -> object:
    # Field types are strings here (postponed annotations), so compare names.
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError:
        raise InvalidInputError(f"{env}={raw!r}: {name} must be a {type_name}") from None
    return raw
