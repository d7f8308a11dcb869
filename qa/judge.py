"""The judge: does any retrieved paragraph answer the question? If not, say why.

Two logistic regressions, fitted on the dev questions and the training questions
(`python -m eval.judge fit`), run here in plain numpy:

- relevance: P(paragraph answers the question) for each hit, from its similarity, its
  ranks in the dense, keyword and fused lists, the idf-weighted share of the question's
  terms it holds, whether it names what the question names, and whether it holds what
  the question asks for (a figure, a date, a person);
- answerability: P(some hit answers) for the question, from the best relevance and
  similarity, the question's terms and names that no hit holds (weighted by how rare
  each word is in a background corpus: a missing "whaling" tells, a missing "take" does
  not), and a year the question asks about that the best hit does not mention.

Which paragraphs to cite stays the extractive composer's choice among all the hits:
restricting it to the hits of high relevance was measured and lowered the gold-hit rate
(dev 0.964 to 0.880) for no gain in citation precision (see `eval/judge.py`).

The model is a small JSON file (`qa/judge.json`): format version, feature names,
coefficients, standardisation, the abstention threshold, the background word counts and
the hash of the data it was fitted on, checked on load like an index manifest.

Question terms are matched to paragraphs after folding case, quotes, possessives,
hyphens, spaces, word order and word endings, so "Black Hawk" finds "Blackhawk",
"EU-China" finds "China-EU" and "Buddhism" finds "Buddhist":

>>> mentions(text_terms("The China-EU summit; Blackhawk helicopters; Buddhist monks"),
...          ("eu", "china")), mentions(text_terms("Blackhawk"), ("black", "hawk"))
(True, True)
>>> term_matches("buddhism", "buddhist"), term_matches("policy", "police")
(True, False)
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cables.errors import PilcrowError, UnreadableFileError
from cables.files import read_json, write_atomic
from cables.numbers import is_number_word
from qa.sentences import STOPWORDS, YEAR, asks_for, holds_answer_type, names, numbers, split_sentences
from qa.types import Hit

FORMAT_VERSION = 1
MODEL_PATH = Path(__file__).with_name("judge.json")

# Word endings that leave a term's meaning (for matching) unchanged: "Buddhism" and
# "Buddhist", "China" and "Chinese", "Britain" and "British", "Korea" and "Korean". Not
# "y" or "ial": "policy" is not "police", nor "official" "office".
_ENDINGS = frozenset("s es n an ans ian ians ese ism ist ists a ish ain e ed ing er ers".split() + [""])
_MIN_STEM = 4
# One spelling for the names cables and readers write differently.
_ALIASES = (
    (re.compile(r"\bu\.\s?s\.(?:\s?a\.)?|\bunited states(?: of america)?\b|\busa\b|\bamerica(?:n|ns)?\b"), " us "),
    (re.compile(r"\bu\.\s?k\.|\bunited kingdom\b|\bgreat britain\b|\bbritain\b|\bbritish\b"), " uk "),
    (re.compile(r"\bp\.\s?r\.\s?c\.|\bprc\b|\bpeople'?s republic of china\b"), " china "),
    (re.compile(r"\bd\.?p\.?r\.?k\.?\b|\bnorth korea(?:n|ns)?\b"), " dprk "),
    (re.compile(r"\br\.?o\.?k\.?\b|\bsouth korea(?:n|ns)?\b"), " rok "),
)
_TOKEN = re.compile(r"[a-z0-9]+")
_BRITISH = re.compile(r"(?<=[a-z]{3})is(?=e$|ed$|es$|ing$|ation)")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "`": "'"})
# A figure for part of a year: what a question about the whole year must not be given.
_PART_YEAR = re.compile(
    r"\b(?:(?:first|last|past)\s+(?:(?:two|three|four|five|six|seven|eight|nine|ten|eleven|\d+)\s+months|"
    r"half|quarter|three quarters)|(?:January|Jan\.?)\s*(?:-|–|to|through)\s*(?:[A-Z][a-z]+\.?)|"
    r"Q[1-3]\b|(?:first|second|third) quarter)", re.IGNORECASE)


class JudgeError(PilcrowError):
    """The judge's model file is missing, damaged or written for other features."""


# --- matching ------------------------------------------------------------------------

def fold(text: str) -> str:
    """Lower case, one spelling per country alias, no quotes or possessives.

    >>> " ".join(fold("Britain's 'EU-China' talks with the U.S.").split())
    'uk eu-china talks with the us'
    """
    text = text.translate(_QUOTES).lower()
    text = re.sub(r"'s\b", "", text)
    for pattern, replacement in _ALIASES:
        text = pattern.sub(replacement, text)
    return text.replace("'", " ").replace('"', " ")


