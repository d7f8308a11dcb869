"""Bounded reading of input files: which format a file holds, gzip, text decoding.

Every limit here is what keeps a hostile file (a 100 MB CSV field, a gzip bomb, a huge
page) from taking unbounded memory or time; going past one is a CableParseError.
"""
from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path
from typing import BinaryIO

from cables.errors import CableParseError

MAX_FILE_BYTES = 32 * 1024 * 1024  # one .txt or .html file (real ones are < 100 KB)
MAX_LINE_BYTES = 4 * 1024 * 1024  # one physical line of a CSV or JSONL file
MAX_RECORD_CHARS = 4 * 1024 * 1024  # one CSV record (the longest real cable is ~70k chars)
MIN_GZIP_ALLOWANCE = 256 * 1024 * 1024  # decompressed bytes always allowed ...
MAX_GZIP_RATIO = 50  # ... or this many times the compressed size (real CSV: about 5)
_SNIFF_BYTES = 4096
_GZIP_MAGIC = b"\x1f\x8b"
# Bytes that never occur in text: NUL and most C0 controls (tab, LF, FF, CR, ESC allowed).
_BINARY = bytes(set(range(32)) - {9, 10, 12, 13, 27})

KINDS = ("txt", "csv", "html", "jsonl")
_EXTENSIONS = {".txt": "txt", ".text": "txt", ".csv": "csv", ".html": "html", ".htm": "html",
               ".jsonl": "jsonl", ".json": "jsonl"}


def decode(data: bytes) -> str:
    """UTF-8, else Windows-1252 (what old cable dumps use), undecodable bytes replaced.

    >>> decode("¶1.".encode()), decode(b"caf\\xe9")
    ('¶1.', 'café')
    """
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _BoundedGzip(io.RawIOBase):
    """A gzip stream that stops with CableParseError past its decompressed-size allowance."""

    def __init__(self, path: Path):
        self._path = path
        self._file = gzip.open(path, "rb")
        self._allowed = max(MIN_GZIP_ALLOWANCE, MAX_GZIP_RATIO * path.stat().st_size)
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            n = self._file.readinto(buffer)
        except (OSError, EOFError, zlib.error) as exc:
            raise CableParseError(self._path, f"damaged gzip data ({exc})") from None
        self._read += n
        if self._read > self._allowed:
            raise CableParseError(self._path, f"decompresses to more than {self._allowed} bytes "
                                              "(gzip bomb?)")
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed on the fly when it is gzip."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    if gzipped:
        return io.BufferedReader(_BoundedGzip(path), buffer_size=1024 * 1024)
    return open(path, "rb")


def read_bytes(path: Path) -> bytes:
    """The whole (decompressed) file, at most MAX_FILE_BYTES."""
    with open_binary(path) as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CableParseError(path, f"larger than {MAX_FILE_BYTES} bytes")
    return data


def check_text(path: Path, sample: bytes) -> None:
    """Raise CableParseError when the file is empty or holds binary data."""
    if not sample.strip():
        raise CableParseError(path, "empty file")
    if any(b in _BINARY for b in sample[:_SNIFF_BYTES]):
        raise CableParseError(path, "binary file, not text")


_UNDECODED = re.compile("[\udc80-\udcff]")


def text_stream(stream: BinaryIO) -> io.TextIOWrapper:
    """Lines of a byte stream decoded as UTF-8, bytes that are not UTF-8 kept as surrogates
    for `fix_line` (decoding in big chunks is several times faster than line by line)."""
    return io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")


def fix_line(line: str) -> str:
    """A line from `text_stream` with its non-UTF-8 bytes read as Windows-1252."""
    if line.isascii() or _UNDECODED.search(line) is None:
        return line
    return decode(line.encode("utf-8", errors="surrogateescape"))


def sniff(path: Path) -> str:
    """The format of a file, from its name and its first bytes: one of KINDS.

    The content wins over the extension where they disagree (a cables.csv saved as .txt).
    """
    with open_binary(path) as f:
        try:
            head = f.read(_SNIFF_BYTES)
        except EOFError:
            head = b""
    check_text(path, head)
    text = decode(head).lstrip()
    suffixes = [s.lower() for s in path.suffixes]
    by_name = _EXTENSIONS.get(suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1
                              else (suffixes[-1] if suffixes else ""), "")
    if text.startswith("{"):
        return "jsonl"
    if text[:1] == "<" and ("<html" in text.lower() or "<!doctype" in text.lower()):
        return "html"
    if _looks_like_csv_row(text):
        return "csv"
    return by_name if by_name in ("html", "csv") and text[:1] in '<"' else "txt"


def _looks_like_csv_row(text: str) -> bool:
    """'"1","09/27/2000 14:02","00HARARE5461",...' starts a cables.csv record."""
    first, sep, _ = text[1:].partition('","')
    return text.startswith('"') and bool(sep) and (first.isdigit() or first == "row")
