"""Assistant end to end on the sample index, with the real MiniLM and the real SmolLM2."""
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cables.errors import (IndexMismatchError, IndexNotFoundError, InvalidInputError,
                               NotFoundError)
from embeddings.store import FORMAT_VERSION
from eval.questions import load_questions
from qa import Answer, Assistant, Filters, Settings, generate
from qa.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = str(ROOT / "var" / "models")  # the app's converted SmolLM2, shared with test_generate
HUKOU = "what did Zhejiang officials say about hukou?"
OFF_CORPUS = "what is the recipe for chocolate cake?"


@pytest.fixture(scope="module")
def assistant(sample_index_dir):
    return Assistant(Settings(index_dir=str(sample_index_dir), generator="extractive", model_cache=MODEL_CACHE))


def assert_cited_paragraphs_say_it(assistant, answer):
    """Every citation exists in the index, its quote is a sentence of that paragraph, and
    every sentence of the text carries a citation."""
    for c in answer.citations:
        text = assistant.paragraph(c.cable_id, c.paragraph).text
        assert c.quote in split_sentences(text)
    for sentence in split_sentences(answer.text):
        assert sentence.rstrip(".!?").endswith("]") and " ¶" in sentence


@pytest.mark.parametrize("generator", ["extractive", pytest.param("transformers", marks=pytest.mark.slow)])
def test_hukou_answer_cites_the_shanghai_paragraphs_that_say_it(assistant, generator):
    answer = assistant.ask(HUKOU, generator=generator)
    assert not answer.abstained and answer.generator == generator
    cited = {(c.cable_id, c.paragraph) for c in answer.citations}
    assert cited and all(cable_id == "09SHANGHAI374" for cable_id, _ in cited)
    assert any("hukou" in assistant.paragraph(*ref).text for ref in cited)
    assert "hukou" in answer.text.lower()
    assert "[09SHANGHAI374 ¶" in answer.text
    assert_cited_paragraphs_say_it(assistant, answer)
    assert set(answer.timings) == {"retrieve", "judge", "generate", "verify", "total"}
    assert answer.settings_hash == assistant.settings.with_(generator=generator).hash()


def test_extractive_hukou_answer_is_exact(assistant):
    answer = assistant.ask(HUKOU)
    assert ("Eliminating the hukou residency registration requirement in the near-term would be "
            "impossible, Ye said [09SHANGHAI374 ¶9].") in answer.text
    assert answer.dropped == ()
    assert answer.text == assistant.ask(HUKOU).text  # deterministic


@pytest.mark.parametrize("question", [
    OFF_CORPUS,  # nothing like it in the cables
    "How did Foxconn respond to labor NGOs in Shenzhen?",  # on topic, but no cable names Foxconn
])
@pytest.mark.parametrize("generator", ["extractive", pytest.param("transformers", marks=pytest.mark.slow)])
def test_question_the_cables_do_not_cover_abstains(assistant, question, generator):
    answer = assistant.ask(question, generator=generator)
    assert answer.abstained
    assert "not in these cables" in answer.text
    assert answer.citations == () and len(answer.hits) == assistant.settings.k
    assert "generate" not in answer.timings


def test_stream_yields_the_draft_then_the_answer(assistant):
    items = list(assistant.stream(HUKOU))
    *pieces, answer = items
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert isinstance(answer, Answer)
    asked = assistant.ask(HUKOU)
    assert (answer.text, answer.citations, answer.hits) == (asked.text, asked.citations, asked.hits)
    abstained = list(assistant.stream(OFF_CORPUS))
    assert len(abstained) == 1 and abstained[0].abstained


@pytest.mark.slow
def test_transformers_stream_yields_pieces_as_generated(assistant):
    # The grounded model (the default "choose") drafts whole source sentences, so each
    # chosen sentence with its marker is one piece, streamed before the verified answer.
    items = list(assistant.stream("How many new jobs did Zhejiang create in the first half of 2009?",
                                  generator="transformers"))
    pieces, answer = items[:-1], items[-1]
    assert pieces and all(isinstance(p, str) for p in pieces) and isinstance(answer, Answer)
    assert "[" in "".join(pieces)  # the draft carries its source markers
    assert "400,000" in items[-1].text  # the verified answer keeps only what ¶5 says


@pytest.mark.slow
def test_every_citation_over_the_eval_set_exists(assistant):
    for q in load_questions():
        answer = assistant.ask(q.question)
        for c in answer.citations:
            assert c.quote in split_sentences(assistant.paragraph(c.cable_id, c.paragraph).text), q.id
        assert answer.abstained == (not answer.citations), q.id


def test_naming_a_paragraph_answers_from_it(assistant):
    answer = assistant.ask("What does 09SHANGHAI374 ¶9 say?")
    assert not answer.abstained
    assert answer.hits[0].ref == "09SHANGHAI374 ¶9"


def test_filters_and_k(assistant):
    answer = assistant.ask(HUKOU, Filters(origins=("Consulate Shanghai",)), k=3)
    assert len(answer.hits) == 3 and all(h.origin == "Consulate Shanghai" for h in answer.hits)
    hits = assistant.search("trafficking on the Vietnam border", k=4)
    assert len(hits) == 4 and hits[0].cable_id == "07GUANGZHOU208"