def tokens(text: str) -> list[str]:
    """Folded words, one spelling for British "-ise" and for "-ied" / "-ies" endings.

    >>> tokens("Organised, worried parties labelling U.S.-China talks")
    ['organized', 'worry', 'party', 'labeling', 'us', 'china', 'talks']
    """
    return [_spelling(t) for t in _TOKEN.findall(fold(text))]


def _spelling(token: str) -> str:
    if len(token) > 4 and token.endswith(("ied", "ies", "ie")):  # "ie": a plural cut by names()
        return token[:token.rindex("ie")] + "y"
    if len(token) > 7 and token.endswith(("lling", "lled")):  # British "labelling"
        token = token[:token.rindex("ll") + 1] + token[token.rindex("ll") + 2:]
    return _BRITISH.sub("iz", token) if len(token) > 5 else token


def text_terms(text: str) -> frozenset[str]:
    """The folded tokens of `text`, plus each adjacent pair written as one word (so a
    question's "Blackhawk" finds "Black Hawk").

    >>> sorted(text_terms("Black Hawk's"))
    ['black', 'blackhawk', 'hawk']
    """
    found = tokens(text)
    return frozenset(found) | {a + b for a, b in zip(found, found[1:])}


def term_matches(a: str, b: str) -> bool:
    """Whether two folded tokens are one term: equal, or one stem of at least four
    letters with endings from `_ENDINGS` ("china" / "chinese", "korea" / "korean")."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return False
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    # The shared stem may end inside the endings: "buddhis-m" / "buddhis-t" is "buddh-ism".
    return any(a[p:] in _ENDINGS and b[p:] in _ENDINGS for p in range(common, _MIN_STEM - 1, -1))


def mentions(terms: frozenset[str], phrase: Sequence[str]) -> bool:
    """Whether text with these `text_terms` holds the phrase's tokens, in any order, or
    the phrase written as one word."""
    def has(token: str) -> bool:
        return token in terms or any(term_matches(token, t) for t in terms if t[:2] == token[:2])

    return all(has(t) for t in phrase) or (len(phrase) > 1 and has("".join(phrase)))


@dataclass(frozen=True)
class Term:
    """One thing the question asks about: a name ("Wang Yang") or a content word."""

    text: str
    tokens: tuple[str, ...]
    is_name: bool


def question_terms(question: str) -> list[Term]:
    """The question's names, then its other content words and its numbers (not years,
    which are checked on their own).

    >>> [(t.text, t.is_name) for t in question_terms("Did Black Hawk sales to North Korea anger China?")]
    [('Black Hawk', True), ('North Korea', True), ('China', True), ('sales', False), ('anger', False)]
    """
    terms, inside = [], set()
    for name in names(question):
        # names() cuts plural endings ("United State"); fold the name as written.
        written = m.group() if (m := re.search(re.escape(name) + r"\w*", question)) else name
        folded = tuple(tokens(written))
        if folded and not all(t in STOPWORDS for t in folded):
            terms.append(Term(name, folded, True))
            inside |= set(folded) | set(_TOKEN.findall(written.lower()))
    words = [w for w in _TOKEN.findall(fold(question))
             if w not in STOPWORDS and not is_number_word(w) and len(w) > 1 and not w.isdigit()]
    for word in dict.fromkeys(words):
        folded = tuple(tokens(word))
        if folded and not set(folded) <= inside and word not in inside:
            terms.append(Term(word, folded, False))
    for number in sorted(numbers(question)):
        if not YEAR.fullmatch(number):
            terms.append(Term(number, tuple(_TOKEN.findall(number)), False))
    return terms


# --- features ------------------------------------------------------------------------

@dataclass(frozen=True)
class Vocabulary:
    """How many paragraphs of a background corpus hold each word: what makes "whaling"
    telling and "take" not. Words below the table's floor count as seen `floor / 2` times.

    >>> v = Vocabulary(1000, 20, {"official": 400, "hukou": 25})
    >>> round(v.idf("official"), 2), round(v.idf("hukou"), 2), round(v.idf("whaling"), 2)
    (0.91, 3.65, 4.51)
    """

    paragraphs: int
    floor: int
    df: dict[str, int]

    def idf(self, token: str) -> float:
        df = self.df.get(token)
        if df is None:  # a plural or past tense of a listed word counts as that word
            df = max((self.df.get(token[:-n], 0) for n in (1, 2, 3) if len(token) - n >= _MIN_STEM),
                     default=0) or self.floor / 2
        return math.log((self.paragraphs + 1) / (df + 1))

    def weight(self, term: Term) -> float:
        """A term weighs as its rarest word; names and numbers at least as much as a word
        below the table's floor."""
        w = max(self.idf(t) for t in term.tokens)
        if term.is_name or term.tokens[0].isdigit():
            w = max(w, math.log((self.paragraphs + 1) / (self.floor / 2 + 1)))
        return w

    @classmethod
    def count(cls, texts, floor: int = 20) -> Vocabulary:
        """The table for an iterable of paragraph texts, words in at least `floor` of them."""
        df: dict[str, int] = {}
        n = 0
        for text in texts:
            n += 1
            for t in set(tokens(text)):
                df[t] = df.get(t, 0) + 1
        return cls(n, floor, {t: c for t, c in sorted(df.items()) if c >= floor and not t.isdigit()})


