"""The known-answer question set: schema, the counts issue 7 asks for, and gold data that
the parsed sample corpus really contains (paragraph numbers and fact strings)."""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from cables import read_cables
from cables.errors import InvalidInputError
from eval.metrics import contains_fact, normalize
from eval.questions import DEFAULT_QUESTIONS, load_questions, parse_question

SEEDS = ("09GUANGZHOU54", "09SHANGHAI374", "07BEIJING2459", "09BEIJING3235", "07GUANGZHOU208")


@pytest.fixture(scope="module")
def questions():
    return load_questions(DEFAULT_QUESTIONS)


@pytest.fixture(scope="module")
def corpus():
    return {c.id: c for c in read_cables("data/cables")}


def test_every_line_has_exactly_the_issue_schema():
    for line in DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        assert list(obj)[:5] == ["id", "question", "answerable", "citations", "facts"]
        for c in obj["citations"]:
            assert list(c) == ["cable_id", "paragraph"]
        parse_question(obj)


def test_counts(questions):
    assert len(questions) >= 60
    assert len({q.id for q in questions}) == len(questions)
    cited = Counter(cid for q in questions for cid in {c for c, _ in q.citations})
    for seed in SEEDS:
        assert cited[seed] >= 4, seed
    others = [q for q in questions if any(c not in SEEDS for c, _ in q.citations)]
    assert len(others) >= 20
    assert sum(not q.answerable for q in questions) >= 10


def test_unanswerable_questions_have_no_gold(questions):
    for q in questions:
        if not q.answerable:
            assert q.citations == () and q.facts == ()
        else:
            assert q.citations and q.facts, q.id


def test_questions_do_not_copy_the_cable(questions, corpus):
    # A question that repeats a long run of its paragraph's words tests nothing.
    for q in questions:
        words = normalize(q.question).split()
        grams = {" ".join(words[i:i + 7]) for i in range(len(words) - 6)}
        for cid, n in q.citations:
            paragraph = normalize(corpus[cid].paragraph(n).text)
            copied = [g for g in grams if g in paragraph]
            assert not copied, (q.id, copied)


def test_the_hukou_question_is_there(questions):
    hukou = [q for q in questions if "hukou" in q.question.lower()
             and ("09SHANGHAI374", 9) in q.citations]
    assert hukou


def test_every_gold_paragraph_exists_in_the_parsed_corpus(questions, corpus):
    for q in questions:
        for cid, n in q.citations:
            assert cid in corpus, (q.id, cid)
            assert corpus[cid].numbered, (q.id, cid)
            corpus[cid].paragraph(n)  # KeyError names the missing paragraph


def test_every_fact_is_in_a_gold_paragraph(questions, corpus):
    for q in questions:
        texts = [corpus[cid].paragraph(n).text for cid, n in q.citations]
        for fact in q.facts:
            assert any(contains_fact(t, fact) for t in texts), (q.id, fact)


def test_some_questions_need_two_cables_or_two_paragraphs(questions, corpus):
    # A question needs two sources when no single gold paragraph holds all of its facts.
    def needs_two(q):
        texts = [corpus[cid].paragraph(n).text for cid, n in q.citations]
        return not any(all(contains_fact(t, f) for f in q.facts) for t in texts)

    multi = [q.id for q in questions if q.answerable and needs_two(q)]
    assert len(multi) >= 5
    assert all(needs_two(q) for q in questions if q.id.startswith("two-"))


def _named_things(question: str) -> list[str]:
    # Runs of capitalised words ("Xu Zongheng") and numbers after the question word:
    # the person, place or figure the question asks about.
    body = question.split(" ", 1)[1]
    return re.findall(r"[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*|\d[\d,.]*\d|\d", body)


def test_unanswerable_questions_name_something_no_cable_states(questions, corpus):
    everything = normalize("\n".join(p.text for c in corpus.values() for p in c.paragraphs)
                           + "\n".join(c.subject for c in corpus.values()))
    for q in questions:
        if q.answerable:
            continue
        absent = [w for w in _named_things(q.question) if normalize(w) not in everything]
        assert absent, f"{q.id}: every name in it occurs in the corpus"


@pytest.mark.parametrize("line, message", [
    ('{"id": "x", "question": "q?", "answerable": true, "citations": [], "facts": []}',
     "needs at least one gold citation"),
    ('{"id": "x", "question": "q?", "answerable": false, "facts": [],'
     ' "citations": [{"cable_id": "09SHANGHAI374", "paragraph": 9}]}', "must have empty"),
    ('{"id": "x", "question": "q?", "answerable": true, "facts": [],'
     ' "citations": [{"cable_id": "09SHANGHAI374", "paragraph": "9"}]}', "bad citation"),
    ('{"id": "x", "question": "q?", "answerable": true, "facts": [[]],'
     ' "citations": [{"cable_id": "09SHANGHAI374", "paragraph": 9}]}', "bad fact"),
    ('{"id": "x", "question": "q?", "answerable": true}', "expected exactly the keys"),
    ('{"id": "x", "question": "q?", "answerable": false, "citations": [], "facts": [],'
     ' "kind": "trivia"}', "is not one of"),
    ('{"id": "x", "question": "q?", "answerable": false, "citations": [], "facts": [],'
     ' "kind": "who"}', "does not agree"),
    ('{"id": "x", "question": "q?", "answerable": false, "citations": [], "facts": [],'
     ' "history": []}', "history must be"),
    ('not json', "not JSON"),
])
def test_load_questions_rejects_bad_lines(tmp_path: Path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        load_questions(path)


def test_load_questions_rejects_duplicate_ids_and_missing_files(tmp_path: Path):
    line = DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="duplicate id"):
        load_questions(path)
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")
