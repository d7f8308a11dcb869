"""Header fields of a raw telegram: ID, date, origin, addressees, classification, TAGS,
SUBJECT, REF.

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

# Precedence (R, P, O, Z; two of them, `PP` or `P R`, for action and info addressees) then
# the date-time group.
_DTG = re.compile(r"(?m)^[ \t]*[ZOPRM](?:[ \t]?[ZOPRM])?[ \t]+(\d{2})(\d{2})(\d{2})Z[ \t]+([A-Z]{3})[ \t]+(\d{2})[ \t]*$")
_DE = re.compile(r"(?m)^[ \t]*DE[ \t]+(R[A-Z]{3,6})[ \t]+#(\d{1,5})")
_FM = re.compile(r"(?m)^[ \t]*FM[ \t]+([A-Z][A-Z0-9 ./'-]*?)[ \t]*$")
# The action addressees: a `TO` line right after the FM line, one addressee a line up to
# `INFO` (the info addressees), a blank line or anything that is no address line.
_TO = re.compile(r"\n[ \t]*TO(?:[ \t]+|(?=R[A-Z]{3,7}/))")  # `TORUEHC/SECSTATE WASHDC`: one dump lost the blank
_ADDRESS_LINE = re.compile(r"[ \t]*(?:(?:R[A-Z]{3,7}|ZEN)/)?([A-Z][A-Z0-9 .,&'()/-]*)")
# What follows an addressee on its line: the precedence (`IMMED` where a line broke it) and
# the serial number (or numbers, one per section) of the message to that addressee.
_ADDRESS_TAIL = re.compile(r"(?:[ \t]+(?:FLASH|NIACT|IMMEDIATE|IMMED|PRIORITY|PRIOITY|ROUTINE))*"
                           r"(?:[ \t]+\d{1,5}(?:-\d{1,5})?|(?<=[A-Z])\d{4})?[ \t]*$")  # `WASHDC0000`
# The classification line: `UNCLAS SECTION 01 OF 02 GUANGZHOU 000054`. No word boundary
# before it on purpose: one dump glues it to the last address (`HONOLULU HIUNCLAS ...`).
_CLASS_LINE = re.compile(
    r"(?m)(UNCLAS(?:SIFIED)?|C[ \t]?O[ \t]?N[ \t]?F[ \t]?I[ \t]?D[ \t]?E[ \t]?N[ \t]?T[ \t]?I[ \t]?A[ \t]?L"
    r"|S[ \t]?E[ \t]?C[ \t]?R[ \t]?E[ \t]?T)"
    r"(?:[ \t]+(?:E[ \t]?F[ \t]?T[ \t]?O|NOFORN|SENSITIVE|SBU)\b)*"
    r"[ \t]+(?:S[A-Z]{4,6}[ \t]+\d{1,2}[ \t]+OF[ \t]+\d{1,2}[ \t]+)?"
    r"([A-Z][A-Z .]{1,30}?)[ \t]+(\d{6})(?!\d)")
_PAGE_LINE = re.compile(r"(?m)^[ \t]*([A-Z][A-Z .]{1,30}?)[ \t]+(\d{8})[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}[ \t]*$")
# A header field at a line start. REF comes as `REF:`, `REFS:`, `Ref(s):`, `REFTEL:`,
# `REF.`, `REF...` and, before its first lettered item, `REF A ...` with no colon.
_FIELD = re.compile(
    r"(?m)^[ \t]*(TAGS|Tags|SUBJECT|Subject|SUBJ|REFTELS|REFTEL|Reftels|Reftel|REFS|REF\(S\)|Refs|Ref\(s\)|REF|Ref"
    r"|E\.[ \t]?O\.[ \t]?12958|EO[ \t]12958|Classified[ \t][Bb]y|CLASSIFIED[ \t]BY)\b"
    r"(:|(?<=REF)\.+:?|(?<=REF)[ \t](?=[ \t]*(?:[A-Z][:)]?[ \t]|[A-Z]{3,}[ \t]+\d))|(?<=Ref)[ \t](?=[ \t]*[A-Z]:)|)[ \t]*(.*)$")
_TAGS_IN_LINE = re.compile(r"\bTAGS:[ \t]*(.+)")
_NEEDS_COLON = {"Tags", "Subject", "REFTEL", "REFTELS", "Reftel", "Reftels", "REFS", "REF", "Ref",
                "Refs", "REF(S)", "Ref(s)"}  # else they are prose
# A cable body run into a header line: `REF: STATE 74305  (SBU) According to ...`,
# `... REASON: 1.4 (b), (d) 1. (C) Embassy Tripoli ...`, `REF: TBILISI 1362 1. (SBU)`.
# (Not the `C. (C) GUANGZHOU 510` of a lettered REF list.)
_RUN_IN_BODY = re.compile(r"\((?<![A-Z]\.[ \t]\()(?<=[ \t\n]\()(?:SBU|C|S|U)(?://?NF)?\)[ \t]"
                          r"|1(?<=[ \t]1)\.?[ \t]*\((?:SBU|C|S|U|S/NF|C/NF)\)"
                          r"|1(?<=[ \t]1)\.[ \t]+(?=Summary|SUMMARY|Key Points)")
# A REF list the body runs into with no marking: `REF: SECSTATE 165115 1. Post grants ...`,
# `REF: SECSTATE 102414 We delivered points in reftel to ...`.
_RUN_IN_SENTENCE = re.compile(r"(?<=\d)[ \t]+(?:1\.[ \t]+(?=[A-Z])|(?=[A-Z][a-z]+(?:[ \t]+[a-z]+){3}))")
_REF_LABEL_IN_LINE = re.compile(r"(?:(?<=[ \t])|(?<=[A-Z]))(?:REFS?|Refs?|REFTELS?|Reftels?)\.?:|\b(?:REF|Ref)\([Ss]\):?")
# Where the numbered text starts; header fields are only looked for before it.
_FIRST_PARAGRAPH = re.compile(r"(?m)^[ \t]*(?:¶[ \t]*\d{1,3}|1{1,2})\.(?!\d)")
# A REF label run into a subject line: `... TRADE REF: A. ...`, `Ref(s): A) ...`, `EGYPTREF:`.
_REF_RUN_IN = re.compile(r"(?:REFS?|Refs?|REFTELS?|Reftels?)(?:\.?:|(?=[ \t]+[A-Z][.:)][ \t]))|(?:REF|Ref)\([Ss]\):?")
# What ends a subject or a REF list run into the line: the classification authority, the
# SBU caveat, a classification line, a page header, a rule, the first paragraph, and what
# follows a subject cut short with `...`.
_TEXT_END_PATTERN = (  # (no leading blanks: each branch starts with what it looks for, which is fast)
    r"\b(?:[Cc]lassified|CLASSIFIED)[ \t]+(?:[Bb]y|BY)\b|\b(?:Derived|DERIVED)[ \t]+(?:from|FROM):"
    r"|\b(?i:sensi?tive[ \t]+but[ \t]+unclassified)"
    r"|\bC[ \t]?O[ \t]?N[ \t]?F[ \t]?I[ \t]?D[ \t]?E[ \t]?N[ \t]?T[ \t]?I[ \t]?A[ \t]?L\b"
    r"|\b(?:UNCLAS|CONFIDENTIAL|SECRET)[ \t]+(?:SECTION|[A-Z][A-Z ]{1,30}[ \t]\d{6}\b)"
    r"|\b[A-Z][A-Z .]{1,30}?[ \t]+\d{8}[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}"
    r"|\b(?:CONFIDENTIAL[ \t]+|UNCLASSIFIED[ \t]+|SECRET[ \t]+)?PAGE[ \t]+\d{2,3}\b"
    r"|-{5,}|(?<=\.\.\.)[ \t]*\S|(?<=[A-Za-z0-9]\.\.)(?!\.)[ \t]*\S|\bid:[ \t]*\d+[ \t]+date:"
    r"|(?<=[ \t])¶?[ \t]*1\.?[ \t]*\((?:SBU|C|S|U|S/NF|C/NF)\)|(?<=[ \t])¶?1\.[ \t]+(?=Summary|SUMMARY)"
    r"|\bVZCZC|\b[OPRZ][ \t]+\d{6}Z\b")  # a telegram header run into the line
_TEXT_END = re.compile(_TEXT_END_PATTERN)
_REF_END = re.compile(_TEXT_END_PATTERN + r"|\bNOTE:[ \t]")  # `LONDON 2199 NOTE: FOR TECHNICAL ...`
_FIELD_END = re.compile(r"(?<=[ \t])(?=(?:REFS?|Refs?|REFTELS?|Reftels?)(?:\.?:|[ \t]+[A-Z][.:)][ \t]))"
                        r"|\b(?=(?:REF|Ref)\([Ss]\))|(?<=[A-Z])(?=REF:)|" + _TEXT_END_PATTERN)
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
    recipients: tuple[str, ...]
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
    if "\\" in text:  # a backslash ending a line is the mirror's line continuation (`DIPLOMATIC \\`)
        return "\n".join(line.rstrip().removesuffix("\\").rstrip() for line in text.split("\n"))
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


# Lines inside a REF list that belong to the page, not the list: a page header, a bare
# classification line (older telegrams repeat both at each page break).
_FURNITURE_LINE = re.compile(
    r"[ \t]*(?:(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|UNCLAS)[ \t]*"
    r"|(?:PAGE[ \t]+\d{2,3}[ \t]+.*)|[A-Z][A-Z .]{1,30}?[ \t]+\d{8}[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}[ \t]*)$")
_OLD_PAGE_HEADER = re.compile(r"\bPAGE[ \t]+\d{2,3}[ \t]+[A-Z][A-Z .]{1,30}?[ \t]+\d{4,6}[ \t]+\d{2}[ \t]+OF[ \t]+\d{2}"
                              r"(?:[ \t]+\d{6}Z)?")
# A lettered item on a line of its own: `¶B. 05 BEIJING 20606`, `(C) State 29549`, `REF B: ...`;
# what follows the label must look like a reference, so `(U) PolOffs delivered ...` is body.
_REF_LINE = re.compile(r"[ \t]*(?:¶[ \t]?)?(?:\(?[A-Za-z][.)]|\([A-Za-z]\)|(?:REF|Ref)[ \t]+[A-Z]\b:?)[ \t]*"
                       r"(?:\(?\d{2,4}\)?[ \t]+)?(?:[A-Z][A-Za-z .'/-]{1,30}?[ \t]*\d"
                       r"|(?i:e-?mail|telcon|memo|letter|septel|reftel|\d))")


def _tags_go_on(previous: str, line: str) -> bool:
    """Whether `line` continues a TAGS line, as cablemap reads it: after a trailing comma, or
    when it holds only tag codes, or it ends a tag of several words (`COUNTRY` / `CLEARANCE`);
    not the subject of a cable that dropped its `SUBJECT:` label.

    >>> _tags_go_on("TAGS: OVIP PREL KPAL FR IR RS", "NATO, UK, CN"), _tags_go_on("TAGS: PREL LY", "QADHAFI LAYS OUT GOALS")
    (True, False)
    """
    if previous.rstrip().endswith(","):
        return True
    line = _TAG_END.split(line, maxsplit=1)[0]  # `ECON, PHUM, UK SUBJECT: MILIBAND'S ...`
    if all(_TAG_CODE.fullmatch(word) for word in re.split(r"[,\s]+", line.strip()) if word):
        return True
    return bool(_WORDS_TAG.match(f"{previous.split()[-1] if previous.split() else ''} {line.strip()}".upper()))


def _field_block(text: str, start: int, items: bool = False, tags: bool = False) -> tuple[str, int]:
    """The rest of a field line plus its wrapped continuation lines, and where it ends.

    With `items` (a REF list) the block goes on past blank lines, page headers and
    classification lines when the next line is another lettered item (`¶B. ROME 2196`);
    with `tags` only onto lines that `_tags_go_on`.
    """
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    parts = [text[start:end]]
    at = end
    while at < len(text):
        nxt = text.find("\n", at + 1)
        nxt = len(text) if nxt < 0 else nxt
        line = _OLD_PAGE_HEADER.sub("", text[at + 1:nxt]) if items else text[at + 1:nxt]
        if _PAGE_LINE.match(line) or items and (not line.strip() or _FURNITURE_LINE.match(line)):
            at = nxt  # look past it; `end` moves only when an item follows
            continue
        if at != end and not (items and _REF_LINE.match(line)) and not _PAGE_LINE.match(
                text, end + 1) or not line.strip():
            break
        field = _FIELD.match(line)
        if tags and not _tags_go_on(parts[-1], line) or _FIRST_PARAGRAPH.match(line) or field and not (
                items and field.group(1).upper().startswith("REF") and _REF_LINE.match(line)):
            break
        parts.append(line)
        at = end = nxt
    return " ".join(" ".join(parts).split()), end


def _run_in_body(text: str, start: int, end: int, items: bool) -> re.Match | None:
    """Where the body runs into a header field, if it does: `(C) ...` right after a `B.`
    or `(B)` item of a REF list (`items`) is item C, not a paragraph's marking."""
    for m in _RUN_IN_BODY.finditer(text, start, end):
        if m.start() == start:
            continue  # `SUBJECT: (C) ...`: the field's own marking
        letter = m.group().strip()[1:2]
        before = chr(ord(letter) - 1) if letter.isalpha() else ""
        item = items and before and re.search(rf"(?:\({before}\)|\b{before}[.)])", text[start:m.start()])
        if not item or _TEXT_END.search(text[start + item.end():m.start()]):
            return m
    return None