HIT_FEATURES = (
    "similarity", "similarity_gap", "fused_rank", "dense_rr", "keyword_rr", "both_lists",
    "cover", "cover_gap", "sentence_cover", "names_share", "numbers_share", "answer_type",
    "answer_sentence", "predicate_sentence", "year_in_text", "year_in_date", "missing_rarest",
)
QUESTION_FEATURES = (
    "best_relevance", "best_similarity", "best_cover", "names_missing", "missing_rarest",
    "best_year_missing", "best_predicate_sentence", "top3_predicate_sentence",
)


@dataclass(frozen=True)
class Evidence:
    """What the features are computed from, kept for the reasons an abstention gives."""

    terms: tuple[Term, ...]
    weights: tuple[float, ...]  # each term's background idf
    found: tuple[tuple[bool, ...], ...]  # found[hit][term]
    # per hit, per sentence: (cover, cover of the words that are not names, holds the answer type)
    sentences: tuple[tuple[tuple[float, float, bool], ...], ...]
    years: tuple[str, ...]  # years the question names
    hit_years: tuple[frozenset[str], ...]  # years each hit's text names
    part_year: tuple[str, ...]  # per hit: the part-of-year phrase it uses, or ''
    kind: str  # what the question asks for (`asks_for`)

    def missing(self, hits: Sequence[int]) -> list[int]:
        """Indexes of the terms none of these hits holds."""
        return [j for j in range(len(self.terms)) if not any(self.found[i][j] for i in hits)]

    def rarest(self, terms: Sequence[int]) -> float:
        return max((self.weights[j] for j in terms), default=0.0)


def _share(weights: Sequence[float], flags: Sequence[bool]) -> float:
    total = sum(weights)
    return sum(w for w, f in zip(weights, flags) if f) / total if total else 1.0


def evidence(question: str, hits: Sequence[Hit], vocabulary: Vocabulary) -> Evidence:
    """Which question terms each hit and each of its sentences holds."""
    terms = question_terms(question)
    weights = tuple(vocabulary.weight(t) for t in terms)
    kind = asks_for(question)
    found, sentences = [], []
    for h in hits:
        found.append(tuple(mentions(text_terms(f"{h.subject} {h.text}"), t.tokens) for t in terms))
        rows = []
        for sentence in split_sentences(h.text):
            st = text_terms(sentence)
            has = [mentions(st, t.tokens) for t in terms]
            rows.append((_share(weights, has),
                         _share([w for w, t in zip(weights, terms) if not t.is_name],
                                [f for f, t in zip(has, terms) if not t.is_name]),
                         holds_answer_type(kind, question, sentence)))
        sentences.append(tuple(rows))
    return Evidence(
        tuple(terms), weights, tuple(found), tuple(sentences), _years(question),
        tuple(frozenset(YEAR.findall(h.text)) for h in hits),
        tuple((m.group() if (m := _PART_YEAR.search(h.text)) else "") for h in hits), kind,
    )


def _years(question: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(YEAR.findall(question)))


def _answer_sentence(kind: str, sentences: Sequence[tuple[float, float, bool]], predicate: bool = False) -> float:
    """The best cover of a sentence that also holds what the question asks for (a figure
    next to the words asked about, not anywhere in the paragraph); of any sentence when
    the question asks for no particular kind. `predicate`: count only the words that are
    not names (what is said about them, not who)."""
    return max(((pred if predicate else cover) for cover, pred, holds in sentences if holds or not kind),
               default=0.0)


