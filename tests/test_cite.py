"""cite.verify on crafted drafts, with the real MiniLM encoder and the real 09SHANGHAI374."""
from pathlib import Path

import pytest

from cables.reader import read_cables
from embeddings.encoder import Encoder
from qa.cite import parse_draft, unstated, verify
from qa.extractive import extractive_draft
from qa.sentences import split_sentences
from qa.settings import Settings
from qa.types import Hit

DATA = Path(__file__).resolve().parent.parent / "data" / "cables"
THRESHOLD = Settings().support_threshold


@pytest.fixture(scope="module")
def encode():
    return Encoder().encode


@pytest.fixture(scope="module")
def shanghai374():
    return next(c for c in read_cables(DATA) if c.id == "09SHANGHAI374")


def sources(cable, *numbers):
    """Retrieved paragraphs as the assistant passes them: [1] is the first number."""
    return [Hit(cable.id, n, cable.paragraph(n).text, 0.03, cable.date, cable.origin, cable.subject,
                cable.classification, similarity=0.5) for n in numbers]


def test_invented_sentence_and_marker_to_unretrieved_source_are_removed(shanghai374, encode):
    hits = sources(shanghai374, 9, 3)
    draft = ("Ye Ke said that 84 percent of criminals in Zhejiang are migrant workers [1]. "
             "Zhejiang officials announced a new airport for Hangzhou funded by Japanese banks [2]. "
             "Eliminating the hukou requirement in the near term would be impossible, Ye said [5].")
    v = verify(draft, hits, encode, THRESHOLD)

    assert "airport" not in v.text
    assert "[5]" not in v.text and "[2]" not in v.text
    assert v.text.startswith("Ye Ke said that 84 percent of criminals in Zhejiang are migrant workers "
                             "[09SHANGHAI374 ¶9].")
    # The sentence whose marker pointed nowhere is still true: checked against every
    # source, it gets the citation of the paragraph that says it.
    assert "Eliminating the hukou requirement in the near term would be impossible, Ye said [09SHANGHAI374 ¶9]." in v.text
    reasons = {d.sentence: d.reason for d in v.dropped}
    assert reasons["[5]"] == "marker [5] points to no retrieved source"
    airport = next(d for d in v.dropped if "airport" in d.sentence)
    # Unsupported on every count: the name it invents is the first reason given.
    assert airport.reason == "name Japanese not in 09SHANGHAI374 ¶3" and airport.support < THRESHOLD
    assert [(c.cable_id, c.paragraph) for c in v.citations] == [("09SHANGHAI374", 9)]
    assert v.citations[0].quote == "Ye Ke from the ZPDRC claimed 84 percent of criminals in Zhejiang are migrant workers."


def test_number_missing_from_cited_paragraph_drops_the_sentence(shanghai374, encode):
    hits = sources(shanghai374, 9)
    v = verify("Ye Ke claimed 85 percent of criminals in Zhejiang are migrant workers [1].", hits,
               encode, THRESHOLD)
    assert v.dropped[0].reason == "number 85 not in 09SHANGHAI374 ¶9"
    assert v.text == "" and v.citations == ()  # nothing survived


def test_uncited_supported_sentence_gets_its_best_paragraph(shanghai374, encode):
    hits = sources(shanghai374, 3, 5, 9)
    v = verify("Zhejiang generated 400,000 new jobs in the first half of 2009, Cao said.", hits,
               encode, THRESHOLD)
    assert v.text == "Zhejiang generated 400,000 new jobs in the first half of 2009, Cao said [09SHANGHAI374 ¶5]."
    assert v.citations[0].quote.startswith("The bright side, Cao asserted, is Zhejiang has generated 400,000")
    assert v.dropped == ()