def _cut(value: str, end: re.Pattern) -> tuple[str, str]:
    """`value` up to the first match of `end`, and the rest from that match on."""
    m = end.search(value)
    return (value[:m.start()].strip(), value[m.start():].strip()) if m else (value, "")


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


# An item's letter label: `A.`, `A)`, `(A)`, `¶B.`, `a)`, `b.`, `REF A:`; taken only in
# sequence (A, B, C...), so `(C)` after `A.` is C's label and after `B.` is C's marking.
_REF_LABEL = re.compile(r"(?:^|(?<=[\s;,\d]))(?:¶[ \t]?)?(?:(?:REF|Ref)[ \t]+)?"
                        r"(?:\(([A-Za-z])[ \t]?\)|([A-Z])[.):]|([a-z])[.)])(?=[\s\(]|$|[A-Z][A-Za-z]|\d)"
                        r"|(?:^|(?<=\s))REF[ \t]+([A-Z])(?=[ \t])")  # `REF A SECRETARY'S LETTER`
_REF_MARKING = re.compile(r"^\((?:U|C|S|SBU|TS|S/NF|C/NF|U/FOUO)\)[ \t]*", re.I)
# Where a list without labels holds several references: `;`, or `,`/`and` before another.
_REF_SEPARATOR = re.compile(r"[ \t]*;[ \t]*|[ \t]*(?:,|,?[ \t]+(?:and|AND))[ \t]+"
                            r"(?=(?:\(?\d{2,4}\)?[ \t]+)?[A-Z][A-Za-z .'-]{1,25}?[ \t]+\d{1,6}\b)")