def hit_features(question: str, hits: Sequence[Hit], ev: Evidence) -> np.ndarray:
    """One row of `HIT_FEATURES` per hit."""
    kind = ev.kind
    best_sim = max((h.similarity for h in hits), default=0.0)
    covers = [_share(ev.weights, f) for f in ev.found]
    best_cover = max(covers, default=0.0)
    name_idx = [j for j, t in enumerate(ev.terms) if t.is_name]
    num_idx = [j for j, t in enumerate(ev.terms) if t.tokens[0].isdigit()]
    rows = []
    for i, hit in enumerate(hits):
        rows.append([
            hit.similarity,
            hit.similarity - best_sim,
            1.0 / (1 + i),
            1.0 / hit.dense_rank if hit.dense_rank else 0.0,
            1.0 / hit.keyword_rank if hit.keyword_rank else 0.0,
            float(bool(hit.dense_rank and hit.keyword_rank and hit.dense_rank <= 10 and hit.keyword_rank <= 10)),
            covers[i],
            covers[i] - best_cover,
            max((c for c, _, _ in ev.sentences[i]), default=0.0),
            sum(ev.found[i][j] for j in name_idx) / len(name_idx) if name_idx else 1.0,
            sum(ev.found[i][j] for j in num_idx) / len(num_idx) if num_idx else 1.0,
            float(any(h for _, _, h in ev.sentences[i])) if kind else 0.5,
            _answer_sentence(kind, ev.sentences[i]),
            _answer_sentence(kind, ev.sentences[i], predicate=True),
            float(all(y in ev.hit_years[i] for y in ev.years)),
            float(all(y == hit.date[:4] for y in ev.years)),
            ev.rarest(ev.missing([i])),
        ])
    return np.array(rows, dtype=np.float64).reshape(len(hits), len(HIT_FEATURES))


def question_features(question: str, hits: Sequence[Hit], ev: Evidence, relevance: np.ndarray) -> np.ndarray:
    """The row of `QUESTION_FEATURES` for the question, given each hit's relevance."""
    everywhere = ev.missing(range(len(hits)))
    order = [int(i) for i in np.argsort(-relevance, kind="stable")]
    best = order[0] if order else 0
    kind = ev.kind
    return np.array([
        float(relevance[best]) if len(relevance) else 0.0,
        max((h.similarity for h in hits), default=0.0),
        max((_share(ev.weights, f) for f in ev.found), default=0.0),
        float(sum(1 for j in everywhere if ev.terms[j].is_name)),
        ev.rarest(everywhere),
        float(bool(ev.years) and bool(hits) and not all(y in ev.hit_years[best] for y in ev.years)),
        _answer_sentence(kind, ev.sentences[best], predicate=True) if hits else 0.0,
        max((_answer_sentence(kind, ev.sentences[i], predicate=True) for i in order[:3]), default=0.0),
    ], dtype=np.float64)


def _part_year(question: str, ev: Evidence, best: int) -> bool:
    """Whether the question asks about a whole year and the best paragraph's figure is
    for part of one ("the first nine months of 2009")."""
    return bool(ev.years and ev.part_year and ev.part_year[best] and not _PART_YEAR.search(question))


# --- the model -----------------------------------------------------------------------

@dataclass(frozen=True)
class Logistic:
    """A fitted logistic regression over standardised features: P = sigmoid(w·z + b)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - np.array(self.mean)) / np.array(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.array(self.coef) + self.intercept)))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, d: dict, features: tuple[str, ...]) -> Logistic:
        if tuple(d["features"]) != features:
            raise JudgeError(f"its features {d['features']} are not this Pilcrow's {list(features)}")
        n = len(features)
        if not all(len(d[k]) == n for k in ("mean", "scale", "coef")):
            raise JudgeError("its coefficient lists do not match its features")
        return cls(features, *(tuple(float(v) for v in d[k]) for k in ("mean", "scale", "coef")),
                   float(d["intercept"]))


@dataclass(frozen=True)
class Verdict:
    """The judge's decision for one question."""

    answerable: float  # P(some retrieved paragraph answers the question)
    relevance: tuple[float, ...]  # P(hit answers it), one per hit
    abstain: bool
    reason: str  # why it abstains ('' when it answers)


