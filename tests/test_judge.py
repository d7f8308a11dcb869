"""The judge: term matching by hand-worked cases, its model file checked on load, and its
decisions on real questions over the sample index."""
import json

import pytest

from qa import Assistant, Settings
from qa.judge import (MODEL_PATH, Judge, JudgeError, Term, Vocabulary, asks_for, evidence, mentions,
                      question_terms, term_matches, text_terms)
from qa.types import Hit


@pytest.mark.parametrize("question_name, paragraph, found", [
    ("China'", "talks with China on trade", True),  # a trailing quote
    ("China's", "China said", True),  # a possessive
    ("EU-China", "the China-EU summit", True),  # word order and hyphens
    ("EU-China", "the EU said; China said", True),  # both named, apart
    ("Black Hawk", "Blackhawk helicopters", True),  # spaces
    ("Blackhawk", "Black Hawk helicopters", True),
    ("Buddhism", "Buddhist monks", True),  # word endings
    ("Tibet", "Tibetan herders", True),
    ("Britain", "the UK embassy", True),  # one spelling per country
    ("United States", "the U.S. embassy", True),
    ("North Korea", "the DPRK", True),
    ("Austria", "Australia", False),  # a shared stem is not enough
    ("Iran", "Iraq", False),
    ("Japan", "China", False),
])
def test_names_match_after_normalising(question_name, paragraph, found):
    (term,) = [t for t in question_terms(f"What about {question_name} trade?") if t.is_name]
    assert mentions(text_terms(paragraph), term.tokens) is found


@pytest.mark.parametrize("a, b, same", [
    ("buddhism", "buddhist", True), ("china", "chinese", True), ("korea", "korean", True),
    ("migrant", "migrants", True), ("organized", "organize", True),
    ("policy", "police", False), ("official", "office", False), ("migrant", "migration", False),
])
def test_term_matches(a, b, same):
    assert term_matches(a, b) is same


def test_question_terms_keep_names_whole_and_skip_stop_words():
    terms = question_terms("How many Buddhist temples did the EU-China summit list in 2009?")
    assert [(t.text, t.is_name) for t in terms] == [
        ("Buddhist", True), ("EU-China", True), ("temples", False), ("summit", False), ("list", False)]


def test_asks_for():
    assert [asks_for(q) for q in ("How many migrants?", "When did it open?", "Who founded Little Bird?",
                                  "Which official said so?", "Why did it close?")] == [
        "figure", "date", "person", "person", ""]


def test_rare_words_weigh_more():
    v = Vocabulary(1000, 20, {"take": 300, "official": 400, "hukou": 25})
    assert v.weight(Term("whaling", ("whaling",), False)) > v.weight(Term("hukou", ("hukou",), False)) \
        > v.weight(Term("take", ("take",), False))
    assert v.idf("officials") == v.idf("official")  # a plural counts as its word


def test_evidence_says_which_hit_holds_which_term():
    hits = [Hit("A", 1, "The Blackhawk sale angered Beijing in 2009.", 0, "2010-01-01", "", "", ""),
            Hit("A", 2, "Nothing here.", 0, "2010-01-01", "", "", "")]
    ev = evidence("Did the Black Hawk sale anger China in 2009?", hits, Vocabulary(100, 5, {}))
    assert [t.text for t in ev.terms] == ["Black Hawk", "China", "sale", "anger"]
    assert ev.found == ((True, False, True, True), (False, False, False, False))
    assert ev.missing([0, 1]) == [1] and ev.years == ("2009",)


def test_judge_file_is_checked_on_load(tmp_path):
    judge = Judge.load()
    assert judge.relevance_model.features and 0 < judge.abstain_below < 1
    d = json.loads(MODEL_PATH.read_text(encoding="utf-8"))

    def write(obj) -> str:
        path = tmp_path / "judge.json"
        path.write_text(json.dumps(obj) if not isinstance(obj, str) else obj, encoding="utf-8")
        return str(path)

    with pytest.raises(JudgeError, match=r"format version 99, this Pilcrow reads 1; refit it with"):
        Judge.load(write({**d, "format_version": 99}))
    with pytest.raises(JudgeError, match=r"its features .* are not this Pilcrow's"):
        Judge.load(write({**d, "relevance": {**d["relevance"], "features": ["similarity"]}}))
    with pytest.raises(JudgeError, match=r"missing or bad field .*abstain_below"):
        Judge.load(write({k: v for k, v in d.items() if k != "abstain_below"}))
    with pytest.raises(JudgeError, match=r"judge.json: not JSON"):
        Judge.load(write("{"))
    with pytest.raises(JudgeError, match=r"cannot read it"):
        Judge.load(tmp_path / "missing.json")
    Judge.load(write(d))  # the real file, copied, loads


@pytest.fixture(scope="module")
def assistant(sample_index_dir):
    return Assistant(Settings(index_dir=str(sample_index_dir), generator="extractive"))


@pytest.mark.parametrize("question, reason", [
    ("What did the consulate report about whaling in the South China Sea?", "mentions whaling"),
    ("How did Foxconn respond to labor NGOs in Shenzhen?", "mentions Foxconn"),
])
def test_abstention_says_why_and_lists_the_closest_paragraphs(assistant, question, reason):
    answer = assistant.ask(question)
    assert answer.abstained and reason in answer.reason and reason in answer.text
    assert answer.citations == () and len(answer.hits) == assistant.settings.k
    assert answer.to_dict()["reason"] == answer.reason


def test_answerable_question_cites_what_the_judge_finds_relevant(assistant):
    answer = assistant.ask("How many labor NGOs serve China's manufacturing workforce?")
    assert not answer.abstained and answer.reason == ""
    assert {(c.cable_id, c.paragraph) for c in answer.citations} == {("09BEIJING3235", 6)}
    assert "50-100" in answer.text
