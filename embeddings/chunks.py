"""Paragraph → the chunks that get embedded.

One chunk per paragraph. A paragraph longer than the model's window is split into
overlapping parts, cut between words, that all keep the paragraph's own number. The text
that is embedded starts with a short header ("origin, date, subject") so that a paragraph
saying only "the new regulations" is still found by "the Zhejiang residency policy".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cables.records import Cable

HEADER_SHARE = 4  # the header takes at most 1/4 of the window; the paragraph keeps the rest


class Tokenizer(Protocol):
    """What chunking needs of a Hugging Face (fast) tokenizer."""

    def __call__(self, text, *, add_special_tokens: bool, return_offsets_mapping: bool,
                 verbose: bool) -> dict: ...

    def num_special_tokens_to_add(self, pair: bool = False) -> int: ...


@dataclass(frozen=True)
class Chunk:
    cable_id: str
    paragraph: int  # the cable's own paragraph number, never a chunk counter
    part: int  # 0 for the first (usually only) part of the paragraph
    text: str  # an exact slice of the paragraph's text
    embed_text: str  # header + "\n" + text: what the encoder sees


def header(cable: Cable) -> str:
    """The context line prepended to every chunk of a cable.

    >>> from cables.records import Cable
    >>> header(Cable("09SHANGHAI374", "2009-07-10T09:15", "Consulate Shanghai", "", (),
    ...              "ZHEJIANG HUKOU REFORM", (), "", (), "x"))
    'Consulate Shanghai, 2009-07-10, ZHEJIANG HUKOU REFORM'
    """
    return ", ".join(part for part in (cable.origin, cable.date[:10], cable.subject) if part)


def _offsets(tokenizer: Tokenizer, texts: list[str]) -> list[list[tuple[int, int]]]:
    # verbose=False: long paragraphs are expected here (that is why they are split), so the
    # "longer than the maximum sequence length" warning would be noise.
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    return [list(map(tuple, o)) for o in enc["offset_mapping"]]


def split_text(text: str, offsets: list[tuple[int, int]], size: int, overlap: int) -> list[str]:
    """Cut `text` into parts of at most `size` tokens that overlap by about `overlap` tokens,
    cutting only where whitespace separates two tokens (unless one word is longer than
    `size`). `offsets` are the (start, end) characters of each token of `text`.

    >>> split_text("a b c d e", [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)], 3, 1)
    ['a b c', 'c d e']
    """
    n = len(offsets)
    if n <= size:
        return [text]
    word_starts = [i for i in range(n) if i == 0 or offsets[i][0] > offsets[i - 1][1]]

    def last_start(at_most: int, above: int) -> int | None:
        found = [i for i in word_starts if above < i <= at_most]
        return found[-1] if found else None

    parts, begin = [], 0
    while True:
        end = begin + size
        if end >= n:
            parts.append(text[offsets[begin][0]:offsets[-1][1]])
            return parts
        end = last_start(end, begin) or end
        parts.append(text[offsets[begin][0]:offsets[end - 1][1]])
        begin = last_start(end - overlap, begin) or end


def chunk_cable(cable: Cable, tokenizer: Tokenizer, max_tokens: int = 256,
                overlap: int = 32) -> list[Chunk]:
    """The chunks of one cable, in paragraph order; blank paragraphs give none.

    `max_tokens` is the model's window (MiniLM: 256 word pieces); header, paragraph part and
    the special tokens fit in it together.
    """
    head = header(cable)
    head_offsets = _offsets(tokenizer, [head])[0]
    head_limit = max_tokens // HEADER_SHARE
    if len(head_offsets) > head_limit:
        head = head[:head_offsets[head_limit - 1][1]]
        head_offsets = head_offsets[:head_limit]
    # The tokens the model adds around every text ([CLS] and [SEP] for MiniLM).
    size = max_tokens - tokenizer.num_special_tokens_to_add() - len(head_offsets)
    paragraphs = [p for p in cable.paragraphs if p.text.strip()]
    if not paragraphs:
        return []
    chunks = []
    for paragraph, offsets in zip(paragraphs, _offsets(tokenizer, [p.text for p in paragraphs])):
        for part, text in enumerate(split_text(paragraph.text, offsets, size, min(overlap, size // 2))):
            chunks.append(Chunk(cable.id, paragraph.number, part, text, f"{head}\n{text}"))
    return chunks
