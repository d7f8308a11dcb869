"""Header fields of a raw telegram: ID, date, origin, classification, TAGS, SUBJECT, REF.

Works on text as it reaches us from every source (the telegram itself, cables.csv header
plus body, an HTML page's two <pre> blocks, a copy pasted from a web page): `normalise`
first undoes what copying did to it, then `parse_header` reads each field wherever it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from cables.posts import ROUTING, origin_name

_MONTHS = {m: i for i, m in enumerate(
    "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}

# `[ELAB](#)` and `[1](#)` are links left over from a WikiLeaks page copied as markdown;
# `[1](#)` at a line start is the page's `¶` link with the `¶` mangled into a 1.
_MD_PILCROW = re.compile(r"(?m)^([ \t]*)\[1\]\(#\)")
_MD_LINK = re.compile(r"\[([^\]\n]{0,60})\]\(#\)")
_MD_HEADING = re.compile(r"(?m)^#{1,6}[ \t]+")

# Precedence (R, P, O, Z, doubled for two addressees) then the date-time group.
_DTG = re.compile(r"(?m)^[ \t]*[ZOPRM]{1,2}[ \t]+(\d{2})(\d{2})(\d{2})Z[ \t]+([A-Z]{3})[ \t]+(\d{2})[ \t]*$")
_DE = re.compile(r"(?m)^[ \t]*DE[ \t]+(R[A-Z]{3,6})[ \t]+#(\d{1,5})")
_FM = re.compile(r"(?m)^[ \t]*FM[ \t]+([A-Z][A-Z0-9 ./'-]*?)[ \t]*$")
# The classification line: `UNCLAS SECTION 01 OF 02 GUANGZHOU 000054`. No word boundary
# before it on purpose: one dump glues it to the last address (`HONOLULU HIUNCLAS ...`).
_CLASS_LINE = re.compile(
    r"(?m)(UNCLAS(?:SIFIED)?|C[ \t]?O[ \t]?N[ \t]?F[ \t]?I[ \t]?D[ \t]?E[ \t]?N[ \t]?T[ \t]?I[ \t]?A[ \t]?L"
    r"|S[ \t]?E[ \t]?C[ \t]?R[ \t]?E[ \t]?T)"
    r"(?:[ \t]+(?:E[ \t]?F[ \t]?T[ \t]?O|NOFORN|SENSITIVE|SBU)\b)*"
    r"[ \t]+(?:S[A-Z]{4,6}[ \t]+\d{1,2}[ \t]+OF[ \t]+\d{1,2}[ \t]+)?"
    r"([A-Z][A-Z .]{1,30}?)[ \t]+(\d{6})(?!\d)")
_PAGE_LINE = re.compile(r"(?m)^[ \t]*([A-Z][A-Z .]{1,30}?)[ \t]+(\d{8})[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}[ \t]*$")
_FIELD = re.compile(
    r"(?m)^[ \t]*(TAGS|Tags|SUBJECT|Subject|SUBJ|REFTEL|REFS|REF|Ref|E\.[ \t]?O\.[ \t]?12958|EO[ \t]12958"
    r"|Classified[ \t][Bb]y|CLASSIFIED[ \t]BY)\b(:?)[ \t]*(.*)$")
_NEEDS_COLON = {"Tags", "Subject", "REFTEL", "REFS", "REF", "Ref"}  # else they are prose
# A cable body run into a header line: `REF: STATE 74305  (SBU) According to ...`.
# (Not the `C. (C) GUANGZHOU 510` of a lettered REF list.)
_RUN_IN_BODY = re.compile(r"(?<![A-Z]\.)[ \t]\((?:SBU|C|S|U)(?://?NF)?\)[ \t]")
# Where the numbered text starts; header fields are only looked for before it.
_FIRST_PARAGRAPH = re.compile(r"(?m)^[ \t]*(?:¶[ \t]*\d{1,3}|1{1,2})\.(?!\d)")
_REF_ITEM = re.compile(r"\b(?:(\d{2})[ \t]+)?([A-Z][A-Z]{2,}(?:[ \t][A-Z]{2,}){0,3})[ \t]+(\d{1,6})\b")
_REF_NOISE = {"REF", "REFS", "REFTEL", "AND", "PARA", "PARAS", "PARAGRAPH", "SECTION", "OF", "TO", "ON", "DTD"}
_NAMES = {"UNCLAS": "UNCLASSIFIED", "UNCLASSIFIED": "UNCLASSIFIED", "CONFIDENTIAL": "CONFIDENTIAL",
          "SECRET": "SECRET"}


@dataclass(frozen=True)
class Header:
    id: str  # "" when the text has no date-time group to give the year
    post_number: str  # the ID without its year: "GUANGZHOU54"
    date: str
    origin: str
    classification: str
    tags: tuple[str, ...]
    subject: str
    references: tuple[str, ...]
    body_start: int  # offset in the normalised text where the cable's own text begins


def normalise(text: str) -> str:
    """Undo what copying did: CRLF, Unicode line separators, non-breaking spaces, trailing
    blanks, markdown links.

    >>> normalise("TAGS: [ELAB](#) [CH](#)  \\r\\n[1](#)1. (SBU) Summary")
    'TAGS: ELAB CH\\n¶1. (SBU) Summary'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    if "](#)" in text:
        text = _MD_LINK.sub(r"\1", _MD_PILCROW.sub(r"\1¶", text))
    if "#" in text:
        text = _MD_HEADING.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def dtg_date(text: str) -> tuple[str, str]:
    """ISO date and two-digit year of the first date-time group.

    >>> dtg_date("R 300723Z JAN 09")
    ('2009-01-30T07:23', '09')
    """
    m = _DTG.search(text)
    if not m or m.group(4) not in _MONTHS:
        return "", ""
    day, hour, minute, month, year = m.groups()
    if not (1 <= int(day) <= 31 and int(hour) < 24 and int(minute) < 60):
        return "", ""
    century = "19" if int(year) > 50 else "20"
    return f"{century}{year}-{_MONTHS[month]:02d}-{day}T{hour}:{minute}", year


