"""Pilcrow's question answering: ask the indexed cables, get an answer whose every sentence
cites a paragraph ("09SHANGHAI374 ¶9").

The public API, used by every interface (app, HTTP API, CLI, eval):

    >>> from qa import Assistant, Settings  # doctest: +SKIP
    >>> Assistant(Settings.from_env()).ask("what did Zhejiang officials say about hukou?")  # doctest: +SKIP

The records (`Answer`, `Citation`, `Hit`, `Dropped`) are shared: the UI, the HTTP API, the
CLI and eval all return `Answer.to_dict()`.
"""
from cables.records import Filters
from qa.assistant import Assistant
from qa.followup import Turn
from qa.generate import generator_for
from qa.retrieve import phrases
from qa.settings import Settings
from qa.types import Answer, Citation, Dropped, Hit

__all__ = ["Answer", "Assistant", "Citation", "Dropped", "Filters", "Hit", "Settings", "Turn",
           "generator_for", "phrases"]
