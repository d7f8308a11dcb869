"""Cable IDs: the one grammar for them, and the citation historians write with them.

A cable ID is year, post and number: `09SHANGHAI374` is the Shanghai consulate's 374th
telegram of 2009. The canonical form (the index key) is upper case, the post without
spaces and as IDs spell it (`cables.posts.id_post`), the number without leading zeros.
People and generators write IDs more loosely: `09 shanghai 0374`, `09SECSTATE12345`.

WikiLeaks published some IDs with the cable's `SECTION 01 OF 02` line, or its `EFTO`
caveat, garbled into them (`08ECTION01OF02MANAMA492`, `09EFTOLONDON2468`); `canonical`
repairs them, following heuer/cablemap's `MALFORMED_CABLE_IDS` and `INVALID_CABLE_IDS`.

>>> canonical(" 09 shanghai 0374 "), canonical("08ECTION01OF02MANAMA492")
('09SHANGHAI374', '08MANAMA492')
>>> citation("09SHANGHAI374", 9)
'09SHANGHAI374 ¶9'
>>> mentions("see 09 SHANGHAI 374 para 9 and 07beijing2459")
[('09SHANGHAI374', 9), ('07BEIJING2459', None)]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from cables.errors import InvalidInputError
from cables.posts import id_post

# Regex fragments for composing other patterns (no capturing groups, so they can be
# embedded anywhere). CANONICAL is an ID as the index keys it and answers cite it;
# WRITTEN is how a question or a draft may write one: any case, spaces between the
# parts, up to three words of post, zero-padded numbers.
CANONICAL = r"\d{2}[A-Z]+[1-9]\d{0,6}"
WRITTEN = r"\b\d{2}\s?[A-Za-z]+(?:\s[A-Za-z]+){0,2}?\s?\d{1,7}\b"
# A paragraph after an ID: "¶9", "¶ 9", "para 9", "para. 9", "paragraph 9", ", para 9".
PARAGRAPH = r"\s*,?\s*(?:¶|para(?:graph)?\.?)\s*\d{1,3}\b"

_PARTS = re.compile(r"(\d{2})([A-Z][A-Z-]*?)0*(\d{1,7})")
# `SECTION 01 OF 02` as it reaches an ID: letters of SECTION dropped or mistyped
# (ECTION, SCTION, SECTON), the `OF` too (OF, GF, F, O). EFTO and AMEMBASSY are a caveat
# and a sender prefix that some IDs carry before the post.
_GARBLE = re.compile(r"(\d{2})(?:[A-Z]{4,8}\d{2}[A-Z]{1,2}\d{2}|EFTO|AMEMBASSY)(?=[A-Z]{3})")
# Malformed IDs whose post or number the rule cannot restore; checked against each
# cable's own `DE RUEHxx #nnnn` line (the DE line of 08BISHKEK1021 says #1021).
_MALFORMED = {
    "08SECTION01GF02BISHIEK21": "08BISHKEK1021",
    "09SECTION02OF03QRIPOLI583": "09TRIPOLI583",
}
_WRITTEN = re.compile(rf"(?P<id>{WRITTEN})(?P<paragraph>{PARAGRAPH})?", re.IGNORECASE)


@dataclass(frozen=True)
class CableId:
    """An ID's parts.

    >>> parse("09SHANGHAI374")
    CableId(year='09', post='SHANGHAI', number=374)
    >>> str(parse("09 SECSTATE 012345"))
    '09STATE12345'
    """

    year: str  # two digits, as the ID writes it: "09"
    post: str  # as IDs spell it: "SHANGHAI", "STATE", "USUNNEWYORK"
    number: int

    def __str__(self) -> str:
        return f"{self.year}{self.post}{self.number}"


def repair(raw: str) -> str:
    """A WikiLeaks ID with a garbled section line or caveat, repaired; others unchanged.

    >>> repair("08SCTION02OF02SAOPAULO335"), repair("09EFTOLONDON2468"), repair("09STATE1")
    ('08SAOPAULO335', '09LONDON2468', '09STATE1')
    >>> repair("08SECTION01GF02BISHIEK21")
    '08BISHKEK1021'
    """
    return _MALFORMED.get(raw) or _GARBLE.sub(r"\1", raw, count=1)


def parse(text: str) -> CableId:
    """The parts of a cable ID written any common way; InvalidInputError if it is none.

    >>> parse("08ECTION01OF02MANAMA492")
    CableId(year='08', post='MANAMA', number=492)
    >>> parse("84 percent")
    Traceback (most recent call last):
    cables.errors.InvalidInputError: '84 percent' is not a cable ID like 09SHANGHAI374
    """
    m = _PARTS.fullmatch(repair("".join(str(text).split()).upper()))
    if not m or int(m[3]) == 0:
        raise InvalidInputError(f"{text!r} is not a cable ID like 09SHANGHAI374")
    return CableId(m[1], id_post(m[2]), int(m[3]))


def canonical(text: str) -> str:
    """The ID as the index keys it; InvalidInputError if `text` is no cable ID.

    >>> canonical("09secstate012345"), canonical("09 USUN NEW YORK 7")
    ('09STATE12345', '09USUNNEWYORK7')
    """
    return str(parse(text))


def is_id(text: str) -> bool:
    """Whether `text` is a cable ID, written any way `parse` reads.

    >>> is_id("09SHANGHAI0374"), is_id("08ECTION01OF02MANAMA492"), is_id("Cablegate: Labor")
    (True, True, False)
    """
    try:
        parse(text)
    except InvalidInputError:
        return False
    return True


def mentions(text: str) -> list[tuple[str, int | None]]:
    """Cable IDs (with the paragraph, when one follows) written in free text, canonical,
    in order, each once. Not checked against any index: "in 84 percent" is not an ID,
    but "2009 PARTY 12" could be.

    >>> mentions("compare 09 SHANGHAI 374 para 9 with 09shanghai374 and 07BEIJING2459 ¶3")
    [('09SHANGHAI374', 9), ('09SHANGHAI374', None), ('07BEIJING2459', 3)]
    """
    found = []
    for m in _WRITTEN.finditer(text):
        try:
            cable_id = canonical(m["id"])
        except InvalidInputError:
            continue
        paragraph = int(re.findall(r"\d+", m["paragraph"])[-1]) if m["paragraph"] else None
        found.append((cable_id, paragraph))
    return list(dict.fromkeys(found))


def without_mentions(text: str) -> str:
    """`text` with its cable IDs (and their paragraphs) blanked out.

    >>> without_mentions("what does 09SHANGHAI374 ¶9 say about hukou?")
    'what does   say about hukou?'
    """
    return _WRITTEN.sub(" ", text)


def citation(cable_id: str, paragraph: int) -> str:
    """The text form historians use.

    >>> citation("09SHANGHAI374", 9)
    '09SHANGHAI374 ¶9'
    """
    return f"{cable_id} ¶{paragraph}"
