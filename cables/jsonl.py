"""JSONL of Cable records, the project's own export: one `Cable.to_dict()` per line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from cables.errors import CableParseError
from cables.files import atomic_file
from cables.inputs import MAX_LINE_BYTES, decode, open_binary
from cables.records import Cable


def write_jsonl(cables: Iterable[Cable], path: str | Path) -> int:
    """Write cables atomically (see `atomic_file`); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_file(path) as f:
        for cable in cables:
            f.write(json.dumps(cable.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def _cable(line: str, path: Path, number: int) -> Cable:
    try:
        cable = Cable.from_dict(json.loads(line))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise CableParseError(path, f"not a Cable record ({type(exc).__name__}: {exc})"[:300],
                              number) from None
    if not isinstance(cable.id, str) or not cable.id:
        raise CableParseError(path, "Cable record without an ID", number)
    return cable


def read_jsonl(path: Path) -> Iterator[Cable | CableParseError]:
    """Cables of a JSONL file, and a CableParseError (row = line number) for each bad line."""
    with open_binary(path) as stream:
        number = 0
        while chunk := stream.readline(MAX_LINE_BYTES):
            number += 1
            if not chunk.endswith(b"\n") and len(chunk) == MAX_LINE_BYTES:
                while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield CableParseError(path, f"line longer than {MAX_LINE_BYTES} bytes", number)
                continue
            line = decode(chunk).strip()
            if not line:
                continue
            try:
                yield _cable(line, path, number)
            except CableParseError as exc:
                yield exc
