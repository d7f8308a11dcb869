"""Pilcrow's cable parser: the records every layer uses, the domain errors, and the readers.

>>> from cables import read_cables
>>> [c.id for c in read_cables("data/cables/000_fdada65da582d8ab.txt")]   # doctest: +SKIP
['09SHANGHAI374']

Nothing here imports another package of the project; `embeddings`, `qa` and the
interfaces build on it.
"""
from cables.errors import (CableParseError, ConfigError, IndexMismatchError, IndexNotFoundError,
                           InvalidInputError, ModelNotFoundError, NotFoundError, PilcrowError)
from cables.jsonl import write_jsonl
from cables.numbers import numbers, spell_numbers
from cables.reader import ParseReport, read_cables
from cables.ids import canonical, citation
from cables.records import Cable, Filters, Paragraph
