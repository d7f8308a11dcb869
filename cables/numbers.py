"""One spelling per number, for every comparison of numbers in the project.

The verifier (`qa.cite`) drops a sentence stating a number its paragraph lacks, and the
eval checks an answer's facts; both must read "RMB 23.6 million", "23,600,000" and
"twenty-three" the same way, so both use this module.

>>> spell_numbers("RMB 23.6 million and 400,000 jobs, seven of them")
'RMB 23600000 and 400000 jobs, 7 of them'
>>> numbers("RMB 23.6 million") == numbers("RMB 23,600,000") == {"23600000"}
True
"""
from __future__ import annotations

import re
from decimal import Decimal

_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# A number as cables write it: "23.6", "23,600,000", "4", optionally followed by a scale
# word. Not inside a word or another number: "09SHANGHAI374" holds no 374, "0.12" no 12.
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s+(thousand|million|billion|trillion)\b)?",
    re.IGNORECASE)
_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_WORD = re.compile(r"\b(?:" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


def _spelled(match: re.Match) -> str:
    whole, frac, scale = match.group(1).replace(",", ""), match.group(2) or "", match.group(3)
    if scale is None:
        return whole + frac
    value = Decimal(whole + frac) * _SCALES[scale.lower()]
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def spell_numbers(text: str) -> str:
    """`text` with each number in its one spelling: digits, no thousands commas, scale
    words multiplied out, "zero" to "twenty" as digits.

    >>> spell_numbers("4.1 million") == spell_numbers("4,100,000")
    True
    """
    text = _NUMBER.sub(_spelled, text)
    return _WORD.sub(lambda m: _WORDS[m.group().lower()], text)


def is_number_word(word: str) -> bool:
    """Whether `word` is a number written out that `numbers` reads ("seven")."""
    return word.lower() in _WORDS


def numbers(text: str) -> set[str]:
    """The numbers `text` states, each in its one spelling.

    >>> sorted(numbers("400,000 new jobs, seven percent, 6.4 million, 09SHANGHAI374"))
    ['09', '400000', '6400000', '7']
    """
    found = {_spelled(m) for m in _NUMBER.finditer(text)}
    return found | {_WORDS[w.lower()] for w in _WORD.findall(text)}
