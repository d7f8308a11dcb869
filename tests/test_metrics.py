"""Hand-worked cases for eval/metrics.py: every expected number is computed in the comment."""

import pytest

from eval.metrics import (
    citation_precision,
    contains_fact,
    fact_accuracy,
    first_gold_rank,
    gold_hit_rate,
    has_all_facts,
    mean_reciprocal_rank,
    normalize,
    percentile,
    rate,
    recall_at_k,
)

A1, A2, A3, B1, B2, C7 = ("A", 1), ("A", 2), ("A", 3), ("B", 1), ("B", 2), ("C", 7)



@pytest.mark.parametrize("a, b", [
    ("23.6 million", "23,600,000"),
    ("RMB 23.6 million", "rmb 23,600,000"),
    ("4.1 million", "4,100,000"),
    ("40%", "40 percent"),
    ("40 %", "40 per cent"),
    ("12.8 percent", "12.8%"),
    ("USD 400 billion", "USD 400,000,000,000"),
    ("1.2 million", "1,200,000"),
    ("Old  Wine,\nNew Bottle", "old wine, new bottle"),
    ("\u201cgrave consequences\u201d", '"grave consequences"'),
])
def test_normalize_makes_equivalent_spellings_equal(a, b):
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize("a, b", [
    ("23.6 million", "2.36 million"),
    ("40%", "4%"),
    ("635,000", "63,500"),
])
def test_normalize_keeps_different_numbers_apart(a, b):
    assert normalize(a) != normalize(b)


def test_normalize_leaves_cable_ids_and_plain_decimals():
    assert normalize("09SHANGHAI374 ¶9 says 0.6 meters") == "09shanghai374 ¶9 says 0.6 meters"


@pytest.mark.parametrize("text, fact, found", [
    ("loans totaling RMB 23.6 million (USD 3,450,000)", ["23,600,000"], True),
    ("4,100,000 migrant workers", ["4.1 million"], True),
    ("services account for only 40 percent", ["40%"], True),
    ("services account for only 40 percent", ["4%", "forty percent"], False),
    ("one dollar equals 129 won", ["12"], False),  # a number must stand alone
    ("as fine as 0.6 meters", ["6"], False),  # not the tail of a decimal
    ("it grew 12.8 percent", ["12"], False),  # nor its head
    ("taxi-driver strikes", ["tax"], False),  # whole words only
    ("a new tax on the industry", ["tax"], True),
    ("Vice Premier WU YI intervened", ["Wu Yi"], True),
    ("sentence ends with 12.", ["12"], True),
])
def test_contains_fact(text, fact, found):
    assert contains_fact(text, fact) is found


def test_has_all_facts_needs_every_fact_but_any_alternative():
    facts = [["4.1 million", "4,100,000"], ["635,000"]]
    assert has_all_facts("4,100,000 left and 635,000 came back", facts)
    assert not has_all_facts("4,100,000 left", facts)
    assert has_all_facts("anything", [])


def test_first_gold_rank():
    assert first_gold_rank([A1, B1, A2], {A2, B2}) == 3
    assert first_gold_rank([A1, B1], {C7}) is None
    assert first_gold_rank([], {A1}) is None


# Three questions, ranked hits and gold:
#   q1 hits A1 A2 A3, gold {A2}      -> first gold at rank 2
#   q2 hits B1 B2,    gold {B1, B2}  -> rank 1
#   q3 hits A1 B1,    gold {C7}      -> never
RANKINGS = [[A1, A2, A3], [B1, B2], [A1, B1]]
GOLDS = [{A2}, {B1, B2}, {C7}]


@pytest.mark.parametrize("k, expected", [(1, 1 / 3), (2, 2 / 3), (3, 2 / 3), (10, 2 / 3)])
def test_recall_at_k(k, expected):
    # recall@1: only q2 (rank 1) -> 1/3; from k=2 on q1 joins -> 2/3; q3 never.
    assert recall_at_k(RANKINGS, GOLDS, k) == pytest.approx(expected)


def test_recall_at_k_rejects_k_zero_and_mismatched_lengths():
    with pytest.raises(ValueError):
        recall_at_k(RANKINGS, GOLDS, 0)
    with pytest.raises(ValueError):
        recall_at_k(RANKINGS, GOLDS[:2], 1)


def test_mean_reciprocal_rank():
    # (1/2 + 1/1 + 0) / 3 = 0.5
    assert mean_reciprocal_rank(RANKINGS, GOLDS) == pytest.approx(0.5)


def test_empty_sets_score_zero_not_crash():
    assert recall_at_k([], [], 5) == 0.0
    assert mean_reciprocal_rank([], []) == 0.0
    assert citation_precision([], []) == 0.0
    assert rate([]) == 0.0


def test_citation_precision_averages_over_answers_that_cite():
    # q1 cites A1 A2 with gold {A2} -> 1/2; q2 cites nothing -> left out;
    # q3 cites C7 C7 (one paragraph twice) with gold {C7} -> 1/1.  Mean of (1/2, 1) = 0.75.
    cited = [[A1, A2], [], [C7, C7]]
    assert citation_precision(cited, [{A2}, {B1}, {C7}]) == pytest.approx(0.75)


def test_gold_hit_rate_counts_every_question():
    # q1 cites a gold paragraph, q2 cites nothing, q3 cites only a wrong one -> 1/3.
    cited = [[A1, A2], [], [B2]]
    assert gold_hit_rate(cited, [{A2}, {B1}, {C7}]) == pytest.approx(1 / 3)


def test_fact_accuracy():
    texts = ["Guiping lent RMB 23,600,000 [09GUANGZHOU54 ¶4].", "Services: 40%.", "No idea."]
    facts = [[["23.6 million"]], [["40 percent"], ["14 percent"]], [["84 percent"]]]
    # q1 has its one fact, q2 misses "14 percent", q3 misses its fact -> 1/3.
    assert fact_accuracy(texts, facts) == pytest.approx(1 / 3)


def test_abstention_rates():
    # 10 unanswerable questions, 9 abstained on -> 0.9;
    # 20 answerable ones, 1 wrongly abstained on -> 0.05.
    assert rate([True] * 9 + [False]) == pytest.approx(0.9)
    assert rate([True] + [False] * 19) == pytest.approx(0.05)


def test_percentile_hand_worked():
    values = [100, 10, 40, 30, 20]  # sorted: 10 20 30 40 100
    assert percentile(values, 50) == 30.0  # position 2
    assert percentile(values, 95) == pytest.approx(88.0)  # position 3.8: 40 + 0.8 * 60
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0
    with pytest.raises(ValueError):
        percentile(values, 101)
