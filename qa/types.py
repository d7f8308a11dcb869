"""Records of the question-answering path, shared by every interface.

They are also the HTTP API's response schemas: pydantic reads the dataclasses directly,
so a new field is one edit here. The UI, the HTTP API, the CLI and eval all return
`Answer.to_dict()`, which is `to_dict(answer)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated

from pydantic import Field, TypeAdapter, computed_field

from cables.ids import citation


class Cited:
    """What cites a paragraph: `ref`, its citation text ("09SHANGHAI374 ¶9"), computed from
    the record's `cable_id` and `paragraph` and sent with it (to_dict() and the API's JSON)."""

    @computed_field(examples=["09SHANGHAI374 ¶9"])
    @property
    def ref(self) -> str:
        return citation(self.cable_id, self.paragraph)


@dataclass(frozen=True)
class Hit(Cited):
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
    direct: bool = False  # named by the question ("09SHANGHAI374 ¶9"), not found by search
    recipients: tuple[str, ...] = ()  # the cable's action addressees (`Cable.recipients`)


@dataclass(frozen=True)
class Citation(Cited):
    cable_id: str
    paragraph: int
    quote: str  # the sentence of the paragraph that supports the claim


@dataclass(frozen=True)
class Dropped:
    """A draft sentence the verifier removed, and why."""

    sentence: str
    reason: str
    support: float


@dataclass(frozen=True)
class Answer:
    question: str
    text: Annotated[str, Field(description='Inline citations in the form "[09SHANGHAI374 ¶9]".')]
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    dropped: tuple[Dropped, ...]
    generator: str
    timings: dict[str, float] = field(default_factory=dict)  # ms: retrieve, generate, verify
    settings_hash: str = ""
    # `generator` names the one asked for, not the writer, when this is true.
    fallback: Annotated[bool, Field(description="True when every drafted sentence was dropped "
                                    "and the text is the extractive answer instead.")] = False
    standalone: Annotated[str, Field(description=(
        "The question as answered: a follow-up rewritten to stand alone from the history "
        "(its context carried forward); empty when asked without history."))] = ""
    reason: Annotated[str, Field(description="Why the assistant abstained (\"no retrieved paragraph "
                                 "mentions whaling\"); empty when it answers.")] = ""

    @property
    def writer(self) -> str:
        """Who wrote the text, for footers: "transformers" or "transformers → extractive fallback"."""
        return f"{self.generator} → extractive fallback" if self.fallback else self.generator

    def to_dict(self) -> dict:
        return to_dict(self)


def to_dict(record: object) -> dict:
    """A record as JSON-ready data, computed fields (`ref`) included: what the API sends.

    >>> to_dict(Citation("09SHANGHAI374", 9, "The rules changed."))["ref"]
    '09SHANGHAI374 ¶9'
    """
    return _adapter(type(record)).dump_python(record, mode="json")


@lru_cache(maxsize=None)
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)
