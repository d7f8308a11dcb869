"""The cables.csv layout: 8 columns `row, created, reference id, origin, classification,
references, header, body`; comma, double quotes, backslash escape; plain or gzip.

A row that cannot be read is reported and reading goes on at the next record.
"""
from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path
from typing import Iterator, TextIO

from cables.cable_text import cable_from_text
from cables.errors import CableParseError
from cables.inputs import MAX_LINE_BYTES, MAX_RECORD_CHARS, fix_line, open_binary, text_stream
from cables.records import Cable

COLUMNS = ("row", "created", "reference id", "origin", "classification", "references",
           "header", "body")
_RECORD_START = re.compile(r'"(\d+|row)","')


class _RecordTooLong(Exception):
    pass


class _Lines:
    """Feeds csv.reader decoded lines, caps each record's size and, after a bad record,
    skips to the next line that starts a record (so one bad row costs only itself)."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._chars = 0
        self._skipping = False
        self.row = 0  # the row column of the record being read (0 if it has none)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while line := self._stream.readline(MAX_LINE_BYTES):
            if self._chars == 0 or self._skipping:
                start = _RECORD_START.match(line)
                if self._skipping and not start:
                    continue
                self._skipping = False
                self.row = int(start.group(1)) if start and start.group(1).isdigit() else 0
            self._chars += len(line)
            if self._chars > MAX_RECORD_CHARS:
                self.resync()
                raise _RecordTooLong
            return fix_line(line)
        raise StopIteration

    def record_done(self) -> None:
        self._chars = 0

    def resync(self) -> None:
        self._chars = 0
        self._skipping = True


def _iso(created: str) -> str:
    """'06/02/2006 00:12' -> '2006-06-02T00:12'; '' when it is not such a date."""
    try:
        return datetime.strptime(created.strip(), "%m/%d/%Y %H:%M").strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return ""


def _cable(fields: list[str], path: Path, row: int) -> Cable:
    if len(fields) != len(COLUMNS):
        raise CableParseError(path, f"expected {len(COLUMNS)} columns, found {len(fields)}", row)
    _, created, ref_id, origin, classification, _, header, body = fields
    stated = {"id": ref_id.strip(), "date": _iso(created), "origin": origin.strip(),
              "classification": classification.strip()}
    return cable_from_text(header + "\n\n" + body, f"{path}:row {row}", stated, row=row,
                           path=str(path))


def read_csv(path: Path) -> Iterator[Cable | CableParseError]:
    """Cables of a cables.csv file, and a CableParseError for each row that is not one.

    The row number is the file's own `row` column (what `source` says: "cables.csv:row 1460").
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS))
    with text_stream(open_binary(path)) as stream:
        feed = _Lines(stream)
        reader = csv.reader(feed, escapechar="\\", strict=True)
        count = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except _RecordTooLong:
                count += 1
                yield CableParseError(path, f"record longer than {MAX_RECORD_CHARS} characters",
                                      feed.row or count)
                continue
            except csv.Error as exc:
                count += 1
                yield CableParseError(path, f"malformed CSV ({exc})", feed.row or count)
                feed.resync()
                continue
            count += 1
            feed.record_done()
            if fields and fields[0] == "row":
                continue
            try:
                yield _cable(fields, path, feed.row or count)
            except CableParseError as exc:
                yield exc
