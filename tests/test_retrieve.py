"""Hybrid retrieval on the sample index: names, numbers, jargon, cable IDs, filters."""
import pytest

from cables.records import Filters
from embeddings.store import open_index
from qa.retrieve import keyword_query, retrieve

Q = "what did Zhejiang officials say about hukou?"


@pytest.fixture(scope="module")
def index(sample_index_dir):
    return open_index(sample_index_dir)


def search(index, question, k=8, filters=None):
    return retrieve(index, question, k=k, candidates=50, rrf_k=60, filters=filters)


def refs(hits):
    return [h.ref for h in hits]


def test_question_finds_the_paragraphs_that_answer_it(index):
    hits = search(index, Q)
    assert {"09SHANGHAI374 ¶9", "09SHANGHAI374 ¶3"} <= set(refs(hits)[:3])
    top = hits[0]
    assert top.origin == "Consulate Shanghai" and top.date.startswith("2009-08-28")
    assert top.subject.startswith("NEW ZHEJIANG MIGRANT POLICY")
    assert top.dense_rank is not None and top.keyword_rank is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.similarity <= 1.0 for h in hits) and max(h.similarity for h in hits) > 0.45


@pytest.mark.parametrize("query, expected", [
    ("84 percent", "09SHANGHAI374 ¶9"),  # a number the embedding does not see
    ("Cao Jianguo", "09SHANGHAI374 ¶3"),  # a name
    ("TIP", "07GUANGZHOU208 ¶1"),  # cable jargon: trafficking in persons
])
def test_keyword_list_rescues_names_numbers_and_jargon(index, query, expected):
    hits = search(index, query)
    assert expected in refs(hits)
    assert next(h for h in hits if h.ref == expected).keyword_rank is not None


@pytest.mark.parametrize("question", [
    "09SHANGHAI374 ¶9", "what does 09 SHANGHAI 374 para 9 say?", "09shanghai374 paragraph 9",
])
def test_cited_paragraph_comes_first(index, question):
    hits = search(index, question)
    assert hits[0].ref == "09SHANGHAI374 ¶9" and hits[0].direct
    assert not any(h.direct for h in hits[1:])


def test_named_cable_comes_first_in_its_own_order(index):
    cable = index.cable("09SHANGHAI374")
    hits = search(index, "09 SHANGHAI 374", k=5)
    assert [h.paragraph for h in hits] == [p.number for p in cable.paragraphs][:5]
    assert all(h.direct and h.cable_id == "09SHANGHAI374" for h in hits)


def test_named_cable_with_a_topic_ranks_its_paragraphs_by_the_topic(index):
    hits = search(index, "what does 09SHANGHAI374 say about new jobs?", k=3)
    assert all(h.cable_id == "09SHANGHAI374" for h in hits)
    assert hits[0].ref == "09SHANGHAI374 ¶5"  # "400,000 new jobs in the first half of 2009"


def test_unknown_cable_id_is_just_text(index):
    hits = search(index, "09SHANGHAI99999 hukou")
    assert not any(h.direct for h in hits)


def test_a_top_search_hit_is_not_direct_whatever_rrf_k(index):
    # With rrf_k = 1 a paragraph first in both lists scores 1/2 + 1/2 = 1.0, once the score
    # that meant "named by the question".
    question = "How much did the rural credit cooperative in Guiping lend to migrants who came home?"
    hits = retrieve(index, question, k=3, candidates=50, rrf_k=1)
    assert (hits[0].ref, hits[0].score) == ("09GUANGZHOU54 ¶4", 1.0)
    assert not any(h.direct for h in hits)


def test_filters_are_passed_down(index):
    beijing = search(index, Q, filters=Filters(origins=("Embassy Beijing",)))
    assert beijing and all(h.origin == "Embassy Beijing" for h in beijing)
    dated = search(index, Q, filters=Filters(date_from="2009-01-01", date_to="2009-12-31"))
    assert dated and all("2009-01-01" <= h.date[:10] <= "2009-12-31" for h in dated)
    tagged = search(index, Q, filters=Filters(tags=("ELAB",)))
    assert tagged and all("ELAB" in index.cable(h.cable_id).tags for h in tagged)
    assert search(index, Q, filters=Filters(origins=("Embassy Nowhere",))) == []


def test_keyword_parsing():
    assert keyword_query("what is it?") == "what is it"  # only stop words: keep them all
