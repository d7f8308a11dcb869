"""A cable page of the cablegate.wikileaks.org mirror: a table (Reference ID, Created,
Released, Classification, Origin) and the telegram in <pre> blocks (header, then body).

Read with plain string searches and a bounded tag pattern, never a tree, so deeply nested or
broken markup costs linear time and no recursion.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from cables.cable_text import cable_from_text
from cables.errors import CableParseError
from cables.inputs import check_text, decode, read_bytes
from cables.records import Cable

_TAG = re.compile(r"<[^<>]{0,2000}>")
_CELL = re.compile(r"<td[^<>]{0,200}>(.{0,2000}?)</td>", re.S | re.I)
_TABLE_FIELDS = ("id", "date", "released", "classification", "origin")


def _blocks(page: str, start_tag: str, end_tag: str) -> list[str]:
    found, at = [], 0
    while (start := page.find(start_tag, at)) >= 0:
        end = page.find(end_tag, start)
        if end < 0:
            break
        found.append(page[start + len(start_tag):end])
        at = end + len(end_tag)
    return found


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def _table(page: str) -> dict[str, str]:
    start = page.find("<table class='cable'>")
    end = page.find("</table>", start)
    if start < 0 or end < 0:
        return {}
    cells = [" ".join(_text(c).split()) for c in _CELL.findall(page[start:end])]
    fields = dict(zip(_TABLE_FIELDS, cells))
    date = fields.get("date", "")
    fields["date"] = date.replace(" ", "T") if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", date) else ""
    fields.pop("released", None)
    return {k: v for k, v in fields.items() if v}


def read_html(path: Path) -> Cable:
    """One cable from a mirror page; CableParseError when the page holds none."""
    data = read_bytes(path)
    check_text(path, data)
    page = decode(data)
    pres = [_text(p) for p in _blocks(page, "<pre>", "</pre>")]
    if not pres:
        raise CableParseError(path, "no cable text (<pre>) in the page")
    return cable_from_text("\n\n".join(pres), str(path), _table(page))
