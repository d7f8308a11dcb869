"""Reading and writing the project's small files: one way to write atomically, one way
to read a JSON file with an error that names it."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from cables.errors import UnreadableFileError


@contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """A file to write `path` through: it is a temporary file in the same folder, flushed
    to disk and renamed over `path` when the block ends, and removed if the block raises,
    so a reader (or a crash) sees the old file or the new one, never half of one.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "a.txt") as f:
    ...     _ = f.write("new")
    >>> (folder / "a.txt").read_text(), len(list(folder.iterdir()))
    ('new', 1)
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync(path.parent)


def write_atomic(path: str | Path, text: str) -> None:
    """Replace `path` with `text` whole (see `atomic_file`)."""
    with atomic_file(path) as f:
        f.write(text)


def fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (what makes a rename in it durable), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: str | Path) -> Any:
    """The JSON value in `path`; UnreadableFileError naming the file and why otherwise.

    >>> read_json("/nonexistent/x.json")
    Traceback (most recent call last):
    ...
    cables.errors.UnreadableFileError: /nonexistent/x.json: cannot read it (No such file or directory)
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise UnreadableFileError(f"{path}: cannot read it ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise UnreadableFileError(f"{path}: not JSON (not UTF-8 at byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise UnreadableFileError(f"{path}: not JSON ({e.msg})") from e
