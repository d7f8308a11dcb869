"""Pure metric functions of the evaluation: retrieval, citations, facts, abstention, latency.

Every function takes plain values (ranked paragraph refs, gold sets, answer texts, flags)
and returns a number, so each one can be checked by hand on a toy case. A paragraph ref is
a `(cable_id, paragraph)` tuple, the same pair a `Citation` and a `Hit` carry.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from cables import spell_numbers

Ref = tuple[str, int]

_PERCENT = re.compile(r"(?<=\d)\s*(?:%|per\s*cent\b|percent\b)")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalize(text: str) -> str:
    """Lower-case text with one spelling per number, percentage and whitespace run.

    Facts and answers are compared in this form, so that a cable's "23.6 million" matches
    an answer's "23,600,000" and "40 percent" matches "40%".

    >>> normalize("RMB 23.6 million")
    'rmb 23600000'
    >>> normalize("23,600,000") == normalize("23.6 million")
    True
    >>> normalize("40 percent of  the OUTPUT")
    '40% of the output'
    >>> normalize("4.1 million") == normalize("4,100,000")
    True
    """
    text = spell_numbers(text.translate(_QUOTES).lower())
    text = _PERCENT.sub("%", text)
    return " ".join(text.split())


def contains_fact(text: str, alternatives: Sequence[str]) -> bool:
    """True when `text` states one of the alternatives, after `normalize`, as whole words.

    A number must stand alone: "12" is not found in "129 won" or in "0.12".

    >>> contains_fact("Loans totaled RMB 23,600,000 by December.", ["23.6 million"])
    True
    >>> contains_fact("The rate is 129 won.", ["12"])
    False
    >>> contains_fact("Services are 40 percent of output.", ["40%", "forty percent"])
    True
    """
    haystack = normalize(text)
    for alternative in alternatives:
        needle = normalize(alternative)
        if needle and re.search(rf"(?<![\w])(?<!\d\.){re.escape(needle)}(?![\w])(?!\.\d)", haystack):
            return True
    return False


def has_all_facts(text: str, facts: Sequence[Sequence[str]]) -> bool:
    """True when `text` contains every fact (any one alternative of each).

    >>> has_all_facts("4.1 million left; 635,000 came back", [["4,100,000"], ["635,000"]])
    True
    >>> has_all_facts("4.1 million left", [["4,100,000"], ["635,000"]])
    False
    """
    return all(contains_fact(text, alternatives) for alternatives in facts)


def first_gold_rank(ranked: Sequence[Ref], gold: Iterable[Ref]) -> int | None:
    """1-based rank of the first gold ref in `ranked`, None when no gold ref is there.

    >>> first_gold_rank([("A", 1), ("B", 2), ("A", 3)], {("A", 3)})
    3
    """
    gold = set(gold)
    for rank, ref in enumerate(ranked, start=1):
        if ref in gold:
            return rank
    return None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def recall_at_k(rankings: Sequence[Sequence[Ref]], golds: Sequence[Iterable[Ref]], k: int) -> float:
    """Share of questions with a gold paragraph among their top `k` hits.

    Each question counts once, however many gold paragraphs it has (the question is
    answered as soon as one of them is retrieved).

    >>> recall_at_k([[("A", 1), ("A", 2)], [("B", 5), ("B", 1)]], [{("A", 2)}, {("B", 9)}], 2)
    0.5
    >>> recall_at_k([[("A", 1), ("A", 2)]], [{("A", 2)}], 1)
    0.0
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranks = [first_gold_rank(ranked, gold) for ranked, gold in zip(rankings, golds, strict=True)]
    return _mean([1.0 if r is not None and r <= k else 0.0 for r in ranks])


def mean_reciprocal_rank(rankings: Sequence[Sequence[Ref]], golds: Sequence[Iterable[Ref]]) -> float:
    """Mean over questions of 1 / (rank of the first gold hit); 0 for a question with none.

    >>> mean_reciprocal_rank([[("A", 1), ("A", 2)], [("B", 1)]], [{("A", 2)}, {("C", 1)}])
    0.25
    """
    ranks = [first_gold_rank(ranked, gold) for ranked, gold in zip(rankings, golds, strict=True)]
    return _mean([1.0 / r if r is not None else 0.0 for r in ranks])


def citation_precision(cited: Sequence[Sequence[Ref]], golds: Sequence[Iterable[Ref]]) -> float:
    """Mean, over answers that cite anything, of the share of their citations that are gold.

    An answer without citations (an abstention) has no precision to measure and is left
    out; whether it should have answered is what the gold-hit and abstention rates say.
    Repeated citations of one paragraph count once.

    >>> citation_precision([[("A", 1), ("A", 2)], [], [("B", 1)]], [{("A", 1)}, {("A", 1)}, {("B", 1)}])
    0.75
    """
    shares = []
    for refs, gold in zip(cited, golds, strict=True):
        unique = set(refs)
        if unique:
            shares.append(len(unique & set(gold)) / len(unique))
    return _mean(shares)


def gold_hit_rate(cited: Sequence[Sequence[Ref]], golds: Sequence[Iterable[Ref]]) -> float:
    """Share of questions whose answer cites at least one gold paragraph.

    >>> gold_hit_rate([[("A", 1), ("A", 2)], [], [("B", 3)]], [{("A", 2)}, {("A", 1)}, {("B", 1)}])
    0.3333333333333333
    """
    return _mean([1.0 if set(refs) & set(gold) else 0.0 for refs, gold in zip(cited, golds, strict=True)])


def fact_accuracy(texts: Sequence[str], facts: Sequence[Sequence[Sequence[str]]]) -> float:
    """Share of answers that contain every one of their question's facts.

    >>> fact_accuracy(["It lent RMB 23.6 million.", "No idea."], [[["23,600,000"]], [["635,000"]]])
    0.5
    """
    return _mean([1.0 if has_all_facts(t, f) else 0.0 for t, f in zip(texts, facts, strict=True)])


def rate(flags: Sequence[bool]) -> float:
    """Share of True flags; 0.0 for no flags.

    The abstention rate is `rate` over the unanswerable questions' `abstained` flags, the
    wrongful-abstention rate is `rate` over the answerable ones'.

    >>> rate([True, True, False, True])
    0.75
    """
    return _mean([1.0 if f else 0.0 for f in flags])


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks, as numpy does.

    >>> percentile([10, 20, 30, 40], 50)
    25.0
    >>> percentile([10, 20, 30, 40], 95)
    38.5
    """
    if not values:
        return 0.0
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low, high = math.floor(position), math.ceil(position)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
