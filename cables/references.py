"""References as data: what a cable's REF line points to, and which cable when it is one.

The parser keeps each reference as written (`Cable.references`: "SHANGHAI 66", "(C) 02
BRASILIA 2670", "STEVENS EMAIL"); here each becomes a `Reference` with its kind and,
for a cable, its canonical ID. A reference writes its year in many ways (`05 BEIJING
20606`, `2007 MANAGUA 2135`, `ASUNCION 701 (08)`, `(99) ROME 2196`, `QUITO 4525-91`) or
not at all (`SHANGHAI 66` is a cable of the citing cable's own year), and names its post
as the drafter liked (`SECSTATE`, `Sao Paulo`, `USUN`): both are canonicalised through
`cables.ids`, after heuer/cablemap's reference conventions.

>>> [r.cable_id for r in of_cable("09SHANGHAI374", ("SHANGHAI 66", "(99) ROME 2196"))]
['09SHANGHAI66', '99ROME2196']
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from cables import ids
from cables.posts import POSTS, id_post

KINDS = ("cable", "email", "telcon", "report", "other")  # what Reference.kind may be

# Item labels and portion markings before a reference: "A.", "B)", "(C)", "(U)", "(SBU)",
# "REF A:", "REFTELS:", and stray punctuation left by a split list (") STATE 64404").
_LABEL = re.compile(
    r"^(?:\(?[A-Z]{1,2}\)|[A-Z]{1,2}[.:]|\((?:U|C|S|SBU|NF|C/NF|S/NF)\)|REFS?\s+[A-Z][.:)]?"
    r"|REF(?:TEL)?S?:)\s+|^[)\]:;,.'-]+\s*")
# [year] POST number [year], the years in any form the module docstring lists.
_CABLE = re.compile(
    r"(?:\(?(?P<lead>\d{4}|\d{2})\)?\s+)?"
    r"(?P<post>[A-Z][A-Z'.-]*(?:\s+[A-Z][A-Z'.-]*){0,3}?)\s*"
    r"0*(?P<number>\d{1,7})"
    r"(?:\s*[-/]\s*(?P<dash>\d{2})(?!\d)|\s*\((?P<paren>\d{4}|\d{2})\))?"
    r"(?=$|[\s,;:.()])")
_KIND_WORDS = (
    ("email", re.compile(r"\bE-?MAILS?\b|\bMAIL(?:S|ED)?\b|\S@\S")),
    ("telcon", re.compile(r"\bTELE?CONS?\b|\bPHONE\b|\bTELEPHONE\b|\bCALLS?\b|\bCONVERSATIONS?\b")),
    ("report", re.compile(r"\bIIRS?\b|\bREPORTS?\b|\bSIPRNET\b|\bDAILY\b|\bPOINTS\b|\bMEMOS?\b"
                          r"|\bFAX\b|\bSITREP\b")),
)


@dataclass(frozen=True)
class Reference:
    """One item of a cable's REF line.

    >>> parse("(C) 02 BRASILIA 2670", citing_year="04")
    Reference(written='(C) 02 BRASILIA 2670', kind='cable', cable_id='02BRASILIA2670')
    >>> parse("STEVENS EMAIL", citing_year="09")
    Reference(written='STEVENS EMAIL', kind='email', cable_id='')
    """

    written: str  # as the cable writes it
    kind: str  # one of KINDS
    cable_id: str = ""  # canonical, when kind is "cable"


def _year(match: re.Match, citing_year: str) -> str:
    """The two-digit year a reference gives, else the citing cable's."""
    for name in ("lead", "dash", "paren"):
        if match[name]:
            return match[name][-2:]
    return citing_year


def parse(written: str, citing_year: str) -> Reference:
    """A reference as written, read; `citing_year` is the citing cable's two-digit year.

    >>> [parse(w, "09").cable_id for w in ("SHANGHAI 66", "2007 MANAGUA 2135",
    ...     "ASUNCION 701 (08)", "QUITO 4525-91", "State 29549", "SECSTATE 012345",
    ...     "A. 08 SAN JOSE 0499", "USUN NEW YORK 584", "PANAMA 00933/08", "09BOGOTA569")]
    ['09SHANGHAI66', '07MANAGUA2135', '08ASUNCION701', '91QUITO4525', '09STATE29549', '09STATE12345', '08SANJOSE499', '09USUNNEWYORK584', '08PANAMA933', '09BOGOTA569']
    >>> [parse(w, "09").kind for w in ("CARTER TELCON", "USDAO NAIROBI IIR 6 875 0123 08",
    ...     "MAR 12", "Embassy-Department e-mails", "PAGE 02 ROME 01196")]
    ['telcon', 'report', 'other', 'email', 'other']
    """
    text = " ".join(written.upper().split())
    while (label := _LABEL.match(text)) is not None:
        text = text[label.end():]
    for kind, words in _KIND_WORDS:
        if words.search(text):
            return Reference(written, kind)
    if ids.is_id(text.split()[0] if text else ""):  # written as an ID: "09BOGOTA569"
        return Reference(written, "cable", ids.canonical(text.split()[0]))
    m = _CABLE.match(text)
    if m and id_post(m["post"]) in POSTS and int(m["number"]):
        year = _year(m, citing_year)
        return Reference(written, "cable", ids.canonical(f"{year}{m['post']}{m['number']}"))
    return Reference(written, "other")


def of_cable(cable_id: str, written: tuple[str, ...]) -> tuple[Reference, ...]:
    """The references of the cable `cable_id`, in the order it writes them."""
    year = ids.parse(cable_id).year
    return tuple(parse(w, year) for w in written)
