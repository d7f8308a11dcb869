"""Pilcrow's embeddings package: cable records, parsing, and (elsewhere) the index."""
from embeddings.cables import ParseReport, read_cables
from embeddings.errors import (CableParseError, IndexMismatchError, IndexNotFoundError,
                               InvalidInputError, NotFoundError, PilcrowError)
from embeddings.jsonl import write_jsonl
from embeddings.records import Cable, Filters, Paragraph, citation
from embeddings.store import BuildReport, Index, Match, build_index, open_index
