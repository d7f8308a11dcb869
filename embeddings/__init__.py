"""Pilcrow's index: paragraph chunks, their vectors, and the store that holds both.

The parser lives in `cables`; `read_cables` is re-exported because building an index
starts from it.
"""
from cables import ParseReport, read_cables
from embeddings.store import BuildReport, Index, Match, build_index, open_index