def _field_block(text: str, start: int) -> tuple[str, int]:
    """The rest of a field line plus its wrapped continuation lines, and where it ends."""
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    parts = [text[start:end]]
    while end < len(text):
        nxt = text.find("\n", end + 1)
        nxt = len(text) if nxt < 0 else nxt
        line = text[end + 1:nxt]
        if not line.strip() or _FIELD.match(line) or _FIRST_PARAGRAPH.match(line):
            break
        parts.append(line)
        end = nxt
    return " ".join(" ".join(parts).split()), end


def _classification(text: str, head: str, match: re.Match | None) -> str:
    if match is None:
        return ""
    name = _NAMES.get(match.group(1).replace(" ", "").replace("\t", ""), "")
    window = text[match.start(): match.end() + 200] + " " + head
    if name == "UNCLASSIFIED" and re.search(r"\b(SENSITIVE|SBU)\b", window):
        return "UNCLASSIFIED//FOR OFFICIAL USE ONLY"
    if name != "UNCLASSIFIED" and re.search(r"\bNOFORN\b", window):
        return f"{name}//NOFORN"
    return name


def references(ref_text: str) -> tuple[str, ...]:
    """Cable references as written in a REF block.

    >>> references("A. (A) SHANGHAI 66 ¶B. (B) 05 BEIJING 20606")
    ('SHANGHAI 66', '05 BEIJING 20606')
    """
    found = []
    for m in _REF_ITEM.finditer(ref_text):
        year, post, number = m.groups()
        words = [w for w in post.split() if w not in _REF_NOISE]
        if not words or post.split()[0] in _REF_NOISE:
            continue
        found.append(" ".join(filter(None, (year, " ".join(words), number))))
    return tuple(dict.fromkeys(found))