@dataclass(frozen=True)
class Judge:
    relevance_model: Logistic
    answer_model: Logistic
    abstain_below: float  # abstain when P(answerable) is below this
    vocabulary: Vocabulary
    data_hash: str

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> Judge:
        """The fitted judge; JudgeError naming the file and the refit command otherwise."""
        path = Path(path)
        fix = "refit it with `python -m eval.judge fit`"
        try:
            d = read_json(path)
        except UnreadableFileError as e:
            raise JudgeError(f"judge model {e}; {fix}") from e
        try:
            if d.get("format_version") != FORMAT_VERSION:
                raise JudgeError(f"format version {d.get('format_version')!r}, this Pilcrow reads {FORMAT_VERSION}")
            return cls(Logistic.from_dict(d["relevance"], HIT_FEATURES),
                       Logistic.from_dict(d["answerable"], QUESTION_FEATURES),
                       float(d["abstain_below"]),
                       Vocabulary(int(d["vocabulary"]["paragraphs"]), int(d["vocabulary"]["floor"]),
                                  {str(w): int(c) for w, c in d["vocabulary"]["df"].items()}),
                       str(d["data_hash"]))
        except JudgeError as e:
            raise JudgeError(f"judge model {path}: {e}; {fix}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise JudgeError(f"judge model {path}: missing or bad field ({e}); {fix}") from None

    def to_dict(self) -> dict:
        return {"format_version": FORMAT_VERSION, "data_hash": self.data_hash,
                "abstain_below": self.abstain_below,
                "relevance": self.relevance_model.to_dict(), "answerable": self.answer_model.to_dict(),
                "vocabulary": {"paragraphs": self.vocabulary.paragraphs, "floor": self.vocabulary.floor,
                               "df": self.vocabulary.df}}

    def save(self, path: str | Path = MODEL_PATH) -> None:
        write_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")

    def judge(self, question: str, hits: Sequence[Hit], abstain_below: float | None = None) -> Verdict:
        """Whether to answer `question` from `hits`, and why not;
        `abstain_below` replaces the fitted threshold when given."""
        if not hits:
            return Verdict(0.0, (), True, "nothing was retrieved")
        if any(h.direct for h in hits):  # the reader named the cable: answer from it
            return Verdict(1.0, tuple(1.0 for _ in hits), False, "")
        ev = evidence(question, hits, self.vocabulary)
        relevance = self.relevance_model.predict(hit_features(question, hits, ev))
        p = float(self.answer_model.predict(question_features(question, hits, ev, relevance))[0])
        abstain = p < (self.abstain_below if abstain_below is None else abstain_below)
        return Verdict(p, tuple(float(r) for r in relevance), abstain,
                       why_not(question, hits, ev, int(np.argmax(relevance))) if abstain else "")


@functools.cache
def load_judge(path: str | Path = MODEL_PATH) -> Judge:
    """`Judge.load`, once per process and file."""
    return Judge.load(path)


def why_not(question: str, hits: Sequence[Hit], ev: Evidence, best: int) -> str:
    """One line saying why the hits do not answer the question.

    In order: a name or word of the question that no paragraph holds ("no paragraph
    mentions whaling"), a year no paragraph mentions, a part-year figure for a question
    about a whole year, or none of the paragraphs close enough.
    """
    typical = sum(ev.weights) / len(ev.weights) if ev.weights else 0.0
    missing = [(ev.terms[j].is_name, ev.weights[j], ev.terms[j].text) for j in ev.missing(range(len(hits)))
               if ev.terms[j].is_name or ev.weights[j] >= typical]
    if missing:
        _, _, text = max(missing, key=lambda m: (m[0], m[1]))
        return f"no retrieved paragraph mentions {text}"
    if ev.years and not any(all(y in hy for y in ev.years) for hy in ev.hit_years):
        given = sorted({y for hy in ev.hit_years for y in hy} - set(ev.years))
        return (f"no retrieved paragraph mentions {' or '.join(ev.years)}"
                + (f"; the closest are about {', '.join(given[-3:])}" if given else ""))
    if _part_year(question, ev, best):
        return (f"the closest paragraph ({hits[best].ref}) gives the figure for "
                f"\"{ev.part_year[best]}\", not for the whole of {ev.years[0]}")
    return "no retrieved paragraph says what the question asks"


def data_hash(blobs: Sequence[bytes]) -> str:
    """Short hash of the training data a judge was fitted on."""
    h = hashlib.sha256()
    for b in blobs:
        h.update(hashlib.sha256(b).digest())
    return h.hexdigest()[:16]


# --- fitting (needs scikit-learn; run time does not) ---------------------------------

def fit_logistic(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], c: float = 1.0) -> Logistic:
    """A standardised, L2-regularised logistic regression of `y` on the columns of `x`."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=1000).fit((x - mean) / scale, y)
    return Logistic(features, tuple(map(float, mean)), tuple(map(float, scale)),
                    tuple(map(float, model.coef_[0])), float(model.intercept_[0]))
