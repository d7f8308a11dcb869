"""Domain errors every layer of Pilcrow raises; interfaces translate them at the edge."""
from __future__ import annotations


class PilcrowError(Exception):
    """Base of every error Pilcrow raises on purpose."""


class CableParseError(PilcrowError):
    """A file (or one row of it) holds no readable cable."""

    def __init__(self, path: str, reason: str, row: int | None = None):
        self.path, self.reason, self.row = str(path), reason, row
        where = f"{self.path}:row {row}" if row is not None else self.path
        super().__init__(f"{where}: {reason}")


class UnreadableFileError(PilcrowError):
    """A file Pilcrow keeps (a model, a thresholds table) that cannot be read or parsed;
    whoever reads it says what the file is for and how to fix it."""


class IndexMismatchError(PilcrowError):
    """The index on disk was built differently (format, model, dimension) or is damaged."""


class IndexNotFoundError(PilcrowError):
    """No index at the given folder."""


class NotFoundError(PilcrowError, LookupError):
    """An unknown cable ID or paragraph number."""


class InvalidInputError(PilcrowError, ValueError):
    """A request the caller can fix: empty or over-long question, bad filter, malformed ID."""


class ModelNotFoundError(PilcrowError, LookupError):
    """An embedding model that is not on disk (downloads are off): the message names the
    package to install."""


class ConfigError(PilcrowError):
    """A fault of the server's own set-up, not of the request: a `PILCROW_*` value out of
    range, a missing model file, an endpoint not configured. The message names the fix;
    the API answers 503."""
