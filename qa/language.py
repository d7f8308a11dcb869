"""Is a question written in English? The cables, the embedding model and the verifier are
English-only, so a question in another language would be answered confidently about
something else. This is a cheap check: the script of the letters (Chinese, Cyrillic,
Arabic, ...), then, for Latin letters, whether the question's function words are English
or those of another common European language. No model, no download.

>>> not_english("What did Zhejiang officials say about hukou?")
''
>>> not_english("浙江官员对户口说了什么？")
'Chinese'
>>> not_english("¿Qué dijeron los funcionarios de Zhejiang sobre el hukou?")
'Spanish'
"""
from __future__ import annotations

import re
import unicodedata

from qa.sentences import STOPWORDS

# Unicode name prefixes of letters → the language a reader would call it.
_SCRIPTS = {"CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese",
            "HANGUL": "Korean", "CYRILLIC": "Russian", "ARABIC": "Arabic", "HEBREW": "Hebrew",
            "GREEK": "Greek", "THAI": "Thai", "DEVANAGARI": "Hindi", "TIBETAN": "Tibetan"}
# Function words of other languages that English questions do not use (none is an English
# word: "de", "la", "die", "a", "in", "is" are left out on purpose).
_FUNCTION_WORDS = {
    "French": "le les des du une est sont que qui quoi quel quelle quels pourquoi comment "
              "avec pour dans sur au aux ont été ce cette ces",
    "Spanish": "el los las del una es qué que quién cuál cuáles por porque cómo con para "
               "sobre fue han dijeron dijo como se en",
    "German": "der das den dem des ein eine ist sind wer wie warum welche mit für über "
              "auf wurde haben nicht und",
    "Portuguese": "os das dos uma são quem qual porque como com para sobre foi têm não",
    "Italian": "il gli della delle dei una sono chi che cosa perché con sul fu hanno",
}
_FOREIGN = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_WORDS = re.compile(r"[^\W\d_]+")
_MIN_FOREIGN_WORDS = 2  # one "con" or "die" in an English question is a word, not a language


def not_english(question: str) -> str:
    """The language `question` seems to be in when it is not English, else ""."""
    letters = [c for c in question if c.isalpha()]
    if not letters:
        return ""
    scripts: dict[str, int] = {}
    for c in letters:
        if ord(c) < 0x250:  # Latin, with accents
            continue
        script = unicodedata.name(c, "").split(" ")[0]
        if script in _SCRIPTS:
            scripts[_SCRIPTS[script]] = scripts.get(_SCRIPTS[script], 0) + 1
    if scripts:
        language, count = max(scripts.items(), key=lambda kv: kv[1])
        if count >= 0.3 * len(letters):
            return language
    words = [w.lower() for w in _WORDS.findall(question)]
    english = sum(w in STOPWORDS for w in words)
    language, foreign = max(((lang, sum(w in vocab for w in words))
                             for lang, vocab in _FOREIGN.items()), key=lambda kv: kv[1])
    return language if foreign >= _MIN_FOREIGN_WORDS and foreign > english else ""
