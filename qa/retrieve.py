"""Retrieval: the paragraphs of the index that bear on a question, best first.

Dense (FAISS) and keyword (FTS5 BM25) candidates are fused by reciprocal rank fusion, so a
name, number or piece of jargon the embedding misses ("84 percent", "Cao Jianguo", "TIP")
still ranks through the keyword list. A cable ID in the question ("09SHANGHAI374",
"09 SHANGHAI 374", "09SHANGHAI374 ¶9") retrieves that cable or paragraph directly, ahead of
everything else; naming a cable overrides the metadata filters.
"""
from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

from cables import ids
from cables.errors import NotFoundError
from cables.records import Cable, Filters
from qa.sentences import STOPWORDS, content_words
from qa.types import Hit

K = TypeVar("K", bound=Hashable)

# Direct lookups rank above any fused score (RRF scores are at most 2 / (rrf_k + 1)); that
# they were named is their `Hit.direct`, not this score.
DIRECT_SCORE = 2.0
# Paragraphs holding the asked phrase verbatim rank between the two.
PHRASE_SCORE = 0.5
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')


def rrf(lists: Sequence[Sequence[K]], k: int = 60) -> list[tuple[K, float]]:
    """Reciprocal rank fusion: score(x) = sum over lists of 1 / (k + rank of x), rank from 1.

    Ties keep the order in which items were first seen.

    >>> [(x, round(s, 4)) for x, s in rrf([["a", "b", "c"], ["b", "d"]], k=60)]
    [('b', 0.0325), ('a', 0.0164), ('d', 0.0161), ('c', 0.0159)]
    """
    scores: dict[K, float] = {}
    for ranked in lists:
        for rank, item in enumerate(ranked, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def top_k(fused: Sequence[K], lists: Sequence[Sequence[K]], k: int, guaranteed: int = 2) -> list[K]:
    """The first `k` of the fused order, except that the first `guaranteed` items of every
    list always make it (displacing the lowest fused ones), still in fused order.

    RRF favours items that every list ranks moderately; this keeps an item that one list
    is sure of, e.g. the only paragraph containing "84 percent", which the dense list
    ranks nowhere.

    >>> top_k(["b", "c", "d", "a"], [["b", "c", "d"], ["a", "b"]], k=3, guaranteed=1)
    ['b', 'c', 'a']
    """
    must = list(dict.fromkeys(item for ranked in lists for item in ranked[:guaranteed]))[:k]
    rest = [item for item in fused if item not in must][: k - len(must)]
    chosen = set(must) | set(rest)
    return [item for item in fused if item in chosen]


def keyword_query(question: str) -> str:
    """The question without stop words, for BM25 (which would score "what" and "did" too).

    >>> keyword_query("What did Cao Jianguo say about the 84 percent?")
    'Cao Jianguo 84 percent'
    """
    words = re.findall(r"[\w'-]+", question)
    kept = [w for w in words if w.lower() not in STOPWORDS]
    return " ".join(kept or words)


def phrases(query: str) -> list[str]:
    """The exact phrases a query asks for: its quoted parts, else the whole query when it
    has two words or more (a phrase pasted from a cable).

    >>> phrases('hukou "84 percent" “Ye Ke”'), phrases(" 84 percent. "), phrases("hukou")
    (['84 percent', 'Ye Ke'], ['84 percent'], [])
    """
    quoted = [" ".join((a or b).split()) for a, b in _QUOTED.findall(query)]
    if quoted:
        return [q for q in quoted if q]
    whole = " ".join(query.split()).strip(" .,;:!?")
    return [whole] if len(whole.split()) >= 2 else []


def holds(text: str, phrase: str) -> bool:
    r"""Whether `text` holds `phrase` verbatim, ignoring case and line breaks.

    >>> holds("Ye Ke claimed 84\npercent of criminals", "84 Percent"), holds("184 percent", "84 percent")
    (True, False)
    """
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.lower().split())) + r"(?!\w)"
    return re.search(pattern, text.lower()) is not None


