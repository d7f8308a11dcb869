"""Run the question set through the assistant and turn the answers into metrics.

`run_questions` is the only part that touches the assistant; `score`, `failures` and
`check_thresholds` work on the recorded `Outcome`s, so a report can be recomputed from
`report.json` without asking again.
"""
from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from cables.errors import InvalidInputError, UnreadableFileError
from cables.files import read_json
from eval import metrics
from eval.questions import Question

RECALL_AT = (1, 5, 10)
STAGES = ("retrieve", "generate", "verify", "total")
DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.json")
# Metrics where lower is better; every other threshold is a minimum.
_LOWER_IS_BETTER = {"wrongful_abstention_rate"}


@dataclass(frozen=True)
class Outcome:
    """What came back for one question, reduced to what the metrics and the report read."""

    question: Question
    text: str
    abstained: bool
    hits: tuple[tuple[str, int], ...]  # ranked (cable_id, paragraph)
    citations: tuple[tuple[str, int], ...]
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage, plus "total"
    generator: str = ""
    settings_hash: str = ""
    top_similarity: float = 0.0  # best question-paragraph cosine: what abstention decides on
    fallback: bool = False  # the generator's whole draft was dropped; the extractive answer shown

    def to_dict(self) -> dict:
        q = self.question
        return {
            "id": q.id, "question": q.question, "answerable": q.answerable,
            "kind": q.kind, "history": list(q.history),
            "gold": [list(r) for r in q.citations], "facts": [list(f) for f in q.facts],
            "text": self.text, "abstained": self.abstained,
            "hits": [list(r) for r in self.hits], "citations": [list(r) for r in self.citations],
            "timings": self.timings, "generator": self.generator,
            "settings_hash": self.settings_hash, "top_similarity": self.top_similarity,
            "fallback": self.fallback,
            "failures": failures(self),
        }


def outcome_of(question: Question, answer, total_ms: float) -> Outcome:
    """An `Answer` (qa.types) → Outcome."""
    return Outcome(
        question=question,
        text=answer.text,
        abstained=answer.abstained,
        hits=tuple((h.cable_id, h.paragraph) for h in answer.hits),
        citations=tuple((c.cable_id, c.paragraph) for c in answer.citations),
        timings={**{k: float(v) for k, v in answer.timings.items()}, "total": total_ms},
        generator=answer.generator,
        settings_hash=answer.settings_hash,
        top_similarity=max((h.similarity for h in answer.hits), default=0.0),
        fallback=answer.fallback,
    )


def supports_history(assistant) -> bool:
    """Whether `assistant.ask` takes the earlier turns of a conversation (`history=`)."""
    return "history" in inspect.signature(assistant.ask).parameters


def sample(questions: Sequence[Question], limit: int | None) -> list[Question]:
    """At most `limit` questions, evenly spread over the set so that every kind and cable
    keeps its share (a set is written in batches by topic); all of them when `limit` is None.

    >>> [q.id for q in sample([Question(str(i), "?", False, (), ()) for i in range(10)], 4)]
    ['0', '2', '5', '7']
    """
    if limit is None or limit >= len(questions):
        return list(questions)
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def run_questions(assistant, questions: Sequence[Question], desc: str = "eval") -> list[Outcome]:
    """Ask every question through `assistant.ask`, with a tqdm bar on stderr.

    A follow-up question is asked with its `history`; the caller checks `supports_history`
    first, since an assistant without it would answer the follow-up alone.
    """
    outcomes = []
    for q in tqdm(questions, desc=desc, unit="q", file=sys.stderr):
        start = time.perf_counter()
        answer = assistant.ask(q.question, **({"history": q.history} if q.history else {}))
        outcomes.append(outcome_of(q, answer, (time.perf_counter() - start) * 1000))
    return outcomes


def failures(o: Outcome) -> list[str]:
    """Why one question counts as failed; empty when it passed every check.

    An answerable question fails when no gold paragraph is among its hits, when
    the answer abstains, cites no gold paragraph, cites a paragraph that is not gold, or
    misses a fact. An unanswerable one fails when the answer does not abstain.
    """
    q = o.question
    if not q.answerable:
        return [] if o.abstained else ["answered an unanswerable question"]
    gold = set(q.citations)
    reasons = []
    if metrics.first_gold_rank(o.hits, gold) is None:
        reasons.append(f"no gold paragraph among the {len(o.hits)} hits")
    if o.abstained:
        reasons.append("abstained")
    elif not gold & set(o.citations):
        reasons.append("cites no gold paragraph")
    wrong = sorted(set(o.citations) - gold)
    if wrong and not o.abstained:
        reasons.append("non-gold citations: " + ", ".join(f"{c} ¶{p}" for c, p in wrong))
    missing = [f[0] for f in q.facts if not metrics.contains_fact(o.text, f)]
    if missing:
        reasons.append("missing facts: " + "; ".join(missing))
    return reasons


