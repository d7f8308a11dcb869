"""The known-answer question sets: schema, the counts issues 7 and 13 ask for, and gold data
that the parsed sample corpus really contains (paragraph numbers and fact strings).

Four sets: the dev split (tuned on), the test split (never tuned on: written from cables no
dev question cites) and each one's two-turn follow-up cases."""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from cables import read_cables
from cables.errors import InvalidInputError
from eval.metrics import contains_fact, normalize
from eval.questions import DEFAULT_QUESTIONS, FOLLOWUPS, SPLITS, load_questions, parse_question

SEEDS = ("09GUANGZHOU54", "09SHANGHAI374", "07BEIJING2459", "09BEIJING3235", "07GUANGZHOU208")
SETS = {**SPLITS, **{f"{name}-followups": path for name, path in FOLLOWUPS.items()}}
# What issue 13 asks of the test split, per kind of question.
TEST_MINIMUMS = {"multi": 20, "vague": 20, "figure": 20, "when": 15, "who": 15}


@pytest.fixture(scope="module")
def questions():
    return load_questions(DEFAULT_QUESTIONS)


@pytest.fixture(scope="module")
def sets():
    return {name: load_questions(path) for name, path in SETS.items() if path.exists()}


def _cables(questions) -> set[str]:
    return {cid for q in questions for cid, _ in q.citations}


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


@pytest.mark.parametrize("name", SETS)
def test_questions_do_not_copy_the_cable(sets, name, corpus):
    # A question that repeats a long run of its paragraph's words tests nothing.
    for q in sets[name]:
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


@pytest.mark.parametrize("name", SETS)
def test_every_gold_paragraph_exists_in_the_parsed_corpus(sets, name, corpus):
    for q in sets[name]:
        for cid, n in q.citations:
            assert cid in corpus, (q.id, cid)
            assert corpus[cid].numbered, (q.id, cid)
            corpus[cid].paragraph(n)  # KeyError names the missing paragraph


@pytest.mark.parametrize("name", SETS)
def test_every_fact_is_in_a_gold_paragraph(sets, name, corpus):
    for q in sets[name]:
        texts = [corpus[cid].paragraph(n).text for cid, n in q.citations]
        for fact in q.facts:
            assert any(contains_fact(t, fact) for t in texts), (q.id, fact)


def _needs_two(q, corpus) -> bool:
    # A question needs two sources when no single gold paragraph holds all of its facts.
    texts = [corpus[cid].paragraph(n).text for cid, n in q.citations]
    return not any(all(contains_fact(t, f) for f in q.facts) for t in texts)


def test_some_questions_need_two_cables_or_two_paragraphs(questions, corpus):
    multi = [q.id for q in questions if q.answerable and _needs_two(q, corpus)]
    assert len(multi) >= 5
    assert all(_needs_two(q, corpus) for q in questions if q.id.startswith("two-"))


@pytest.mark.parametrize("name", SETS)
def test_multi_questions_need_every_gold_paragraph_they_list(sets, name, corpus):
    for q in sets[name]:
        if q.kind == "multi":
            assert len(set(q.citations)) >= 2 and _needs_two(q, corpus), q.id


def test_ids_are_unique_across_the_sets(sets):
    ids = Counter(q.id for questions in sets.values() for q in questions)
    assert [i for i, n in ids.items() if n > 1] == []


def test_the_test_split_has_what_issue_13_asks(sets):
    test = sets["test"]
    kinds = Counter(q.kind for q in test)
    assert len(test) >= 150 and all(q.kind for q in test)
    for kind, minimum in TEST_MINIMUMS.items():
        assert kinds[kind] >= minimum, kind
    unanswerable = {k: n for k, n in kinds.items() if k.startswith("unanswerable")}
    assert len(unanswerable) == 3 and min(unanswerable.values()) >= 15
    assert sum(unanswerable.values()) >= 60
    assert len(_cables(test)) >= 50


def test_no_test_question_cites_a_cable_dev_cites(sets):
    # The test split measures questions about cables nobody tuned on.
    dev = _cables(sets["dev"]) | _cables(sets.get("dev-followups", []))
    test = _cables(sets["test"]) | _cables(sets.get("test-followups", []))
    assert sorted(dev & test) == []


@pytest.mark.parametrize("name", [n for n in SETS if n.endswith("-followups")])
def test_followups_carry_the_earlier_question(sets, name):
    followups = sets.get(name)
    if followups is None:
        pytest.skip(f"{SETS[name]} is not written yet")
    assert len(followups) >= (20 if name.startswith("test") else 8)
    for q in followups:
        assert q.history and all(h != q.question for h in q.history), q.id


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


# The judge's harder training set (`python -m eval.judge compare --mirror`): questions on 90
# cables of the mirror that are not in the sample corpus, so nothing tested is trained on.
@pytest.fixture(scope="module")
def training_corpus():
    from eval.judge import MIRROR, MIRROR_SET, mirror_ids

    ids = mirror_ids()
    cables = {c.id: c for c in read_cables(MIRROR) if c.id in ids}
    return ids, cables, load_questions(MIRROR_SET)


@pytest.mark.slow  # parses the whole mirror to find its 90 cables
def test_the_mirror_training_set_is_about_its_own_cables(training_corpus, corpus, sets):
    ids, cables, questions = training_corpus
    assert len(ids) == len(cables) == 90 and not ids & set(corpus)
    assert len(questions) >= 250 and sum(not q.answerable for q in questions) >= 90
    assert {q.id for q in questions}.isdisjoint(q.id for s in sets.values() for q in s)
    for q in questions:
        texts = [cables[cid].paragraph(n).text for cid, n in q.citations]  # KeyError names it
        for fact in q.facts:
            assert any(contains_fact(t, fact) for t in texts), (q.id, fact)
        if q.kind == "multi":
            assert len(set(q.citations)) >= 2 and _needs_two(q, cables), q.id
