"""Cable prose cut into sentences and content words: what answers are compared by (numbers
are read by `cables.numbers`, the same way the eval reads them).

>>> split_sentences("The U.S. Consul met Mr. Cao. He said 84 percent. End note.")
['The U.S. Consul met Mr. Cao.', 'He said 84 percent.', 'End note.']
>>> sorted(content_words("Zhejiang officials said the hukou rules stay"))
['hukou', 'official', 'rule', 'stay', 'zhejiang']
>>> names("Did Guangdong party secretary Wang Yang tell Dr. Gao or North Koreans about China's TIP?")
['Guangdong', 'Wang Yang', 'Gao', 'North Korean', 'China', 'TIP']
"""
from __future__ import annotations

import re

from cables.numbers import is_number_word, numbers

__all__ = ["STOPWORDS", "content_words", "names", "normalize_space", "numbers", "split_sentences"]

# Words that end with a period without ending a sentence. Cables abbreviate titles, months
# and country names ("U.S.", "P.R.C."); the single-letter rule covers initials.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr gen lt col maj capt adm sen rep gov amb ambassador pol econ amcit
    jan feb mar apr jun jul aug sep sept oct nov dec no nos st co corp ltd inc vs e.g i.e
    approx dept govt u.s u.n u.k p.r.c e.u""".split()
)
_BOUNDARY = re.compile(r"""[.!?]["')\]]*\s+(?=["'(\[]?[A-Z0-9])""")
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_NAME_TOKEN = re.compile(r"[A-Za-z][\w'’.-]*")
# What a question asks for: a figure ("how many", "what share", "worth"), a date ("when",
# "what year") or a person ("who", "which official").
_ASKS_QUANTITY = re.compile(
    r"\b(?:how (?:much|many|fast|far|long|large|big|high|low|old|often)|by how|worth|"
    r"what (?:\w+ )?(?:share|proportion|percentages?|percent|number|amount|rates?|prices?|figures?|size|value))\b",
    re.IGNORECASE)
_ASKS_DATE = re.compile(r"^\s*when\b|\bsince when\b|\b(?:what|which|in what) (?:date|day|year|month)\b",
                        re.IGNORECASE)
_ASKS_PERSON = re.compile(r"^\s*(?:who|whom)\b|\bwhich (?:\w+ )?(?:official|person|minister|leader|scholar|diplomat)\b",
                          re.IGNORECASE)
_DATE = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|"
                   r"November|December|(?:19|20)\d\d)\b")
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# Function words, question words and reporting verbs: they match everywhere and prove nothing.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    upon very was we were what when where which while who whom why will with would you your
    yours yourself yourselves according however said says say saying told tell stated note
    much many
    end summary comment cable post please know anything something thing there's it's""".split()
)


def normalize_space(text: str) -> str:
    """One space between words: telegram text breaks lines mid-sentence."""
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, keeping their punctuation; abbreviations do not end a sentence."""
    text = normalize_space(text)
    sentences, start = [], 0
    for m in _BOUNDARY.finditer(text):
        last_word = text[start : m.start()].rsplit(" ", 1)[-1].lstrip("(\"'").lower()
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue
        sentences.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences


def _stem(word: str) -> str:
    # A light plural strip is enough to match "officials" with "official".
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words that carry meaning (no stop words, no numbers)."""
    return {
        _stem(w)
        for w in _WORD.findall(text.lower())
        if w not in STOPWORDS and not is_number_word(w) and len(w) > 1
    }


def names(text: str) -> list[str]:
    """Capitalised words and runs of them ("Wang Yang", "TIP"): the names a question asks
    about. The first word is skipped (capitalised by grammar), and so are stop words;
    possessives and plural endings go, so "Koreans" is found in "North Korean"."""
    found: list[str] = []
    run: list[str] = []
    run_end = -1
    for i, m in enumerate(_NAME_TOKEN.finditer(text)):
        token = re.sub(r"['’]s$", "", m.group())
        if i == 0 or not token[:1].isupper() or token.lower() in STOPWORDS or token.endswith("."):
            run = []  # "Dr." and "U.S." are titles and abbreviations, not names
            continue
        if run and text[run_end : m.start()] == " ":
            run.append(token)
            found[-1] = " ".join(run)
        else:
            run = [token]
            found.append(token)
        run_end = m.end()
        if token != m.group():  # a possessive ends the name: "China's SAFE" is two
            run = []
    return list(dict.fromkeys(_stem_last(n) for n in found))


def _stem_last(name: str) -> str:
    head, _, last = name.rpartition(" ")
    last = _stem(last) if not last.isupper() else last
    return f"{head} {last}".strip()


def asks_for(question: str) -> str:
    """What kind of thing the question asks for: 'figure', 'date', 'person' or ''.

    >>> asks_for("How many migrants?"), asks_for("When did it open?"), asks_for("Who said so?")
    ('figure', 'date', 'person')
    """
    if _ASKS_QUANTITY.search(question):
        return "figure"
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_PERSON.search(question):
        return "person"
    return ""


def holds_answer_type(kind: str, question: str, text: str) -> bool:
    """Whether `text` holds a thing of that kind that the question does not already give."""
    if kind == "figure":
        return bool(numbers(text) - numbers(question) - set(YEAR.findall(text)))
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "person":
        asked = {n.lower() for n in names(question)}
        return any(" " in n and n.lower() not in asked for n in names(text))
    return False
