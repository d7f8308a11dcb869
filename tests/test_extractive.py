"""The extractive composer: which sentences of the retrieved paragraphs answer a question."""
import pytest

from qa.extractive import answer_type_fit, extractive_draft
from qa.generate import get_generator
from qa.sentences import split_sentences
from qa.settings import Settings

QUESTION = "what did Zhejiang officials say about hukou?"


def test_extractive_is_verbatim_cited_and_deterministic(hukou_hits):
    hits = hukou_hits
    draft = extractive_draft(QUESTION, hits)
    assert draft == extractive_draft(QUESTION, hits)
    assert "hukou" in draft
    # Both sentences come from the one paragraph that best answers; ¶9's "hukou" sentence
    # adds no question word that they lack, so it is not a second citation.
    assert len(split_sentences(draft)) == 2 and draft.count("[2]") == 2
    for sentence in split_sentences(draft):
        body, number = sentence[: sentence.rindex(" [")], int(sentence[sentence.rindex("[") + 1])
        assert body in " ".join(hits[number - 1].text.split())
    assert "".join(get_generator("extractive")(QUESTION, hits, Settings())) == draft


@pytest.mark.parametrize("question, sentence, fits", [
    ("How many migrants live in Beijing?", "Beijing has 4 million migrants.", True),
    ("How many migrants live in Beijing?", "Migrants live in Beijing.", False),
    ("What share of output is services?", "Services are 40 percent of output.", True),
    ("What was the won worth in 2009?", "The won fell in 2009.", False),  # 2009 is the question's
    ("Since when has YouTube been blocked?", "It has been blocked since March 24.", True),
    ("When did Vietnam sign the MOU?", "Vietnam signed an MOU with China.", False),
    ("Who founded Little Bird?", "Wei Wei founded it in 1999.", False),  # asks for a name
])
def test_answer_type_fit(question, sentence, fits):
    assert answer_type_fit(question)(sentence) is fits