def score(outcomes: Sequence[Outcome], depth: int) -> dict:
    """The metrics object: retrieval, citations, facts, abstention, latency.

    `depth` is how many hits each question asked for; recall@k beyond it is not measured
    and reported as None rather than as a smaller k under a bigger name.
    """
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    rankings = [o.hits for o in answerable]
    golds = [o.question.citations for o in answerable]
    cited = [o.citations for o in answerable]
    result: dict = {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "k": depth,
    }
    for k in RECALL_AT:
        result[f"recall@{k}"] = metrics.recall_at_k(rankings, golds, k) if k <= depth else None
    result["mrr"] = metrics.mean_reciprocal_rank(rankings, golds)
    result["citation_precision"] = metrics.citation_precision(cited, golds)
    result["gold_hit_rate"] = metrics.gold_hit_rate(cited, golds)
    result["fact_accuracy"] = metrics.fact_accuracy(
        [o.text for o in answerable], [o.question.facts for o in answerable])
    result["abstention_rate"] = metrics.rate([o.abstained for o in unanswerable])
    result["wrongful_abstention_rate"] = metrics.rate([o.abstained for o in answerable])
    # Of the answers given: how often the model's draft was dropped whole and quoting shown.
    result["fallback_share"] = metrics.rate([o.fallback for o in outcomes if not o.abstained])
    result["recall_curve"] = {
        str(k): metrics.recall_at_k(rankings, golds, k) for k in range(1, depth + 1)}
    result["latency_ms"] = {
        stage: {
            "p50": metrics.percentile(values, 50),
            "p95": metrics.percentile(values, 95),
        }
        for stage in STAGES
        if (values := [o.timings[stage] for o in outcomes if stage in o.timings])
    }
    return result


def score_by_kind(outcomes: Sequence[Outcome], depth: int) -> dict[str, dict]:
    """`score` over the questions of each kind (`Question.kind`), kinds in first-seen order;
    empty when the set does not tag its questions."""
    kinds = dict.fromkeys(o.question.kind for o in outcomes if o.question.kind)
    return {k: score([o for o in outcomes if o.question.kind == k], depth) for k in kinds}


def load_thresholds(path: str | Path, generator: str, split: str) -> dict:
    """The `{"min": {...}, "max": {...}}` thresholds of one generator on one split
    (`{"extractive": {"dev": {...}, "test": {...}}}` in the file); {} when it has none."""
    path = Path(path)
    try:
        table = read_json(path)
    except UnreadableFileError as e:
        raise InvalidInputError(f"thresholds file {e}") from e
    if not isinstance(table, dict):
        raise InvalidInputError(f"{path}: must map each generator to its splits")
    splits = table.get(generator, {})
    if not isinstance(splits, dict):
        raise InvalidInputError(f"{path}: {generator!r} must map each split to its thresholds")
    for name, entry in splits.items():  # every split, so a typo fails whichever one runs
        if not isinstance(entry, dict) or set(entry) - {"min", "max", "note"}:
            raise InvalidInputError(
                f"{path}: {generator}.{name} must hold only 'min', 'max' and 'note'")
        for bound, expected in (("min", False), ("max", True)):
            for metric in entry.get(bound, {}):
                if (metric in _LOWER_IS_BETTER) != expected:
                    raise InvalidInputError(
                        f"{path}: {generator}.{name}.{bound}.{metric}: wrong direction")
    return splits.get(split, {})


def check_thresholds(result: dict, thresholds: dict) -> list[str]:
    """One line per metric on the wrong side of its threshold; empty when all pass.

    >>> check_thresholds({"recall@5": 0.8, "wrongful_abstention_rate": 0.0},
    ...                  {"min": {"recall@5": 0.9}, "max": {"wrongful_abstention_rate": 0.05}})
    ['recall@5 = 0.800, below the minimum 0.900']
    """
    problems = []
    for name, floor in thresholds.get("min", {}).items():
        value = result.get(name)
        if value is None:
            problems.append(f"{name} was not measured (threshold {floor:.3f})")
        elif value < floor:
            problems.append(f"{name} = {value:.3f}, below the minimum {floor:.3f}")
    for name, ceiling in thresholds.get("max", {}).items():
        value = result.get(name)
        if value is None:
            problems.append(f"{name} was not measured (threshold {ceiling:.3f})")
        elif value > ceiling:
            problems.append(f"{name} = {value:.3f}, above the maximum {ceiling:.3f}")
    return problems