@pytest.mark.parametrize("call", [
    lambda a: a.ask(""),
    lambda a: a.ask("   \n"),
    lambda a: a.ask("x" * 2001),
    lambda a: a.ask(HUKOU, Filters(date_from="2009-13-01")),
    lambda a: a.ask(HUKOU, Filters(date_to="28 Aug 2009")),
    lambda a: a.ask(HUKOU, Filters(date_from="2010-01-01", date_to="2009-01-01")),
    lambda a: a.ask(HUKOU, k=0),
    lambda a: a.ask(HUKOU, generator="gpt-99"),
    lambda a: a.search("", k=5),
    lambda a: a.paragraph("not an id", 9),
    lambda a: a.paragraph("09SHANGHAI374", -1),
    lambda a: a.cable("SHANGHAI"),
])
def test_bad_input_is_invalid_input_error(assistant, call):
    with pytest.raises(InvalidInputError):
        call(assistant)


def test_stream_rejects_bad_input_before_streaming(assistant):
    with pytest.raises(InvalidInputError):
        assistant.stream("")  # raised by the call itself, not by the first next()


def test_lookups(assistant):
    assert assistant.cable("09 SHANGHAI 374").id == "09SHANGHAI374"
    assert assistant.paragraph("09SHANGHAI374", 9).text.startswith("Requiring migrants")
    with pytest.raises(NotFoundError):
        assistant.paragraph("09SHANGHAI374", 99)
    with pytest.raises(NotFoundError):
        assistant.cable("09SHANGHAI99999")
    stats = assistant.collection()
    assert stats["cables"] == 82 and "Consulate Shanghai" in stats["origins"]
    assert {"extractive", "transformers"} <= set(assistant.generators())
    health = assistant.health()
    assert health["embedding_model"] == "all-MiniLM-L6-v2"
    assert health["generator"] == "extractive" and health["generator_model"].startswith("none")
    assert health["model_states"]["extractive"] == "not used"
    assert health["model_states"]["transformers"] in ("not loaded", "loading", "ready")
    assert generate.model_name(assistant.settings, "transformers").endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert health["manifest"]["format_version"] == FORMAT_VERSION


def test_concurrent_asks_get_the_same_answers(assistant):
    questions = [HUKOU, OFF_CORPUS, "What is TIP?", HUKOU]
    expected = [assistant.ask(q).text for q in questions]
    with ThreadPoolExecutor(4) as pool:
        assert [a.text for a in pool.map(assistant.ask, questions)] == expected


@pytest.mark.slow
def test_concurrent_model_generations_are_serialised(assistant):
    """While one ask is part-way through its draft, a second one writes nothing: the model
    is not safe to share. (Without the model lock the second drafts at once.)"""
    first = assistant.stream(HUKOU, generator="transformers", k=3)
    assert isinstance(next(first), str)  # the first draft has begun, and paused
    second: list = []

    def ask_again() -> None:
        for item in assistant.stream(HUKOU, generator="transformers", k=3):
            second.append(item)

    waiting = threading.Thread(target=ask_again)
    waiting.start()
    waiting.join(timeout=30)  # long enough for an unserialised second draft to begin
    assert waiting.is_alive() and second == []
    *_, answer = first
    waiting.join()
    assert second[-1].text == answer.text


def test_index_errors_propagate(tmp_path, sample_index_dir):
    with pytest.raises(IndexNotFoundError):
        Assistant(Settings(index_dir=str(tmp_path / "none")))
    with pytest.raises(IndexMismatchError):
        Assistant(Settings(index_dir=str(sample_index_dir), embed_model="all-mpnet-base-v2"))


def test_answer_to_dict_carries_refs(assistant):
    d = assistant.ask(HUKOU).to_dict()
    assert d["citations"][0]["ref"].startswith("09SHANGHAI374 ¶")
    assert d["hits"][0]["ref"] and d["abstained"] is False and d["generator"] == "extractive"


def test_a_draft_with_nothing_supported_falls_back_and_says_so(assistant, monkeypatch):
    """A generator whose every sentence the verifier drops (as SmolLM2's sometimes are):
    the reader gets the extractive answer, and the Answer says it is a fallback."""
    def wrong(question, sources, settings):
        yield "Zhejiang abolished the hukou in 1850 [1]. The sky over Hangzhou is green [2]."

    monkeypatch.setitem(generate.GENERATORS, "wrong", wrong)
    answer = assistant.ask(HUKOU, generator="wrong")
    assert answer.fallback and answer.generator == "wrong"
    assert answer.writer == "wrong → extractive fallback"
    assert len(answer.dropped) == 2 and "1850" not in answer.text and "green" not in answer.text
    assert answer.text == assistant.ask(HUKOU).text  # the extractive answer, verified
    assert not assistant.ask(HUKOU).fallback


@pytest.mark.parametrize("question, ref, fact", [
    # Not eval questions: the same preference on other wordings.
    ("How much did Zhejiang's exports grow in 2006?", ("07BEIJING1840", 2), "31 percent"),
    ("What share of Zhejiang's criminals are migrants, according to the ZPDRC?", ("09SHANGHAI374", 9),
     "84 percent"),
])
def test_a_question_for_a_figure_is_answered_by_the_sentence_with_it(assistant, question, ref, fact):
    """The extractive answer leads with the sentence that holds the figure asked for, and
    cites only the paragraph that states it."""
    answer = assistant.ask(question)
    assert [(c.cable_id, c.paragraph) for c in answer.citations] == [ref]
    assert fact in split_sentences(answer.text)[0]
