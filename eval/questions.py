"""The known-answer question sets: one JSON object a line, read into frozen records.

    {"id": "gx-guiping-loans", "question": "...", "answerable": true,
     "citations": [{"cable_id": "09GUANGZHOU54", "paragraph": 4}],
     "facts": [["23.6 million", "23,600,000"]]}

`citations` lists the paragraphs that answer the question (any one is a correct
citation); each inner list of `facts` is one fact, any alternative of which counts.
Unanswerable questions have `"answerable": false` and empty lists. Two keys are optional:
`"kind"` (one of `KINDS`: what sort of question it is, for a per-kind breakdown) and
`"history"` (the earlier questions of a conversation, oldest first, for a follow-up).

Two splits: `dev.jsonl` is the set every threshold, weight, rule and prompt may be tuned
on; `test.jsonl` is never tuned on, only reported, so it says how Pilcrow does on questions
nobody fitted it to. Each has a `-followups.jsonl` twin of two-turn cases.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cables.errors import InvalidInputError

_HERE = Path(__file__).parent
SPLITS = {"dev": _HERE / "dev.jsonl", "test": _HERE / "test.jsonl"}
FOLLOWUPS = {name: _HERE / f"{name}-followups.jsonl" for name in SPLITS}
DEFAULT_QUESTIONS = SPLITS["dev"]
KINDS = ("figure", "when", "who", "vague", "multi", "fact", "unanswerable-absent-fact",
         "unanswerable-entity", "unanswerable-offtopic")
_KEYS = {"id", "question", "answerable", "citations", "facts"}
_OPTIONAL = {"kind", "history"}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    citations: tuple[tuple[str, int], ...]  # gold (cable_id, paragraph) refs
    facts: tuple[tuple[str, ...], ...]
    kind: str = ""  # one of KINDS, or "" when the set does not say
    history: tuple[str, ...] = ()  # earlier questions of the conversation, oldest first


def parse_question(obj: dict, where: str = "") -> Question:
    """One JSON object of the set → Question; InvalidInputError names what is wrong.

    >>> parse_question({"id": "q", "question": "Who?", "answerable": False,
    ...                 "citations": [], "facts": []}).answerable
    False
    """
    def fail(reason: str) -> InvalidInputError:
        return InvalidInputError(f"{where}{obj.get('id', '?') if isinstance(obj, dict) else '?'}: {reason}")

    if not isinstance(obj, dict) or not _KEYS <= set(obj) <= _KEYS | _OPTIONAL:
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise fail(f"expected exactly the keys {sorted(_KEYS)} (optional: {sorted(_OPTIONAL)}), "
                   f"got {keys}")
    if not isinstance(obj["id"], str) or not obj["id"]:
        raise fail("id must be a non-empty string")
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        raise fail("question must be a non-empty string")
    if not isinstance(obj["answerable"], bool):
        raise fail("answerable must be true or false")
    citations, facts = obj["citations"], obj["facts"]
    if not isinstance(citations, list) or not isinstance(facts, list):
        raise fail("citations and facts must be lists")
    for c in citations:
        if not (isinstance(c, dict) and set(c) == {"cable_id", "paragraph"}
                and isinstance(c["cable_id"], str) and c["cable_id"]
                and isinstance(c["paragraph"], int) and not isinstance(c["paragraph"], bool)
                and c["paragraph"] >= 1):
            raise fail(f"bad citation {c!r}: want {{'cable_id': str, 'paragraph': int >= 1}}")
    for f in facts:
        if not (isinstance(f, list) and f and all(isinstance(a, str) and a.strip() for a in f)):
            raise fail(f"bad fact {f!r}: want a non-empty list of non-empty strings")
    if obj["answerable"] and not citations:
        raise fail("an answerable question needs at least one gold citation")
    if not obj["answerable"] and (citations or facts):
        raise fail("an unanswerable question must have empty citations and facts")
    kind = obj.get("kind", "")
    if "kind" in obj and kind not in KINDS:
        raise fail(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if "kind" in obj and kind.startswith("unanswerable") == obj["answerable"]:
        raise fail(f"kind {kind!r} does not agree with answerable={obj['answerable']}")
    history = obj.get("history", [])
    if not (isinstance(history, list) and all(isinstance(h, str) and h.strip() for h in history)
            and ("history" not in obj or history)):
        raise fail("history must be a non-empty list of earlier questions (strings)")
    return Question(
        id=obj["id"],
        question=obj["question"],
        answerable=obj["answerable"],
        citations=tuple((c["cable_id"], c["paragraph"]) for c in citations),
        facts=tuple(tuple(f) for f in facts),
        kind=kind,
        history=tuple(history),
    )


def load_questions(path: str | Path = DEFAULT_QUESTIONS) -> list[Question]:
    """Read a question set; InvalidInputError on a missing file, bad JSON or duplicate IDs."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InvalidInputError(f"cannot read questions file {path}: {e.strerror}") from e
    questions, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}: "
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidInputError(f"{where}not JSON: {e.msg}") from e
        question = parse_question(obj, where)
        if question.id in seen:
            raise InvalidInputError(f"{where}duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise InvalidInputError(f"{path}: no questions")
    return questions