_REF_KINDS = re.compile(r"(?i)\b(?:e-?mails?|telcons?|tel\.? ?cons?|memo\w*|letters?|reports?|calls?"
                        r"|conversations?|meetings?|faxe?s?|notes?|demarches?|telephone|phone|cables?"
                        r"|message|non-paper|reftel|septel)\b")
_JUNK_ITEM = re.compile(r"(?i)^(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d{6}Z[ \t]+[A-Z]{3}[ \t]+\d{2}"
                        r"|[A-Z][A-Z .]{1,30}?[ \t]+\d{8}[ \t]+\d{3}(?:\.\d+)?[ \t]+OF[ \t]+\d{3}"
                        r"|PAGE[ \t]+\d{2,3}\b.*|none|n/a)$")
_REF_TRIM = " \t;,.:-"


def _ref_item(text: str) -> str:
    """One written reference, without separators, a leading marking or a dangling `and`."""
    item = " ".join(text.split()).strip(_REF_TRIM)
    item = _REF_MARKING.sub("", re.sub(r"^(?:REF|Ref)[ \t]+", "", item))
    item = re.sub(r"[ \t,;]+(?:and|AND)$", "", item).strip(_REF_TRIM)
    return item


def references(ref_text: str) -> tuple[str, ...]:
    """The items of a REF list as written, one string each, without their letter labels;
    page headers, DTGs, bare e-mail addresses and `NONE` are not references.

    >>> references("A. (C) SHANGHAI 66 ¶B. 2007 MANAGUA 2135 (C) ASUNCION 701 (08)")
    ('SHANGHAI 66', '2007 MANAGUA 2135', 'ASUNCION 701 (08)')
    >>> references("STATE 29549, Sao Paulo 276 and previous; TELCON 3/5 FISHER-SMITH")
    ('STATE 29549', 'Sao Paulo 276 and previous', 'TELCON 3/5 FISHER-SMITH')
    """
    starts: list[tuple[int, int, str]] = []  # (label start, label end, letter)
    expected = "A"
    for m in _REF_LABEL.finditer(ref_text):
        letter = next(g for g in m.groups() if g).upper()
        if starts and letter == starts[-1][2] and not ref_text[starts[-1][1]:m.start()].strip():
            starts[-1] = (starts[-1][0], m.end(), letter)  # `A. A) BAKU 494`: one label twice
        elif starts and letter == starts[-1][2] and ref_text[:m.start()].rstrip().endswith((",", ";")):
            starts.append((m.start(), m.end(), letter))  # `(B)STATE 146306, (B)STATE 178055`
        elif letter == expected or not starts and (
                letter > "A" and not ref_text[:m.start()].strip()  # a list that starts at `D)`
                or letter == "B" and ref_text[:m.start()].strip()):  # `STATE 1 B. STATE 2`
            starts.append((m.start(), m.end(), letter))
            expected = chr(ord(letter) + 1)
    if starts:
        pieces = [ref_text[:starts[0][0]]]
        for k, (_, end, letter) in enumerate(starts):
            piece = ref_text[end:(starts[k + 1][0] if k + 1 < len(starts) else len(ref_text))]
            # `¶B. B HAVANA 772`: the label's letter written again, bare, before the reference.
            piece = re.sub(rf"^[ \t]*{letter}[ \t]+(?=[A-Z][A-Za-z .'-]*?[ \t]\d)", "", piece)
            # `A) 05 VATICAN 475 ET AL.; WARSAW 799 ET AL.`: a `;` inside an item separates too.
            pieces += piece.split(";")
    else:
        pieces = _REF_SEPARATOR.split(ref_text)
    found = []
    for piece in pieces:
        item = _ref_item(piece)
        if not item or _JUNK_ITEM.match(item):
            continue
        if not any(ch.isdigit() for ch in item) and not _REF_KINDS.search(item):
            continue
        found.append(item)
    return tuple(dict.fromkeys(found))


