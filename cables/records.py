"""The records every stage passes along: a Cable and its numbered Paragraphs.

Paragraph numbers are the cable's own (what the cable calls ¶9 is number 9), never a
chunk counter. Records are frozen and round-trip through plain dicts (the JSONL export).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Paragraph:
    number: int
    text: str
    marking: str = ""  # portion marking such as "SBU", "C", "U"; "" when the cable has none


@dataclass(frozen=True)
class Cable:
    id: str  # canonical reference ID: "09GUANGZHOU54" (year, post, number without zeros)
    date: str  # ISO 8601 UTC "2009-01-30T07:23"; "" when unknown
    origin: str  # as the cables.csv names posts: "Consulate Guangzhou", "Embassy Beijing"
    classification: str  # "UNCLASSIFIED//FOR OFFICIAL USE ONLY", "CONFIDENTIAL", ...
    tags: tuple[str, ...]
    subject: str
    references: tuple[str, ...]  # as written in the REF line: ("SHANGHAI 66", "GUANGZHOU 510")
    signer: str
    paragraphs: tuple[Paragraph, ...]
    source: str  # where it was read: "seeds/000.txt", "cables.csv:row 1460"
    numbered: bool = True  # False when the cable had no paragraph numbers (blank-line blocks)
    # The action addressees of the header's TO lines as written, without routing indicator,
    # precedence or serial: ("SECSTATE WASHDC",); () when the text has no TO line.
    recipients: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Cable:
        d = dict(d)
        d["tags"] = tuple(d["tags"])
        d["references"] = tuple(d["references"])
        d["recipients"] = tuple(d.get("recipients", ()))  # absent in exports made before it
        d["paragraphs"] = tuple(Paragraph(**p) for p in d["paragraphs"])
        return cls(**d)

    def content_hash(self) -> str:
        """Hash of everything but `source`, so moving a file does not re-embed it."""
        d = self.to_dict()
        d.pop("source")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def paragraph(self, number: int) -> Paragraph:
        for p in self.paragraphs:
            if p.number == number:
                return p
        raise KeyError(f"{self.id} has no paragraph {number}")


@dataclass(frozen=True)
class Filters:
    """Metadata filters shared by the index and the assistant; empty means no filter.

    >>> Filters(origins=("Embassy Beijing",), date_from="2009-01-01").is_empty()
    False
    """

    origins: tuple[str, ...] = ()
    date_from: str = ""  # "YYYY-MM-DD", inclusive
    date_to: str = ""  # "YYYY-MM-DD", inclusive
    classifications: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # a cable matches when it has any of these tags
    references_to: tuple[str, ...] = ()  # canonical cable IDs; a cable matches when it cites any

    def is_empty(self) -> bool:
        return self == Filters()

