"""Citation verification: keep only the draft sentences that a retrieved paragraph backs.

The generator writes a draft with `[n]` markers that point into the numbered sources. Here
each marker becomes `(cable_id, paragraph)`; a marker to a source that was not retrieved is
removed; each sentence is scored against the paragraph(s) it cites (all sources when it
cites none); sentences below the threshold, or with a number their paragraph lacks, are
dropped into `Dropped`; an uncited sentence that passes gets its best paragraph's citation.
What to show when no sentence survives is the caller's decision (`Assistant` falls back to
the extractive answer).

Support of a claim by a paragraph, 0..1 = mean of
  - semantic: the best cosine similarity of the claim to one of the paragraph's sentences
    (sentences, not the whole paragraph: a paragraph vector blurs a specific claim, and
    long texts are what makes encoding slow);
  - lexical: the share of the claim's content words that occur in the paragraph.

For example, with ¶9 of 09SHANGHAI374 retrieved as source [1], the draft
"Ye said 84 percent of criminals are migrants [1]. The sky is green [7]." becomes
"Ye said 84 percent of criminals are migrants [09SHANGHAI374 ¶9]."; the marker [7] and the
unsupported sentence are listed in `dropped` with their reasons.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cables import ids
from cables.ids import citation
from qa.sentences import content_words, names, normalize_space, numbers, split_sentences
from qa.types import Citation, Dropped, Hit

Encode = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised float32 rows

# "[1]", "[1, 3]", "[Source 2]", or a citation the model copied: "[09SHANGHAI374 ¶9]".
_MARKER = re.compile(
    r"\[\s*(?:(?:sources?\s*)?(?P<nums>\d{1,3}(?:\s*[,;]\s*(?:sources?\s*)?\d{1,3})*)"
    rf"|(?P<cable>{ids.WRITTEN})\s*(?:¶|para(?:graph)?\.?)\s*(?P<par>\d+))\s*\]",
    re.IGNORECASE,
)
# Markers written after the full stop ("... hukou. [1]") belong to the sentence before it.
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])((?:\s*(?:{_MARKER.pattern}))+)", re.IGNORECASE)
# Cable IDs and ¶ signs in a claim are references, not facts to check.
_REFERENCE = re.compile(rf"\b{ids.CANONICAL}\b|¶\s*\d+|\bpara(?:graph)?\.?\s*\d+", re.IGNORECASE)


@dataclass(frozen=True)
class Verified:
    text: str  # kept sentences with inline citations "[09SHANGHAI374 ¶9]"
    citations: tuple[Citation, ...]
    dropped: tuple[Dropped, ...]


@dataclass(frozen=True)
class _Claim:
    text: str  # the sentence without markers
    cited: tuple[int, ...]  # indexes into sources (0-based); empty = uncited


def verify(draft: str, sources: Sequence[Hit], encode: Encode, threshold: float) -> Verified:
    """Keep the sentences of `draft` that `sources` support; see the module docstring."""
    claims, dropped = parse_draft(draft, sources)
    kept, more_dropped, citations = _check(claims, sources, encode, threshold)
    return Verified(" ".join(kept), tuple(citations.values()), tuple(dropped + more_dropped))


def parse_draft(draft: str, sources: Sequence[Hit]) -> tuple[list[_Claim], list[Dropped]]:
    """Split a draft into claims with the sources they cite; markers to no source go.

    >>> hits = [Hit("09SHANGHAI374", 9, "", 0, "", "", "", "")]
    >>> claims, dropped = parse_draft("Ye spoke. [1] He left [2].", hits)
    >>> [(c.text, c.cited) for c in claims], [d.sentence for d in dropped]
    ([('Ye spoke.', (0,)), ('He left.', ())], ['[2]'])
    """
    by_ref = {(h.cable_id, h.paragraph): i for i, h in enumerate(sources)}
    draft = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", normalize_space(draft))
    claims, dropped = [], []
    for sentence in split_sentences(draft):
        cited: list[int] = []
        for m in _MARKER.finditer(sentence):
            if m.group("nums"):
                wanted = [int(n) for n in re.findall(r"\d+", m.group("nums"))]
                targets = [(str(n), n - 1 if 1 <= n <= len(sources) else None) for n in wanted]
            else:
                written, par = m.group("cable"), int(m.group("par"))
                cable_id = ids.canonical(written) if ids.is_id(written) else written
                targets = [(citation(cable_id, par), by_ref.get((cable_id, par)))]
            for label, index in targets:
                if index is None:
                    dropped.append(Dropped(f"[{label}]", f"marker [{label}] points to no retrieved source", 0.0))
                elif index not in cited:
                    cited.append(index)
        text = normalize_space(_MARKER.sub("", sentence))
        text = re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", text)
        if content_words(text) or numbers(text):
            claims.append(_Claim(text, tuple(cited)))
    return claims, dropped


def _check(
    claims: list[_Claim], sources: Sequence[Hit], encode: Encode, threshold: float
) -> tuple[list[str], list[Dropped], dict[tuple[str, int], Citation]]:
    """(kept sentences with citations, dropped sentences, citations in order of first use)."""
    # Only the paragraphs some claim will be checked against need their sentences encoded.
    needed = set(range(len(sources))) if any(not c.cited for c in claims) else {i for c in claims for i in c.cited}
    para_sentences = [split_sentences(h.text) or [h.text] if i in needed else [] for i, h in enumerate(sources)]
    texts = [c.text for c in claims] + [s for ss in para_sentences for s in ss]
    vectors = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    claim_vecs = vectors[: len(claims)]
    sent_vecs, offset = [], len(claims)
    for ss in para_sentences:
        sent_vecs.append(vectors[offset : offset + len(ss)])
        offset += len(ss)

    kept: list[str] = []
    dropped: list[Dropped] = []
    citations: dict[tuple[str, int], Citation] = {}
    seen: set[str] = set()
    for claim, vec in zip(claims, claim_vecs):
        key = claim.text.lower().rstrip(".!?")
        if key in seen:
            dropped.append(Dropped(claim.text, "repeats an earlier sentence", 0.0))
            continue
        seen.add(key)
        checkable = _REFERENCE.sub(" ", claim.text)
        candidates = claim.cited or tuple(range(len(sources)))
        if not candidates:
            dropped.append(Dropped(claim.text, "no retrieved paragraph to check it against", 0.0))
            continue
        results = []  # (support, source index, quote, numbers and names the paragraph lacks)
        for i in candidates:
            semantic = max(float((sent_vecs[i] @ vec).max()), 0.0)
            support = (semantic + lexical_overlap(checkable, sources[i].text)) / 2
            missing = unstated(checkable, sources[i].text)
            quote_scores = [
                float(sv @ vec) + lexical_overlap(checkable, s) for s, sv in zip(para_sentences[i], sent_vecs[i])
            ]
            quote = para_sentences[i][int(np.argmax(quote_scores))]
            results.append((support, i, quote, missing))
        passing = [r for r in results if r[0] >= threshold and not r[3]]
        if not passing:
            dropped.append(Dropped(claim.text, _reason(results, sources, threshold), max(r[0] for r in results)))
            continue
        if not claim.cited:  # uncited but supported: give it its best paragraph
            passing = [max(passing, key=lambda r: r[0])]
        refs = []
        for _, i, quote, _ in passing:
            hit = sources[i]
            citations.setdefault((hit.cable_id, hit.paragraph), Citation(hit.cable_id, hit.paragraph, quote))
            refs.append(f"[{hit.ref}]")
        body, end = (claim.text[:-1], claim.text[-1]) if claim.text[-1] in ".!?" else (claim.text, ".")
        kept.append(f"{body} {''.join(refs)}{end}")
    return kept, dropped, citations


def unstated(claim: str, paragraph: str) -> list[str]:
    """The numbers and names of a claim that its paragraph does not contain: a small model
    puts real names and figures into the wrong paragraph's mouth, and overlap scores barely
    notice one wrong token.

    >>> unstated("The appliance maker Eduardo Ablin sold 85 percent", "Haier sold 84 percent")
    ['number 85', 'name Eduardo Ablin']
    """
    lowered = paragraph.lower()
    return ([f"number {n}" for n in sorted(numbers(claim) - numbers(paragraph))]
            + [f"name {n}" for n in names(claim) if n.lower() not in lowered])


def lexical_overlap(claim: str, paragraph: str) -> float:
    """Share of the claim's content words and numbers that occur in the paragraph.

    >>> lexical_overlap("Ye Ke blamed migrants for 84 percent", "84 percent of criminals are migrants, Ye Ke said")
    0.8333333333333334
    """
    words = content_words(claim) | numbers(claim)
    if not words:
        return 0.0
    return len(words & (content_words(paragraph) | numbers(paragraph))) / len(words)


def memoized(encode: Encode) -> Encode:
    """`encode` remembering each text's vector: a second verification of the same sources
    does not encode their sentences again."""
    cache: dict[str, np.ndarray] = {}

    def run(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, encode(missing)))
        return np.stack([cache[t] for t in texts])

    return run


def _reason(results: list[tuple[float, int, str, list[str]]], sources: Sequence[Hit], threshold: float) -> str:
    support, i, _, missing = max(results, key=lambda r: r[0])
    if missing:
        return f"{', '.join(missing)} not in {sources[i].ref}"
    where = sources[i].ref if len(results) == 1 else f"any of {len(results)} paragraphs (best {sources[i].ref})"
    return f"not supported by {where} (support {support:.2f} < {threshold:.2f})"

