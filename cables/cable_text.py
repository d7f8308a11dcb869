"""Build a Cable from telegram text plus what its container (CSV row, HTML page) stated."""
from __future__ import annotations

from typing import Mapping

from cables.errors import CableParseError
from cables.paragraphs import split_paragraphs
from cables.records import Cable, Paragraph
from cables.telegram import normalise, parse_header

# The classification a cable must at least have, given its paragraphs' portion markings;
# only used when the text has no classification line (a copy that dropped the header).
_MARKING_LEVELS = (("S", "SECRET"), ("C", "CONFIDENTIAL"),
                   ("SBU", "UNCLASSIFIED//FOR OFFICIAL USE ONLY"), ("U", "UNCLASSIFIED"))


def _classification_from_markings(paragraphs: tuple[Paragraph, ...]) -> str:
    levels = {p.marking.split("/")[0].strip() for p in paragraphs}
    return next((name for mark, name in _MARKING_LEVELS if mark in levels), "")


def cable_from_text(text: str, source: str, stated: Mapping[str, str] | None = None,
                    fallback: Mapping[str, str] | None = None, row: int | None = None,
                    path: str | None = None) -> Cable:
    """Parse telegram text. `stated` fields (id, date, origin, classification, subject) win
    over what the text says; `fallback` fields fill only what the text lacks.

    Raises CableParseError (naming `path` and `row`) when no cable can be made of it.
    """
    stated, fallback = stated or {}, fallback or {}
    text = normalise(text)
    header = parse_header(text)
    paragraphs, numbered, signer = split_paragraphs(text[header.body_start:])

    def pick(name: str, parsed: str) -> str:
        return stated.get(name) or parsed or fallback.get(name, "")

    date = pick("date", header.date)
    cable_id = pick("id", header.id)
    if not cable_id and header.post_number and date:
        cable_id = date[2:4] + header.post_number
    where = path if path is not None else source
    if not cable_id:
        telegram_like = header.date or header.post_number or header.classification
        reason = "no cable ID found" if telegram_like else "no recognisable cable"
        raise CableParseError(where, reason, row)
    if not paragraphs:
        raise CableParseError(where, f"{cable_id}: no paragraph text", row)
    classification = pick("classification", header.classification) or \
        _classification_from_markings(paragraphs)
    return Cable(
        id=cable_id,
        date=date,
        origin=pick("origin", header.origin),
        classification=classification,
        tags=header.tags,
        subject=pick("subject", header.subject),
        references=header.references,
        signer=signer,
        paragraphs=paragraphs,
        source=source,
        numbered=numbered,
        recipients=header.recipients,
    )