def retrieve(index, question: str, *, k: int, candidates: int, rrf_k: int,
             filters: Filters | None = None) -> list[Hit]:
    """The `k` best paragraphs for `question` from an open `embeddings.store.Index`.

    Each Hit carries its fused score, its rank in each list and `similarity`, the cosine of
    the question and the paragraph (its best chunk when the dense list found it).
    """
    encoder = index.encoder()
    qvec = encoder.encode([question])[0]
    dense = index.search_dense(qvec, candidates, filters)
    keyword = index.search_keyword(keyword_query(question), candidates, filters)
    dense_rank = {(m.cable_id, m.paragraph): r for r, m in enumerate(dense, 1)}
    keyword_rank = {(m.cable_id, m.paragraph): r for r, m in enumerate(keyword, 1)}
    dense_score = {(m.cable_id, m.paragraph): m.score for m in dense}
    lists = [list(dense_rank), list(keyword_rank)]
    fused = rrf(lists, k=rrf_k)

    direct = dict(_direct(index, question, encoder))
    # Among paragraphs holding the phrase, those the fused lists like best come first.
    fused_rank = {key: r for r, (key, _) in enumerate(fused)}
    held = sorted(_exact(index, question, candidates, filters),
                  key=lambda key: fused_rank.get(key, len(fused_rank)))
    exact = {key: PHRASE_SCORE + 0.1 / r for r, key in enumerate(held, 1) if key not in direct}
    searched = top_k([key for key, _ in fused], lists, k)
    keys = (list(direct) + list(exact) + [key for key in searched
                                          if key not in direct and key not in exact])[:k]
    scores = dict(fused) | exact | direct

    cables: dict[str, Cable] = {}
    for cable_id, _ in keys:
        if cable_id not in cables:
            cables[cable_id] = index.cable(cable_id)
    texts = {key: cables[key[0]].paragraph(key[1]).text for key in keys}
    to_encode = [key for key in keys if key not in dense_score]
    if to_encode:
        for key, vec in zip(to_encode, encoder.encode([texts[key] for key in to_encode])):
            dense_score[key] = float(vec @ qvec)
    return [
        Hit(
            cable_id=key[0], paragraph=key[1], text=texts[key], score=scores[key],
            date=cables[key[0]].date, origin=cables[key[0]].origin,
            subject=cables[key[0]].subject, classification=cables[key[0]].classification,
            dense_rank=dense_rank.get(key), keyword_rank=keyword_rank.get(key),
            similarity=float(dense_score[key]), direct=key in direct,
            recipients=cables[key[0]].recipients,
        )
        for key in keys
    ]


def _exact(index, query: str, candidates: int, filters: Filters | None) -> list[tuple[str, int]]:
    """Paragraphs holding every phrase of the query verbatim, in BM25 order."""
    wanted = phrases(query)
    if not wanted:
        return []
    found: list[tuple[str, int]] = []
    for m in index.search_keyword(wanted[0], candidates, filters, phrase=True):
        text = index.paragraph(m.cable_id, m.paragraph).text
        if all(holds(text, p) for p in wanted):
            found.append((m.cable_id, m.paragraph))
    return found


def _direct(index, question: str, encoder) -> list[tuple[tuple[str, int], float]]:
    """Paragraphs the question names, with scores above any fused score: a cited paragraph
    first, then the paragraphs of a named cable by similarity to the rest of the question
    (in the cable's order when nothing else is asked)."""
    named: list[tuple[str, int]] = []
    for cable_id, paragraph in ids.mentions(question):
        try:
            cable = index.cable(cable_id)
        except NotFoundError:
            continue
        numbers = [p.number for p in cable.paragraphs]
        if paragraph is not None and paragraph in numbers:
            named.append((cable_id, paragraph))
            continue
        rest = ids.without_mentions(question)
        if content_words(rest):
            sims = encoder.encode([rest] + [p.text for p in cable.paragraphs])
            order = np.argsort(-(sims[1:] @ sims[0]), kind="stable")
            numbers = [numbers[i] for i in order]
        named.extend((cable_id, n) for n in numbers)
    named = list(dict.fromkeys(named))
    return [(key, DIRECT_SCORE + 1.0 / (1 + rank)) for rank, key in enumerate(named, 1)]
