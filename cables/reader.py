"""Read cables from files and folders of any supported format.

>>> cables = list(read_cables("data/cables"))                      # doctest: +SKIP
>>> cables[0].id, cables[0].paragraphs[0].number                   # doctest: +SKIP
('09GUANGZHOU54', 1)

Formats (decided by content, then extension): raw telegram text (.txt), the cables.csv
layout (.csv, .csv.gz), cablegate.wikileaks.org pages (.html), the JSONL export (.jsonl).
One bad file or row never stops the rest: it becomes a CableParseError in the report.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from cables import ids
from cables.csvfile import read_csv
from cables.errors import CableParseError, InvalidInputError
from cables.htmlpage import read_html
from cables.inputs import sniff
from cables.jsonl import read_jsonl, write_jsonl
from cables.records import Cable
from cables.textfile import read_text_file

_SUMMARY_ITEMS = 5  # problems named in the summary line; the rest are counted
# A million bad rows must not mean a million errors (and their tracebacks) held in memory.
_KEPT_ERRORS = 1000
# A file that is mostly garbage (or a gzip bomb of bad rows) is abandoned, not read for hours.
_BAD_RECORDS_PER_FILE = 1000


@dataclass
class ParseReport:
    """What one read_cables run did: cables read, errors skipped, duplicate IDs dropped."""

    read: int = 0
    failed: int = 0  # every error, including those past the first _KEPT_ERRORS
    errors: list[CableParseError] = field(default_factory=list)  # the first _KEPT_ERRORS
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (id, dropped, kept)

    @property
    def skipped(self) -> int:
        return self.failed + len(self.duplicates)

    def add_error(self, error: CableParseError) -> None:
        self.failed += 1
        if len(self.errors) < _KEPT_ERRORS:
            # Drop the traceback: its frames would keep each bad row's text alive.
            error.__context__ = error.__cause__ = None
            self.errors.append(error.with_traceback(None))

    def summary(self) -> str:
        """'78 cables read, 2 skipped: a.txt: empty file; duplicate 09BEIJING22 in b.html'"""
        line = f"{self.read} cables read, {self.skipped} skipped"
        problems = [str(e) for e in self.errors] + [
            f"duplicate {cid} in {dropped} (kept {kept})" for cid, dropped, kept in self.duplicates]
        if not problems:
            return line
        shown = "; ".join(problems[:_SUMMARY_ITEMS])
        rest = self.skipped - min(len(problems), _SUMMARY_ITEMS)
        more = f"; and {rest} more" if rest else ""
        return f"{line}: {shown}{more}"


def _one(reader: Callable[[Path], Cable]) -> Callable[[Path], Iterator[Cable | CableParseError]]:
    def read(path: Path) -> Iterator[Cable | CableParseError]:
        yield reader(path)
    return read


_READERS: dict[str, Callable[[Path], Iterator[Cable | CableParseError]]] = {
    "txt": _one(read_text_file),
    "html": _one(read_html),
    "csv": read_csv,
    "jsonl": read_jsonl,
}


def _files(paths: Iterable[str | os.PathLike]) -> Iterator[Path | CableParseError]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                yield from (Path(root) / n for n in sorted(names) if not n.startswith("."))
        elif path.is_file():
            yield path
        else:
            yield CableParseError(path, "no such file or folder")


def _from_file(path: Path) -> Iterator[Cable | CableParseError]:
    bad = 0
    try:
        for result in _READERS[sniff(path)](path):
            yield result
            if isinstance(result, CableParseError):
                bad += 1
                if bad >= _BAD_RECORDS_PER_FILE:
                    yield CableParseError(path, f"stopped reading after {bad} bad records")
                    return
    except CableParseError as exc:
        yield exc
    except (OSError, EOFError) as exc:
        yield CableParseError(path, f"cannot read ({exc.__class__.__name__}: {exc})")


def _canonical(cable: Cable) -> Cable | CableParseError:
    """The cable under its canonical ID (`cables.ids`), or why it has none."""
    try:
        cable_id = ids.canonical(cable.id)
    except InvalidInputError:
        return CableParseError(cable.source, f"{cable.id!r} is not a cable ID")
    return cable if cable_id == cable.id else replace(cable, id=cable_id)


def read_cables(*paths: str | os.PathLike, report: ParseReport | None = None) -> Iterator[Cable]:
    """Every cable in the given files and folders (folders walked in name order), under
    its canonical ID.

    Errors and duplicate IDs (the first cable with an ID is kept) go to `report`. A cable
    whose ID had to be repaired (`08ECTION01OF02MANAMA492`) comes last: WikiLeaks
    published some cables twice, once garbled under a garbled ID, and the well-formed
    copy is the one to keep.
    """
    report = report if report is not None else ParseReport()
    first_source: dict[str, str] = {}
    repaired: list[Cable] = []

    def keep(cable: Cable) -> bool:
        if cable.id in first_source:
            report.duplicates.append((cable.id, cable.source, first_source[cable.id]))
            return False
        first_source[cable.id] = cable.source
        report.read += 1
        return True

    for item in _files(paths):
        for result in ([item] if isinstance(item, CableParseError) else _from_file(item)):
            if isinstance(result, Cable):
                garbled = ids.repair(result.id) != result.id
                result = _canonical(result)
                if garbled and isinstance(result, Cable):
                    repaired.append(result)
                    continue
            if isinstance(result, CableParseError):
                report.add_error(result)
            elif keep(result):
                yield result
    yield from (cable for cable in repaired if keep(cable))


__all__ = ["ParseReport", "read_cables", "write_jsonl"]