def _id_parts(text: str, cls: re.Match | None, de: re.Match | None) -> tuple[str, str]:
    """Post and number: from the classification line, else a page-break line, else DE."""
    if cls:
        return cls.group(2), cls.group(3)
    if page := _PAGE_LINE.search(text):
        return page.group(1), page.group(2)
    if de and de.group(1) in ROUTING:
        return ROUTING[de.group(1)][0], de.group(2)
    return "", ""


_TAG_END = re.compile(r"\b(?:SUBJECT|SUBJ|REF|CLASSIFIED BY)\b|\b[A-Z](?: [A-Z]){4,}\b|\bSECTION \d")
_TAG = re.compile(r"\(([^()]{1,60})\)|([A-Z][A-Z0-9-]*[A-Z0-9])")


def parse_tags(value: str) -> tuple[str, ...]:
    """TAGS as a cable lists them: codes, and person tags in parentheses kept whole; the
    text a wrapped TAGS block runs into (SUBJECT, a spaced-out classification) is not a tag.

    >>> parse_tags("PGOV, PREL, CH, (STEINBERG, JAMES B.) C O N F I D E N T I A L")
    ('PGOV', 'PREL', 'CH', 'STEINBERG, JAMES B.')
    >>> parse_tags("ELAB, elab PGOV")
    ('ELAB', 'PGOV')
    """
    value = _TAG_END.split(value.upper(), maxsplit=1)[0]
    tags = (" ".join((person or code).split()) for person, code in _TAG.findall(value))
    return tuple(dict.fromkeys(t for t in tags if t))


def parse_header(text: str) -> Header:
    """Every header field found in normalised telegram text; '' or () where absent.

    >>> h = parse_header("R 300723Z JAN 09\\nFM AMCONSUL GUANGZHOU\\nUNCLAS GUANGZHOU 000054")
    >>> h.id, h.date, h.origin, h.classification
    ('09GUANGZHOU54', '2009-01-30T07:23', 'Consulate Guangzhou', 'UNCLASSIFIED')
    """
    date, year = dtg_date(text)
    first = _FIRST_PARAGRAPH.search(text)
    zone = text[:first.start()] if first else text
    tags: tuple[str, ...] = ()
    subject, refs, body_start, subject_at = "", (), 0, -1
    for m in _FIELD.finditer(zone):
        if m.group(1) in _NEEDS_COLON and not m.group(2):
            continue
        name = m.group(1).upper()
        value, end = _field_block(zone, m.start(3))
        if run_in := _RUN_IN_BODY.search(zone, m.start(3), end):
            value, end = " ".join(zone[m.start(3):run_in.start()].split()), run_in.start()
        if name == "TAGS" and not tags:
            tags = parse_tags(value)
        elif name.startswith("SUBJ") and subject_at < 0:
            subject, _, rest = value.partition(" REF: ")
            subject_at = m.start()
            refs = references(rest) if rest else refs
        elif name.startswith("REF") and not refs:
            refs = references(value)
        if subject_at < 0 or m.start() >= subject_at:
            body_start = max(body_start, end)
    de = _DE.search(zone)
    cls = _CLASS_LINE.search(zone)
    post, number = _id_parts(text, cls, de)
    post = post.replace(" ", "").replace(".", "")
    post_number = f"{post}{int(number)}" if post and number.strip("0") else ""
    cable_id = f"{year}{post_number}" if post_number and year else ""
    if fm := _FM.search(zone):
        origin = origin_name(fm.group(1))
    elif de and de.group(1) in ROUTING:
        origin = ROUTING[de.group(1)][1]
    else:
        origin = next((o for p, o in ROUTING.values() if p == post), "") if post else ""
    head = zone[:subject_at] if subject_at >= 0 else zone
    return Header(cable_id, post_number, date, origin, _classification(zone, head, cls), tags,
                  subject, refs, body_start)
