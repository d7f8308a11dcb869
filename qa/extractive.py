"""The extractive composer: an answer made of the retrieved paragraphs' own sentences.

Nothing is written that a cable does not say, so it needs no model and is what the
assistant falls back to when a model's draft is dropped whole by the verifier.

>>> hits = [Hit("X", 1, "Rice is cheap. Hukou rules stay, Ye said.", 0, "", "", "", "", similarity=0.5)]
>>> extractive_draft("what about hukou rules?", hits)
'Hukou rules stay, Ye said [1].'
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from qa.sentences import asks_for, content_words, holds_answer_type, numbers, split_sentences
from qa.settings import Settings
from qa.types import Hit

EXTRACTIVE_SENTENCES = 3
# A second paragraph is quoted only when its relevance is within this share of the best
# one's: most questions are answered by one paragraph, and each extra one is a citation
# that the reader must check for nothing. (On the eval set, 0.10 rather than 0.15 raised
# citation precision from 0.84 to 0.88 at the same gold-hit rate.)
EXTRACTIVE_MARGIN = 0.10
EXTRACTIVE_PARAGRAPHS = 2
# Relevance added to a sentence of the kind the question asks for: a figure for "how
# many", a date for "when". Worth about a third of the question's words.
ANSWER_TYPE_BONUS = 0.3
# What a quote must not start with: a heading ("Equal Partners -----"), a label
# ("Summary:"), a connective that points back ("However,"), a pronoun whose referent is
# in the sentence before ("He", "They", "This").
_HEADING_BEFORE = re.compile(r"^[^.!?]{0,120}?\s*-{3,}(?:\s*-+)*\s*")
_HEADING_AFTER = re.compile(r"(?<=[.!?])\s+[^.!?]{0,120}?\s*-{3,}[\s\d.-]*$")
_LABEL = re.compile(r"^(?:begin\s+)?(?:summary|comment|background|note)(?:\s+and\s+comment)?\s*[:.]\s+",
                    re.IGNORECASE)
_CONNECTIVE = re.compile(
    r"^(?:(?:However|Moreover|Furthermore|In addition|Additionally|Also|Still|Meanwhile|Nevertheless|"
    r"Nonetheless|Instead|Thus|Therefore|Consequently|As a result|Indeed|In fact|Likewise|Similarly|"
    r"Further|Finally|Regardless|On the other hand|On the contrary|At the same time|In this vein|"
    r"Even so|Besides|Separately|Then),|(?:But|And|Yet)\b)\s*")
_PRONOUN = re.compile(r"(?:He|She|They|It|This|These|Those|That|His|Her|Their|Its|Such)\b")


def extractive_sentences(question: str, sources: Sequence[Hit], n: int = EXTRACTIVE_SENTENCES) -> list[tuple[str, int]]:
    """At most `n` sentences that answer the question, with their source number.

    Sentence relevance = the idf-weighted share of the question's content words and
    numbers that the sentence contains (idf over the sources' sentences, so "hukou" counts
    more than "Zhejiang" in cables about Zhejiang), plus its paragraph's similarity to the
    question, plus `ANSWER_TYPE_BONUS` when it holds what the question asks for (see
    `answer_type_fit`). Sentences come from the paragraph of the best sentence; another
    paragraph contributes only when its best sentence is nearly as relevant (within
    `EXTRACTIVE_MARGIN`) and its sentence brings question words the chosen ones lack: a
    second paragraph that merely mentions the topic is a citation the answer does not
    need. At most two sentences come from one paragraph.

    >>> hits = [Hit("X", 1, "Rice is cheap. Hukou rules stay, Ye said.", 0, "", "", "", "", similarity=0.5)]
    >>> extractive_sentences("what about hukou rules?", hits, n=1)
    [('Hukou rules stay, Ye said.', 1)]
    """
    paragraphs = _paragraphs(sources)
    wanted = content_words(question) | numbers(question)
    scored = _scored(question, sources, paragraphs)
    # A paragraph is as relevant as its best sentence.
    relevance: dict[int, float] = {}
    for score, number, *_ in scored:
        relevance.setdefault(number, score)
    best = max(relevance.values(), default=0.0)
    chosen: list[tuple[int, int]] = []  # (source number, sentence position)
    covered: set[str] = set()
    for _, number, position, sentence, words in scored:
        used = {m for m, _ in chosen}
        if sum(1 for m, _ in chosen if m == number) >= 2:
            continue
        if used and number not in used and (
            len(used) >= EXTRACTIVE_PARAGRAPHS
            or relevance[number] < best * (1 - EXTRACTIVE_MARGIN)
            or not (words & wanted) - covered
        ):
            continue
        chosen.append((number, position))
        covered |= words & wanted
        if len(chosen) == n:
            break
    taken: dict[int, set[int]] = {}  # per source, the sentence positions quoted so far
    quotes = []
    for number, position in chosen:
        quote = standalone(paragraphs[number - 1], position, taken.setdefault(number, set()))
        if quote:
            quotes.append((quote, number))
    return quotes


def without_labels(sentence: str) -> str:
    """A sentence without the heading or "Summary:" label that the cable put before it
    (or the next paragraph's heading that ran into it).

    >>> without_labels("Equal Partners -------------- SUMMARY: China is biding its time.")
    'China is biding its time.'
    """
    sentence = _HEADING_BEFORE.sub("", sentence)
    sentence = _HEADING_AFTER.sub("", sentence)
    return _LABEL.sub("", sentence).strip()


def standalone(sentences: Sequence[str], position: int, taken: set[int]) -> str:
    """The sentence at `position` of a paragraph, made to stand alone: a leading
    connective ("However,") goes; a sentence that opens with a pronoun ("He said...")
    brings the sentence before it, which names whom it means. `taken` holds the positions
    already quoted (and gets these); '' when this one is among them.

    >>> sentences, taken = ["Ye Ke spoke.", "He said 84 percent.", "However, rules stay."], set()
    >>> standalone(sentences, 1, taken), standalone(sentences, 2, taken), standalone(sentences, 0, taken)
    ('Ye Ke spoke. He said 84 percent.', 'Rules stay.', '')
    """
    if position in taken:
        return ""
    sentence = sentences[position]
    bare = _CONNECTIVE.sub("", sentence, count=1)
    before = position - 1
    if before >= 0 and _PRONOUN.match(bare) and before not in taken and len(content_words(sentences[before])) >= 3:
        taken |= {before, position}
        return f"{sentences[before]} {sentence}"
    taken.add(position)
    return bare[:1].upper() + bare[1:] if bare != sentence else sentence


def ranked_sentences(question: str, sources: Sequence[Hit]) -> list[tuple[float, int, int, str]]:
    """Every sentence of the sources as (relevance, source number, position in the paragraph,
    sentence), most relevant first: the ranking `extractive_sentences` chooses from
    (relevance as it describes).

    >>> hits = [Hit("X", 1, "Rice is cheap today. Hukou rules stay, Ye said.", 0, "", "", "", "")]
    >>> [(n, i, s) for _, n, i, s in ranked_sentences("what about hukou rules?", hits)]
    [(1, 1, 'Hukou rules stay, Ye said.'), (1, 0, 'Rice is cheap today.')]
    """
    return [(score, number, position, sentence)
            for score, number, position, sentence, _ in _scored(question, sources, _paragraphs(sources))]


def _paragraphs(sources: Sequence[Hit]) -> list[list[str]]:
    """Each source's sentences, without headings and labels, in order."""
    return [[without_labels(s) for s in split_sentences(hit.text)] for hit in sources]


def _scored(question: str, sources: Sequence[Hit],
            paragraphs: Sequence[Sequence[str]]) -> list[tuple[float, int, int, str, set[str]]]:
    """(relevance, source number, position, sentence, its words and numbers), best first;
    `paragraphs`: `_paragraphs(sources)`."""
    candidates = [
        (number, position, sentence, words | numbers(sentence))
        for number, sentences in enumerate(paragraphs, 1)
        for position, sentence in enumerate(sentences)
        if len(words := content_words(sentence)) >= 3  # not "End summary." or a heading
    ]
    wanted = content_words(question) | numbers(question)
    fits = answer_type_fit(question)
    df = Counter(w for *_, words in candidates for w in words & wanted)
    idf = {w: math.log(1 + (len(candidates) + 1) / (df[w] + 1)) for w in wanted}
    total = sum(idf.values()) or 1.0
    scored = sorted(
        (-(sum(idf[w] for w in wanted & words) / total + sources[number - 1].similarity
           + ANSWER_TYPE_BONUS * fits(sentence)), number, position, sentence, words)
        for number, position, sentence, words in candidates
    )
    return [(-negative, *rest) for negative, *rest in scored]


def answer_type_fit(question: str) -> Callable[[str], bool]:
    """Whether a sentence holds the kind of thing the question asks for (see
    `qa.sentences.asks_for`): a figure the question does not already give, a date, or a
    person it does not name. Questions of other kinds fit nothing.

    >>> fits = answer_type_fit("How many migrants live in Beijing?")
    >>> fits("Beijing has 4 million migrants."), fits("Migrants live in Beijing.")
    (True, False)
    >>> answer_type_fit("When was YouTube blocked?")("It was blocked since March 24.")
    True
    """
    kind = asks_for(question)
    return lambda sentence: holds_answer_type(kind, question, sentence)


def extractive_draft(question: str, sources: Sequence[Hit]) -> str:
    """The extractive answer as a draft: each sentence followed by its [n] marker.

    >>> hits = [Hit("X", 1, "Hukou rules stay, Ye said.", 0, "", "", "", "")]
    >>> extractive_draft("hukou?", hits)
    'Hukou rules stay, Ye said [1].'
    """
    parts = []
    for sentence, number in extractive_sentences(question, sources):
        sentence = _without_aside_marks(sentence)
        body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (sentence, ".")
        parts.append(f"{body} [{number}]{end}")
    return " ".join(parts)


def _without_aside_marks(sentence: str) -> str:
    """A sentence cut out of a cable's "(Note: ... End Note.)" aside, without the marks
    that only make sense around the whole aside.

    >>> _without_aside_marks("(Note: A permit is not a hukou.")
    'A permit is not a hukou.'
    """
    sentence = re.sub(r"^\((?:Note|Comment):\s*", "", sentence) if ")" not in sentence else sentence
    if sentence.startswith("(") and ")" not in sentence:
        sentence = sentence[1:]
    if sentence.endswith(")") and "(" not in sentence:
        sentence = sentence[:-1]
    return sentence.strip()


def generate_extractive(question: str, sources: Sequence[Hit], settings: Settings) -> Iterator[str]:
    """The extractive draft as a generator (one piece): the registry's `extractive`."""
    yield extractive_draft(question, sources)