def recipients(text: str, fm_end: int) -> tuple[str, ...]:
    """The action addressees (TO) of a header whose FM line ends at `fm_end`, as written but
    for the routing indicator, precedence and serial number; the INFO addressees are not.

    >>> recipients("FM AMCONSUL SHANGHAI\\nTO RUEHC/SECSTATE WASHDC PRIORITY 8243\\n"
    ...            "SECDEF WASHDC\\nINFO AMEMBASSY BEIJING 3039", 20)
    ('SECSTATE WASHDC', 'SECDEF WASHDC')
    """
    to = _TO.match(text, fm_end)
    if not to:
        return ()
    found, at = [], to.end()
    while True:
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        line = text[at:end]
        if cls := _CLASS_LINE.search(line):  # `HQ USPACOM HONOLULU HIUNCLAS SECTION 01 OF 04`
            line = line[:cls.start()]
        address = _ADDRESS_LINE.fullmatch(line)
        if not address or line.lstrip().startswith("INFO"):
            break
        # `JOINT STAFF WASHDC//J5//`: the office after `//` is routing detail.
        name = " ".join(_ADDRESS_TAIL.sub("", address.group(1).split("//")[0]).split())
        if name and not _FURNITURE_LINE.fullmatch(name):  # a page break inside the list
            found.append(name)
        if cls or end == len(text):
            break
        at = end + 1
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


