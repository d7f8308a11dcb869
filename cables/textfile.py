"""Raw cable text files: a telegram as sent, a copy from a web page, or a one-file-per-cable
dump that starts with five metadata lines (ID, subject, date, classification, origin)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from cables import ids
from cables.cable_text import cable_from_text
from cables.inputs import check_text, decode, read_bytes
from cables.records import Cable

_CLASSIFICATIONS = re.compile(r"(UNCLASSIFIED|CONFIDENTIAL|SECRET|TOP SECRET)(//[A-Z /]+)?")
# A page title such as "Cablegate: Labor Ngo Community Optimistic Despite Setbacks".
_TITLE = re.compile(r"\s*Cablegate:\s*(.+?)\s*$")


def _dump_date(value: str) -> str:
    """'Wed Feb 14 00:00:00 +0100 2007' -> '2007-02-13T23:00' (UTC); '' if not such a date."""
    try:
        when = datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return ""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M")


def _metadata(lines: list[str]) -> tuple[dict[str, str], dict[str, str], int]:
    """Stated and fallback fields from a dump's five metadata lines, and how many there are."""
    head = [line.strip() for line in lines[:5]]
    if len(head) == 5 and ids.is_id(head[0]) and _CLASSIFICATIONS.fullmatch(head[3]):
        stated = {"id": head[0], "subject": head[1], "classification": head[3],
                  "origin": head[4]}
        return stated, {"date": _dump_date(head[2])}, 5
    title = _TITLE.match(lines[0]) if lines else None
    return {}, ({"subject": title.group(1)} if title else {}), 0


def read_text_file(path: Path) -> Cable:
    """One cable from a text file; CableParseError when it holds none."""
    data = read_bytes(path)
    check_text(path, data)
    text = decode(data)
    lines = text.lstrip("\ufeff\r\n").splitlines()
    stated, fallback, skip = _metadata(lines)
    body = "\n".join(lines[skip:])
    return cable_from_text(body, str(path), stated, fallback)
