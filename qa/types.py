"""Records of the question-answering path, shared by every interface.

The UI, the HTTP API, the CLI and eval all return `Answer.to_dict()`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from cables.records import citation


@dataclass(frozen=True)
class Hit:
    """One retrieved paragraph, with the metadata a reader needs to judge it."""

    cable_id: str
    paragraph: int
    text: str
    score: float  # fused (RRF) score; higher is better
    date: str
    origin: str
    subject: str
    classification: str
    dense_rank: int | None = None  # 1-based rank in the dense list, None if absent
    keyword_rank: int | None = None  # 1-based rank in the keyword list, None if absent
    similarity: float = 0.0  # cosine similarity of question and paragraph (abstention uses it)

    @property
    def ref(self) -> str:
        return citation(self.cable_id, self.paragraph)


@dataclass(frozen=True)
class Citation:
    cable_id: str
    paragraph: int
    quote: str  # the sentence of the paragraph that supports the claim

    @property
    def ref(self) -> str:
        return citation(self.cable_id, self.paragraph)


@dataclass(frozen=True)
class Dropped:
    """A draft sentence the verifier removed, and why."""

    sentence: str
    reason: str
    support: float


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # inline citations in the form "[09SHANGHAI374 ¶9]"
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    dropped: tuple[Dropped, ...]
    generator: str
    timings: dict[str, float] = field(default_factory=dict)  # ms: retrieve, generate, verify
    settings_hash: str = ""
    # True when the verifier dropped every sentence of the generator's draft and the text
    # is the extractive answer instead: `generator` names the one asked for, not the writer.
    fallback: bool = False

    @property
    def writer(self) -> str:
        """Who wrote the text, for footers: "transformers" or "transformers → extractive fallback"."""
        return f"{self.generator} → extractive fallback" if self.fallback else self.generator

    def to_dict(self) -> dict:
        d = asdict(self)
        for h, hit in zip(d["hits"], self.hits):
            h["ref"] = hit.ref
        for c, cit in zip(d["citations"], self.citations):
            c["ref"] = cit.ref
        return d
