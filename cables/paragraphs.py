"""Split a cable's text into the paragraphs the cable itself numbers.

Paragraph markers come as `¶3.`, `3.`, `3.(C)`, `(C) 3.`, `3 (C)` and, where a copy mangled
the `¶` into a `1`, as `13.`. A marker is accepted only where it continues the sequence, so
`13.` read while paragraph 3 is due is paragraph 3, and a wrapped year `¶2005.` inside
paragraph 7 is text. Page-break lines vanish, headings and the signature belong to no
paragraph, and a cable without markers is cut into blank-line blocks (`numbered=False`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from cables.records import Paragraph

# A portion marking such as (SBU), (C), (S/NF), (C//REL ISAF); not (U.S.) nor (Note: ...).
_MARK = r"(?i:TS|SBU|S|C|U)(?:[ \t]*(?:/{1,2}|-|[ \t])[ \t]*[A-Za-z][A-Za-z /]{0,24}?)?"
_MARKING = re.compile(rf"[ \t]*\([ \t]*({_MARK})[ \t]*\)[ \t]*")
# At a line start: `¶3.`, `3.`, `(C) 3.`, `3 (C)`, a typo'd `1, On August 8`, and with a
# marking `14) (U)` or `(13) (C)`; never `1.4` (a classification reason) nor a list's `1)` without a marking.
# Patterns that must match at a line start begin with "\n" and run on "\n" + text: a
# literal first character lets the regex engine skip ahead, which `(?m)^` does not.
_LINE_MARKER = re.compile(
    rf"\n[ \t]*(?:\([ \t]*(?P<pre>{_MARK})[ \t]*\)[ \t]*)?(?P<pil>¶[ \t]?)?\(?(?P<num>\d{{1,3}})"
    rf"(?:\.(?!\d)|,(?=[ \t]+[A-Z])|\)?(?=[ \t]*\([ \t]*{_MARK}[ \t]*\)))[ \t]*")
# Inside a line, after a heading, a rule or the classification reason run into it:
# `ARTICLE 98: 5. (C) ...`, `-------1.(U) ...`, `REASON: 1.4 (b), (d) 1. (C) ...`, and
# `---- 17.` with its marking on the next line. Found from the marking back to its number:
# markings are few, digits are many, so this is the fast way round.
_MARKING_OPEN = re.compile(rf"\((?=[ \t]*{_MARK}[ \t]*\))")
_NUMBER_BEFORE = re.compile(r"(\d{1,3})\.[ \t]*(?:\n[ \t]*){0,2}\Z")
_AFTER_INLINE = (" ", "\t", "-", "=", "_", "*")
# A number run into the text after a full stop or a bracket, with no marking: `... interest.
# 6. Venturelli noted ...`, `... complete article) 12. Argentina: ...`. Weak: taken only as
# the very next number, and a line-start marker wins over it.
_RUN_IN_NUMBER = re.compile(r"[.!?\"”)][ \t]{1,2}(?P<num>\d{1,2})\.[ \t]+(?=[A-Z])")
_PAGE_LINE = re.compile(r"\n[ \t]*[A-Z][A-Z .]{1,30}?[ \t]+\d{8}[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}[ \t]*(?=\n)")
# The page header of older telegrams, often run into the text: `PAGE 03 ROME 01196 01 OF 02 082030Z`.
# (Its `01 OF 02` may be missing: `PAGE 03 VATICA 00819 190632Z`.)
_OLD_PAGE = re.compile(r"PAGE[ \t]+\d{2,3}[ \t]+[A-Z][A-Z .]{1,30}?[ \t]+\d{4,6}"
                       r"(?:[ \t]+\d{2}[ \t]+OF[ \t]+\d{2})?[ \t]+\d{6}Z")
# Transmission furniture on a line of its own: the SIPDIS caveat, and the end of a raw
# telegram (`BT`, the sequence number `#0374`, `NNNN`).
_DROPPED_LINE = re.compile(r"\n[ \t]*(?:SIPDIS|NNNN|BT|#\d{3,5})[ \t]*(?=\n)")
_RULE_CHARS = " \t-=_*~"
_RULE = re.compile(r"[ \t]*[-=_*~ ]+$")
_HEADING_END = ('.', '?', '!', ':', ';', ',', '"', "'", '”', '’', ')')
_LIST_ITEM = re.compile(r"[ \t]*([-*•(]|[A-Za-z0-9]{1,3}[.)][ \t])")
# What follows a cable copied from a news site: the site's own furniture.
_NOT_CABLE = re.compile(r"[ \t]*(©|Copyright\b|World Headlines\b)")
_NAME = re.compile(r"[A-Z][A-Za-z'.-]+(?: [A-Z][A-Za-z'.-]+){0,2}")
# A signature run into the last line: after a full stop, a redaction or a web address
# (`... Classified Website: XXXXXXXXXXXX LEBARON`, `... restructuring. .FARRAR`).
_SIGNED_TAIL = re.compile(r"(?:(?<=[.!?\"”)*/])|(?<=XXXX)|(?<=\.[a-z]{3}))[ \t]+\.?"
                          r"((?:MINIMIZE CONSIDERED )?[A-Z][A-Za-z'-]+(?: [A-Z][A-Za-z'-]+){0,2})[ \t]*\.{0,3}$")
# ... or after a web address that a copy broke with a blank (`Portal:Unit ed_Kingdom LeBaron`).
_URL_SIGNED_TAIL = re.compile(r"https?://\S+(?:[ \t]\S*[_/.:]\S*)?[ \t]+([A-Z][A-Za-z'-]+(?: [A-Z][A-Za-z'-]+)?)"
                              r"[ \t]*\.{0,3}$")
_NOT_NAMES = {"END", "COMMENT", "SUMMARY", "NOTE", "TEXT", "ACTION", "REQUEST", "BACKGROUND",
              "CONFIDENTIAL", "SECRET", "UNCLASSIFIED", "SENSITIVE", "NOFORN", "THE", "THIS", "A",
              "AN", "IN", "IT", "WE", "HE", "SHE", "THEY", "REGARDS", "QUOTE", "UNQUOTE", "PART",
              "FOR", "AND", "OR", "OF", "TO", "ARTICLE", "ADDRESS", "UNOFFICIAL", "SOURCE", "TRANSLATION",
              "BEGIN", "CABLE"}
# What may follow the signature at the very end of a telegram: the end-of-message marks
# (`NNNN`, `BT`, `##`), a bare classification, a page header, the mirror's `CABLE ENDS`
# banner, its index line and `>` / `2002ROME01196 - Classification: CONFIDENTIAL` lines,
# a courtesy `REGARDS`, stray dots and quotes.
_TRAILER_LINE = re.compile(
    r"[ \t]*(?:=*[ \t]*CABLE ENDS[ \t]*=*|NNNN|BT|#+|#?\d{3,5}|\.{1,3}|[-=*_ ]+"
    r"|(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|UNCLAS|NOFORN|SENSITIVE|SIPDIS)(?:[ \t/]+(?:NOFORN|SIPDIS|SENSITIVE|EFTO|NF))*"
    r"|(?:BEST[ \t]+)?REGARDS,?|(?:Best[ \t]+)?[Rr]egards,?"
    r"|>?[ \t]*\d{4}[A-Z]+\d+ - Clas.*|\d+ \d\d/\d\d/\d{4} \d{4} .*|[>\"]+"
    r"|[A-Z][A-Z .]{1,30}?[ \t]+\d{8}[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}"
    r"|PAGE[ \t]+\d{2,3}[ \t]+[A-Z][A-Z .]{1,30}?[ \t]+\d{4,6}(?:[ \t]+\d{2}[ \t]+OF[ \t]+\d{2})?(?:[ \t]+\d{6}Z)?)[ \t]*$")
# A line before a signature line ends a sentence, a redaction, a web address, a row of
# asterisks or `End Comment`.
_BEFORE_SIGNATURE = re.compile(r"(?:[.!?\"”')*]|XXXX|\.[a-z]{2,4}/?|:|(?i:\bend[ \t]+(?:comment|text|note)))[ \t]*$")
_REASONS = re.compile(r"[ \t]*(?:Reasons?|REASONS?)[ \t]*:?[ \t]*1\.[45]")
_SUMMARY = re.compile(r"[ \t]*(?:\([A-Z/]{1,8}\)[ \t]*)?(?:SUMMARY|Summary)\b")
_MAX_JUMP = 3  # a cable may skip a number or two; a larger jump is text that looks like one
_GAP_PENALTY = 0.6  # per skipped number: more than a marker is worth, so gaps are a last resort


@dataclass(frozen=True)
class _Marker:
    start: int  # offset of the marker in the text
    text_at: int  # offset where the paragraph's text (or its marking) begins
    number: int
    strong: bool  # has a ¶ or a portion marking, so it is no list item
    inline: bool  # found inside a line rather than at its start
    marking: str  # a marking written before the number: `(C) 3.`


def _candidates(text: str) -> list[_Marker]:
    found = []
    padded = "\n" + text
    for m in _LINE_MARKER.finditer(padded):
        at = m.end() - 1  # offsets in `padded` are one past those in `text`
        if at == len(text) or text[at] == "\n" and not m.group("pre"):
            continue
        strong = bool(m.group("pil") or m.group("pre") or _MARKING.match(text, at))
        found.append(_Marker(m.start(), at, int(m.group("num")), strong, False,
                             (m.group("pre") or "").upper()))
    line_marker_ends = {marker.text_at for marker in found}
    for mark in _MARKING_OPEN.finditer(text):
        window = max(0, mark.start() - 16)
        if mark.start() in line_marker_ends or not (m := _NUMBER_BEFORE.search(text, window, mark.start())):
            continue
        start = m.start() - (text[m.start() - 1:m.start()] == "¶")
        if text[start - 1:start] in _AFTER_INLINE:
            found.append(_Marker(start, mark.start(), int(m.group(1)), True, True, ""))
    for m in _RUN_IN_NUMBER.finditer(text):
        found.append(_Marker(m.start("num"), m.end(), int(m.group("num")), False, True, ""))
    return sorted(found, key=lambda marker: marker.start)


def _readings(marker: _Marker) -> tuple[int, ...]:
    """The numbers a marker may stand for: `13.` is 13, or 3 with its `¶` mangled into a 1.

    >>> _readings(_Marker(0, 0, 13, True, False, "")), _readings(_Marker(0, 0, 13, False, False, ""))
    ((13, 3), (13,))
    """
    digits = str(marker.number)
    if marker.strong and not marker.inline and digits.startswith("1") and int(digits[1:] or 0):
        return marker.number, int(digits[1:])
    return (marker.number,)


def _sequence(markers: list[_Marker]) -> list[tuple[_Marker, int]]:
    """The markers that are paragraph numbers: the best increasing chain through them.

    Each step scores 1 (a bit more for a strong marker) less a penalty per number it skips,
    so `1, 2, 3, 4, 5` beats `1, 2, ¶4. End Summary, 5` and `13.` after `2.` reads as 3.
    A weak marker (no `¶`, no marking) or one inside a line must follow its predecessor
    exactly; no step skips more than _MAX_JUMP numbers.

    >>> ms = [_Marker(i, i, n, True, False, "") for i, n in enumerate([1, 2, 13, 14, 10])]
    >>> [number for _, number in _sequence(ms)]
    [1, 2, 3, 4]
    """
    # A chain is a linked list of (score, marker index, number, previous link), so a later
    # marker that reads better as number n never rewrites the chains built on an earlier n.
    best: dict[int, tuple] = {}  # number -> the best chain ending in it so far
    for i, marker in enumerate(markers):
        strict = marker.inline or not marker.strong
        gain = (1.0 if strict else 1.1) - (0.2 if marker.inline and not marker.strong else 0)
        for value in _readings(marker):
            options = [(gain - _GAP_PENALTY * (value - 1), None)] if value <= 1 + _MAX_JUMP else []
            for previous in range(max(1, value - 1 - _MAX_JUMP), value):
                if previous in best:
                    options.append((best[previous][0] + gain - _GAP_PENALTY * (value - 1 - previous),
                                    best[previous]))
            if strict:
                options = [o for o in options if (o[1][2] if o[1] else 0) == value - 1]
            if not options:
                continue
            score, previous = max(options, key=lambda o: (o[0], o[1][2] if o[1] else 0))
            if value not in best or score > best[value][0]:
                best[value] = (score, i, value, previous)
    if not best:
        return []
    link = max(best.values(), key=lambda c: (c[0], -c[2]))
    chain = []
    while link:
        _, i, value, link = link
        chain.append((markers[i], value))
    return chain[::-1]


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _is_heading(block: list[str]) -> bool:
    """A short title line (optionally underlined) or a rule, as between paragraphs."""
    lines = [line for line in block if not _RULE.match(line)]
    if not lines:
        return True
    if len(lines) > 1 or _LIST_ITEM.match(lines[0]):
        return False
    if len(block) > 1:
        return True
    line = lines[0].strip()
    return len(line) <= 80 and line[0].isupper() and not line.endswith(_HEADING_END)


def _signer_name(line: str) -> str:
    """The name on a signature line, '' when the line is no signature.

    >>> _signer_name("MINIMIZE CONSIDERED SCOBEY"), _signer_name("Susman."), _signer_name("The")
    ('SCOBEY', 'Susman', '')
    """
    name = line.strip().strip(".").strip()
    # `MINIMIZE CONSIDERED SCOBEY`; `CLINTON UNQUOTE CLINTON` ends a quoted cable, then signs.
    # A redaction or a title before the name (`XXXXXXXXXXXX TUTTLE`, `CDA Griffiths`) is no name.
    name = re.sub(r"^(?:(?i:minimize considered)|.*\bUNQUOTE|(?:X{4,}[ \t]*)+|CDA|Amb\.?|Ambassador)"
                  r"(?![A-Za-z])[ \t]*", "", name)
    words = name.split()
    if not words or not _NAME.fullmatch(name) or any(w.upper() in _NOT_NAMES or w.startswith("XXXX")
                                                     for w in words):
        return ""
    if len({w.upper() for w in words}) == 1:
        return words[0]  # `FRISBIE FRISBIE`, `SCOBEY Scobey`: one name written twice
    if len({w.isupper() for w in words}) > 1:
        return ""  # `Brownfield HAVEZ`: a name and what a copy glued to it
    return name


def _is_signature(block: list[str]) -> bool:
    return len(block) == 1 and bool(_signer_name(block[0]))


def _without_trailer(body: str) -> str:
    """The body without what follows the signature at the end of a telegram."""
    lines = body.rstrip().split("\n")
    while len(lines) > 1 and (not lines[-1].strip() or _TRAILER_LINE.fullmatch(lines[-1])):
        lines.pop()
    return "\n".join(lines)


def _join(lines: list[str]) -> str:
    """Lines as one paragraph text; a rule line (`-----`, a heading's underline) is no text."""
    return " ".join(" ".join(line.lstrip().removeprefix("¶") for line in lines
                             if line.strip(_RULE_CHARS)).split())


def _own_text(span: str, last: bool) -> tuple[list[str], str]:
    """A paragraph's lines without headings; the signer when the cable's signature ends it
    (a line of its own, or the last line of the last block after a finished sentence)."""
    blocks = _blocks(span) or [[""]]
    kept: list[str] = list(blocks[0])
    for k, block in enumerate(blocks[1:], start=1):
        if _NOT_CABLE.match(block[0]):
            break
        if last and _is_signature(block) and _is_heading(block):
            return kept, _signer_name(block[0])
        underlined = k + 1 < len(blocks) and all(_RULE.match(line) for line in blocks[k + 1])
        if not (underlined or _is_heading(block)):
            kept.extend(block)
    if last and len(kept) > 1 and _BEFORE_SIGNATURE.search(kept[-2]) and (name := _signer_name(kept[-1])):
        return kept[:-1], name
    return kept, ""


def _split_signer(text: str) -> tuple[str, str]:
    """'... to advance. Randt' -> ('... to advance.', 'Randt'): a signature run into the text."""
    if (m := _SIGNED_TAIL.search(text)) and (name := _signer_name(m.group(1))):
        return text[:m.start()].rstrip(), name
    tail = len(text) - 300 if len(text) > 300 else 0
    if (m := _URL_SIGNED_TAIL.search(text, tail)) and (name := _signer_name(m.group(1))):
        return text[:m.start(1)].rstrip(), name
    return text, ""


def _marking_and_text(text: str, marking: str) -> tuple[str, str]:
    m = _MARKING.match(text)
    if not m:
        return marking, text
    return " ".join(m.group(1).upper().split()), text[m.end():]


def _clean(body: str) -> str:
    body = _OLD_PAGE.sub("", "\n" + body + "\n")
    body = _PAGE_LINE.sub("", body)
    return _DROPPED_LINE.sub("", body)[1:-1]


def _lost_first(text: str) -> Paragraph | None:
    """The text before a cable's `¶2.` when the cable or a copy lost its `1.`: paragraph 1,
    when it opens like one (`Summary:`, a portion marking `(C) ...`, a `-- (SBU) ...` point).
    A `Reasons: 1.4 (b)` line left over from the classification authority is no text."""
    blocks = [b for b in _blocks(text) if not _is_heading(b) and not _REASONS.match(b[0])]
    if not blocks:
        return None
    opening = blocks[0][0].lstrip(" \t-")
    if not (_SUMMARY.match(opening) or _MARKING.match(opening)):
        return None
    marking, first = _marking_and_text(opening, "")
    return Paragraph(1, _join([first] + blocks[0][1:] + [line for b in blocks[1:] for line in b]),
                     marking)


def split_paragraphs(body: str) -> tuple[tuple[Paragraph, ...], bool, str]:
    """Paragraphs, whether the cable numbered them, and the signer, from normalised text.

    >>> ps, numbered, signer = split_paragraphs("1. (SBU) One.\\n\\nHeading\\n\\n12. (U) Two\\nlines.\\n\\nCAMP")
    >>> [(p.number, p.marking, p.text) for p in ps], numbered, signer
    ([(1, 'SBU', 'One.'), (2, 'U', 'Two lines.')], True, 'CAMP')
    """
    body = _without_trailer(_clean(body))
    accepted = _sequence(_candidates(body))
    if not accepted:
        return _unnumbered(body)
    paragraphs = []
    if accepted[0][1] == 2 and (lost := _lost_first(body[:accepted[0][0].start])):
        paragraphs.append(lost)
    signer = ""
    for k, (marker, number) in enumerate(accepted):
        last = k + 1 == len(accepted)
        end = len(body) if last else accepted[k + 1][0].start
        marking, span = _marking_and_text(body[marker.text_at:end], marker.marking)
        kept, signer = _own_text(span, last)
        text = _join(kept)
        if last and not signer:
            text, signer = _split_signer(text)
        paragraphs.append(Paragraph(number, text, marking))
    return tuple(paragraphs), True, signer


def _unnumbered(body: str) -> tuple[tuple[Paragraph, ...], bool, str]:
    blocks = _blocks(body)
    paragraphs: list[Paragraph] = []
    signer = ""
    for k, block in enumerate(blocks):
        if _NOT_CABLE.match(block[0]):
            break
        if _is_heading(block):
            if k == len(blocks) - 1 and paragraphs and _is_signature(block):
                signer = _signer_name(block[0])
            continue
        marking, first = _marking_and_text(block[0], "")
        paragraphs.append(Paragraph(len(paragraphs) + 1, _join([first] + block[1:]), marking))
    return tuple(paragraphs), False, signer