# Where a TAGS block ends: the next field, or the page furniture of an older telegram
# (`UNCLASSIFIED PAGE 02 ...`, a spaced-out classification, `SECTION 01 OF 02`).
_TAG_END = re.compile(r"\b(?:SUBJECT|SUBJ|REF|CLASSIFIED BY|UNCLAS|UNCLASSIFIED|CONFIDENTIAL|SECRET|PAGE \d)\b"
                      r"|\b[A-Z](?: [A-Z]){4,}\b|\bSECTION \d|\bE\.[ ]?O\.")
_TAG = re.compile(r"\(([^()]{1,60})\)|([A-Z][A-Z0-9-]*[A-Z0-9])")
_TAG_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,5}(?:/[A-Z][A-Z0-9-]{0,5})*")  # `PREL`, `UNGA/C-6`
# Tags of more than one word, and person tags written without their comma, as cablemap
# reads them (its reader's _TAG_PATTERN and _TAG_FIXES): one tag each, in one spelling.
_WORDS_TAGS = {
    "HUMAN RIGHTS": "HUMAN RIGHTS", "GOI EXTERNAL": "GOI EXTERNAL", "GOI INTERNAL": "GOI INTERNAL",
    "POLITICAL PARTIES": "POLITICAL PARTIES", "COUNTRY CLEARANCE": "COUNTRY CLEARANCE",
    "MEDIA REACTION REPORT": "MEDIA REACTION REPORT", "FOREIGN POLICY": "FOREIGN POLICY",
    "DOMESTIC POLITICS": "DOMESTIC POLITICS", "IRAQI FREEDOM": "IRAQI FREEDOM",
    "CONSULAR AFFAIRS": "CONSULAR AFFAIRS", "ECONOMIC AFFAIRS": "ECONOMIC AFFAIRS",
    "ISRAELI PALESTINIAN AFFAIRS": "ISRAELI PALESTINIAN AFFAIRS", "COUNTER TERRORISM": "COUNTERTERRORISM",
    "CLINTON HILLARY": "CLINTON, HILLARY", "STEINBERG JAMES": "STEINBERG, JAMES B.",
    "BIDEN JOSEPH": "BIDEN, JOSEPH", "RICE CONDOLEEZZA": "RICE, CONDOLEEZZA",
    "ZOELLICK ROBERT": "ZOELLICK, ROBERT", "BUSH GEORGE": "BUSH, GEORGE W.",
}
_WORDS_TAG = re.compile(r"\b(?:" + "|".join(w.replace(" ", r"[ \t]+") for w in _WORDS_TAGS) + r")\b")