def test_a_source_that_does_not_say_it_is_not_a_citation(shanghai374, encode):
    # True of ¶9, but the draft cites ¶3: the check is against what the sentence cites.
    hits = sources(shanghai374, 3, 9)
    v = verify("Ye Ke claimed 84 percent of criminals in Zhejiang are migrant workers [1].", hits,
               encode, THRESHOLD)
    assert v.dropped[0].reason == "number 84 not in 09SHANGHAI374 ¶3"
    assert v.text == ""


def test_marker_forms(shanghai374, encode):
    hits = sources(shanghai374, 9, 3)
    claims, dropped = parse_draft(
        "Ye said hukou reform is impossible. [1] Cao Jianguo spoke in Hangzhou [2, 1]. "
        "Migrants need permits [09SHANGHAI374 ¶3]. Wrong [09SHANGHAI374 ¶99]. Permits matter [Source 2]. Also [1].", hits)
    assert [(c.text, c.cited) for c in claims] == [
        ("Ye said hukou reform is impossible.", (0,)),
        ("Cao Jianguo spoke in Hangzhou.", (1, 0)),
        ("Migrants need permits.", (1,)),
        ("Wrong.", ()),
        ("Permits matter.", (1,)),
    ]
    assert [d.sentence for d in dropped] == ["[09SHANGHAI374 ¶99]"]  # "Also." says nothing: skipped


def test_repeats_are_dropped_and_quotes_are_sentences_of_the_paragraph(shanghai374, encode):
    hits = sources(shanghai374, 9)
    sentence = "Requiring migrants to register for resident permits will help maintain stability [1]."
    v = verify(sentence + " " + sentence, hits, encode, THRESHOLD)
    assert v.text.count("Requiring") == 1
    assert [d.reason for d in v.dropped] == ["repeats an earlier sentence"]
    assert v.citations[0].quote in split_sentences(shanghai374.paragraph(9).text)


def test_the_extractive_draft_of_the_same_sources_passes_at_any_threshold(shanghai374, encode):
    """What the Assistant shows when nothing of a draft survives (its fallback)."""
    hits = sources(shanghai374, 9, 3)
    assert verify("Paris is the capital of France. I hope this helps!", hits, encode,
                  THRESHOLD).text == ""
    v = verify(extractive_draft("what about hukou?", hits), hits, encode, threshold=0.0)
    assert "hukou" in v.text and v.dropped == ()
    for sentence in split_sentences(v.text):
        assert sentence.endswith(("[09SHANGHAI374 ¶9].", "[09SHANGHAI374 ¶3]."))


def test_a_real_name_put_in_the_wrong_paragraph_is_dropped(shanghai374, encode):
    """SmolLM2 wrote "the appliance maker, Eduardo R. Ablin" of a paragraph naming Haier:
    the overlap with the paragraph is high, but the name is not in it."""
    hits = sources(shanghai374, 9)
    draft = "Ye Ke of the ZPDRC, with Cao Jianguo, claimed 84 percent of criminals in Zhejiang are migrant workers [1]."
    v = verify(draft, hits, encode, THRESHOLD)

    assert "Cao Jianguo" not in v.text
    assert [d.reason for d in v.dropped] == ["name Cao Jianguo not in 09SHANGHAI374 ¶9"]


def test_a_number_written_another_way_is_stated(encode):
    """The verifier reads numbers as the eval does: "RMB 23,600,000" is what the paragraph's
    "RMB 23.6 million" says, and "seven" is "7"."""
    paragraph = "The provincial bank lent RMB 23.6 million to seven migrant worker cooperatives."
    assert unstated("The bank lent RMB 23,600,000 to 7 cooperatives.", paragraph) == []
    assert unstated("The bank lent RMB 23,000,000.", paragraph) == ["number 23000000"]
    hit = Hit("09SHANGHAI374", 5, paragraph, 0.0, "", "", "", "")
    v = verify("The bank lent RMB 23,600,000 to migrant worker cooperatives [1].", [hit], encode,
               THRESHOLD)
    assert v.text == "The bank lent RMB 23,600,000 to migrant worker cooperatives [09SHANGHAI374 ¶5]."
