"""Follow-up questions: rewrite one that leans on the conversation into a question that
stands alone, so retrieval and the verifier need no memory.

A follow-up ("Which officials said that, and what figure did they give?") points back with
a pronoun or a demonstrative and names nothing new. It is rewritten by carrying forward the
earlier question it continues and the cables the previous answer cited:

    >>> earlier = Turn("What did Zhejiang officials say about hukou?",
    ...                (("09SHANGHAI374", 9),))
    >>> standalone("Which officials said that, and what figure did they give?", [earlier])
    'Which officials said that, and what figure did they give? (Earlier: What did Zhejiang officials say about hukou? Cited: 09SHANGHAI374.)'

Naming a cable makes retrieval rank that cable's paragraphs first (qa/retrieve.py), by
similarity to the rest of the question, so the follow-up is answered from the cable the
reader was looking at, and every sentence is still verified against the paragraph it cites.
A question that names something the conversation has not mentioned is a new question:

    >>> standalone("What is TIP?", [earlier])
    'What is TIP?'

The rule is deterministic and needs no model: a 135M model rewriting questions would add
its own inventions before retrieval, where nothing checks them.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.sentences import names

# Words that point back at something said before.
_POINTERS = frozenset(
    """that this these those it its they them their theirs he him his she her hers there
    then such same former latter above earlier previous aforementioned""".split())
_CONTINUES = re.compile(r"^\s*(?:and|but|also|so|what about|how about|what else)\b",
                        re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z']+")
_CONTEXT = re.compile(r"\s*\(Earlier: .*\)\s*$")
MAX_CARRIED = 3  # cables carried forward: the earlier answer's first ones


@dataclass(frozen=True)
class Turn:
    """An earlier turn: the question as asked and the (cable_id, paragraph) pairs its answer
    cited, in order. `Turn.of(answer)` makes one from an `Answer`."""

    question: str
    citations: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, answer) -> Turn:
        return cls(answer.question, tuple((c.cable_id, c.paragraph) for c in answer.citations))


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    """Whether `question` leans on the conversation: it points back ("that", "they", "and
    what about...") and every name in it was already mentioned.

    >>> is_followup("What figure did they give?", [Turn("What did Ye Ke say about hukou?")])
    True
    >>> is_followup("What did Wang Yang say?", [Turn("What did Ye Ke say about hukou?")])
    False
    """
    if not history:
        return False
    words = {w.lower() for w in _WORD.findall(question)}
    if not (words & _POINTERS or _CONTINUES.match(question)):
        return False
    said = " ".join(t.question + " " + " ".join(c for c, _ in t.citations) for t in history).lower()
    return all(name.lower() in said for name in names(question))


def standalone(question: str, history: Sequence[Turn]) -> str:
    """`question` with the context it leans on, or unchanged when it stands alone."""
    if not is_followup(question, history):
        return question
    topic = _topic(history)
    cables = next((list(dict.fromkeys(c for c, _ in t.citations)) for t in reversed(history)
                   if t.citations), [])[:MAX_CARRIED]
    context = f"Earlier: {topic}" + (f" Cited: {', '.join(cables)}." if cables else "")
    return f"{question} ({context})"


def _topic(history: Sequence[Turn]) -> str:
    """The earlier question the conversation is about: the last one that stood alone (a
    chain of follow-ups all continue the question that started it)."""
    for i in range(len(history) - 1, -1, -1):
        if not is_followup(history[i].question, history[:i]):
            return _CONTEXT.sub("", history[i].question)
    return _CONTEXT.sub("", history[0].question)
