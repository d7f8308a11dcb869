"""Reading and writing the project's small files: one way to write atomically, one way
to read a JSON file with an error that names it."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from cables.errors import UnreadableFileError


def write_atomic(path: str | Path, text: str) -> None:
    """Replace `path` with `text` whole: written to a temporary file in the same folder,
    flushed to disk, then renamed over it, so a reader sees the old file or the new one.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.json", "{}"); (folder / "a.json").read_text(), len(list(folder.iterdir()))
    ('{}', 1)
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync(path.parent)


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