def parse_tags(value: str) -> tuple[str, ...]:
    """TAGS as a cable lists them: codes, person tags in parentheses kept whole, tags of
    several words (`HUMAN RIGHTS`, `CLINTON HILLARY`) as one; the text a wrapped TAGS block
    runs into (SUBJECT, a classification, a page header) is not a tag.

    >>> parse_tags("PGOV, PREL, CH, (STEINBERG, JAMES B.) C O N F I D E N T I A L")
    ('PGOV', 'PREL', 'CH', 'STEINBERG, JAMES B.')
    >>> parse_tags("ELAB, elab PGOV")
    ('ELAB', 'PGOV')
    >>> parse_tags("PHUM, IT, HUMAN RIGHTS UNCLASSIFIED PAGE 02")
    ('PHUM', 'IT', 'HUMAN RIGHTS')
    >>> parse_tags("OVIP CLINTON HILLARY PREL")
    ('OVIP', 'CLINTON, HILLARY', 'PREL')
    """
    value = _TAG_END.split(value.upper(), maxsplit=1)[0]
    tags = []
    for m in _TAG.finditer(_WORDS_TAG.sub(lambda w: "(" + _WORDS_TAGS[" ".join(w.group().split())] + ")",
                                          value)):
        person, code = m.groups()
        tags.append(" ".join((person or code).split()))
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
    subject, body_start, subject_at, ref_end = "", 0, -1, -1
    refs: tuple[str, ...] = ()
    for m in _FIELD.finditer(zone):
        if m.group(1) in _NEEDS_COLON and not m.group(2):
            continue
        name = m.group(1).upper()
        is_ref = name.startswith("REF")
        # `REF A SECRETARY'S LETTER`: with no colon the label's `REF` is part of the list.
        value, end = _field_block(zone, m.start(1) if m.group(2).isspace() else m.start(3), items=is_ref,
                                  tags=name == "TAGS")
        run_in = _run_in_body(zone, m.start(3), end, is_ref or name.startswith("SUBJ"))
        refs_from = m.start(3) if is_ref else (label.end() if name.startswith("SUBJ") and (
            label := _REF_LABEL_IN_LINE.search(zone, m.start(3), end)) else -1)
        if refs_from >= 0 and (sentence := _RUN_IN_SENTENCE.search(
                zone, refs_from, run_in.start() if run_in else end)):
            run_in = sentence
        if run_in:
            value, end = " ".join(zone[m.start(3):run_in.start()].split()), run_in.start()
        if name == "TAGS" and not tags:
            tags = parse_tags(value)
        elif name.startswith("SUBJ") and subject_at < 0:
            subject, rest = _cut(value, _FIELD_END)
            subject_at = m.start()
            if not refs and (label := _REF_RUN_IN.match(rest)):
                refs = references(_cut(_OLD_PAGE_HEADER.sub(" ", rest[label.end():]), _REF_END)[0])
        elif is_ref and (not refs or zone[ref_end:m.start()].strip() == ""):
            # A second `REF B:` line right after the first continues the same list.
            refs = tuple(dict.fromkeys(refs + references(
                _cut(_OLD_PAGE_HEADER.sub(" ", value), _REF_END)[0])))
            ref_end = end
        if subject_at < 0 or m.start() >= subject_at:
            body_start = max(body_start, end)
            if run_in:
                break  # the body has begun: a `SUBJECT:` further on is in its text
    if not tags and (run_in_tags := _TAGS_IN_LINE.search(zone)):
        tags = parse_tags(run_in_tags.group(1))  # `CAIRO 000941SIPDISE.O. 12958: ... TAGS: PTER`
    de = _DE.search(zone)
    cls = _CLASS_LINE.search(zone)
    post, number = _id_parts(text, cls, de)
    post = post.replace(" ", "").replace(".", "")
    post_number = f"{post}{int(number)}" if post and number.strip("0") else ""
    cable_id = f"{year}{post_number}" if post_number and year else ""
    fm = _FM.search(zone)
    if fm:
        origin = origin_name(fm.group(1))
    elif de and de.group(1) in ROUTING:
        origin = ROUTING[de.group(1)][1]
    else:
        origin = next((o for p, o in ROUTING.values() if p == post), "") if post else ""
    head = zone[:subject_at] if subject_at >= 0 else zone
    return Header(cable_id, post_number, date, origin, _classification(zone, head, cls), tags,
                  subject, refs, recipients(zone, fm.end()) if fm else (), body_start)
