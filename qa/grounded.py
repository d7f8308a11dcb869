"""Grounded drafting with a local causal language model: the model chooses, it cannot invent.

A small model asked to write an answer makes up names and figures; one asked to *pick*
among the sources' own sentences cannot. Both ways here start from the same candidates,
the best sentences of the retrieved paragraphs (`candidates`), and return a draft in which
every sentence is one of them, closed by the marker of the source it came from and opened
at most by one of `CONNECTIVES`:

- `copy_draft`: constrained decoding. The model writes token by token, but at each step only
  the tokens that continue some candidate (with its marker) or a connective are allowed;
  once the prefix fits a single candidate the rest is copied in one forward pass.
- `choose_draft`: the candidates are numbered in the prompt and the model's probability of
  each number as its reply ranks them (one forward pass); the best one or two are quoted.

`is_grounded(draft, sources)` is the guarantee both keep, and what the tests check.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qa.extractive import ranked_sentences, without_labels
from qa.sentences import STOPWORDS, normalize_space, split_sentences
from qa.types import Hit

# Sentences shown to the model. The composer's best 8 hold every fact of 94% of dev's
# answerable questions (best 4: 89%, best 12: 95%), in about 300 tokens of prompt.
CANDIDATES = 8
MAX_SENTENCES = 2
CONNECTIVES = ("Also,", "In addition,", "However,")
# A second chosen sentence is quoted only when the model finds it at least this likely
# relative to its first choice.
SECOND_CHOICE_RATIO = 0.5
_MARKED = re.compile(r"^(?:(?P<conn>" + "|".join(map(re.escape, CONNECTIVES)) + r") )?"
                     r"(?P<body>.+?) \[(?P<n>\d+)\](?P<end>[.!?])$")

COPY_INSTRUCTIONS = (
    "You answer questions about US diplomatic cables by quoting them. Answer with the one "
    "or two source sentences that answer the question, each followed by its source number "
    "in brackets, like: The rule was changed [2]."
)
CHOOSE_INSTRUCTIONS = (
    "You answer questions about US diplomatic cables. Reply with the number of the "
    "sentence that best answers the question."
)


@dataclass(frozen=True)
class Candidate:
    number: int  # 1-based source number the sentence comes from
    sentence: str  # as the cable writes it (spaces normalised)
    position: int = 0  # its place in the paragraph

    def marked(self, connective: str = "") -> str:
        """The sentence as a draft sentence: its stop after the source's marker.

        >>> Candidate(2, "The rule changed.").marked("However,")
        'However, the rule changed [2].'
        """
        body, end = (self.sentence[:-1], self.sentence[-1]) if self.sentence[-1] in ".!?" else (self.sentence, ".")
        if connective:
            first, _, rest = body.partition(" ")
            # "However, the rule..." but never "However, ye said": only function words lose
            # their capital.
            body = f"{connective} {first.lower() if first.lower() in STOPWORDS else first} {rest}".rstrip()
        return f"{body} [{self.number}]{end}"


def candidates(question: str, sources: Sequence[Hit], n: int = CANDIDATES) -> list[Candidate]:
    """The `n` most relevant sentences of the sources, by the extractive composer's ranking."""
    return [Candidate(number, normalize_space(s), position)
            for _, number, position, s in ranked_sentences(question, sources)[:n]]


def is_grounded(draft: str, sources: Sequence[Hit]) -> bool:
    """Whether every sentence of `draft` is a sentence of the source its marker names (as
    written, or without the heading or "Summary:" label the candidates drop), optionally
    opened by a connective.

    >>> hits = [Hit("X", 1, "Ye spoke. The rules stay.", 0, "", "", "", "")]
    >>> is_grounded("Ye spoke [1]. However, the rules stay [1].", hits), is_grounded("Ye left [1].", hits)
    (True, False)
    """
    sentences = re.findall(r".+?\[\d+\][.!?](?=\s|$)", normalize_space(draft))
    if not sentences or normalize_space(" ".join(sentences)) != normalize_space(draft):
        return False
    for sentence in sentences:
        m = _MARKED.match(sentence.strip())
        if not m or not 1 <= int(m["n"]) <= len(sources):
            return False
        said = [Candidate(int(m["n"]), normalize_space(form))
                for s in split_sentences(sources[int(m["n"]) - 1].text) for form in (s, without_labels(s))
                if form]
        if sentence.strip() not in {c.marked(m["conn"] or "") for c in said}:
            return False
    return True


def source_label(hit: Hit) -> str:
    """How a source is introduced to a model.

    >>> source_label(Hit("09SHANGHAI374", 9, "", 0.0, "2009-08-28T09:03", "Consulate Shanghai", "", ""))
    '09SHANGHAI374 ¶9 (Shanghai, 2009-08-28)'
    """
    post = re.sub(r"^(Embassy|Consulate|Mission|US Mission|USUN|American Institute)\s+", "", hit.origin)
    return f"{hit.ref} ({post}, {hit.date[:10]})"


def source_listing(chosen: Sequence[Candidate], sources: Sequence[Hit]) -> str:
    """The sources as a model reads them: each source's chosen sentences, in the cable's
    order, under its number.

    >>> hits = [Hit("09SHANGHAI374", 9, "", 0.0, "2009-08-28", "Consulate Shanghai", "", "")]
    >>> print(source_listing([Candidate(1, "Rules stay.", 2), Candidate(1, "Ye spoke.", 0)], hits))
    Sources:
    [1] 09SHANGHAI374 ¶9 (Shanghai, 2009-08-28): Ye spoke. Rules stay.
    """
    by_source: dict[int, list[Candidate]] = {}
    for c in chosen:
        by_source.setdefault(c.number, []).append(c)
    return "Sources:\n" + "\n".join(
        f"[{n}] {source_label(sources[n - 1])}: {' '.join(c.sentence for c in sorted(cs, key=lambda c: c.position))}"
        for n, cs in sorted(by_source.items()))


def messages(instructions: str, listing: str, question: str, ask: str) -> list[dict[str, str]]:
    """Chat messages: `instructions` as the system turn; the listing, question and `ask`."""
    return [{"role": "system", "content": instructions},
            {"role": "user", "content": f"{listing}\n\nQuestion: {question}\n{ask}"}]


def copy_messages(question: str, chosen: Sequence[Candidate], sources: Sequence[Hit]) -> list[dict[str, str]]:
    """The prompt of `copy_draft`."""
    return messages(COPY_INSTRUCTIONS, source_listing(chosen, sources), question,
                    "Answer with quoted sentences and [n] markers:")


def choose_messages(question: str, chosen: Sequence[Candidate]) -> list[dict[str, str]]:
    """The prompt of `choose_draft`: the candidates numbered 1..n."""
    listing = "\n".join(f"{i}. {c.sentence}" for i, c in enumerate(chosen, 1))
    return messages(CHOOSE_INSTRUCTIONS, "Sentences:\n" + listing, question, "Number of the best sentence:")


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> Any:
    """The chat template applied to `messages`, opening the assistant's turn: a 1 x n tensor."""
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
    return prompt["input_ids"] if hasattr(prompt, "keys") else prompt  # a dict in transformers 5


def _continuations(sequences: Iterable[tuple[int, ...]], prefix: tuple[int, ...]) -> dict[int, list[tuple[int, ...]]]:
    """Next token -> the sequences that start with `prefix` and continue with it.

    >>> _continuations([(1, 2, 3), (1, 4), (5,)], (1,))
    {2: [(1, 2, 3)], 4: [(1, 4)]}
    """
    out: dict[int, list[tuple[int, ...]]] = {}
    for seq in sequences:
        if len(seq) > len(prefix) and seq[: len(prefix)] == prefix:
            out.setdefault(seq[len(prefix)], []).append(seq)
    return out


def copy_draft(lm: Any, tokenizer: Any, question: str, sources: Sequence[Hit],
               max_sentences: int = MAX_SENTENCES, max_new_tokens: int = 200) -> Iterator[str]:
    """Constrained greedy decoding over the candidates; yields one draft sentence at a time.

    At a choice point the allowed tokens are the next tokens of every unused candidate (bare
    or after a connective) and, after the first sentence, the end of the turn; the model's
    most likely allowed token wins. Where only one candidate remains, its remaining tokens
    are fed in one forward pass instead of one pass per token.
    """
    import torch

    chosen = candidates(question, sources)
    if not chosen:
        return
    ids = prompt_ids(tokenizer, copy_messages(question, chosen, sources))
    # The end of the assistant's turn in a ChatML template (SmolLM2, Qwen), else end of text.
    eos = tokenizer.get_vocab().get("<|im_end|>", tokenizer.eos_token_id)
    # Every sentence but the first is written after a space; tokenising with it keeps the
    # copied tokens the ones the tokenizer would produce for the whole draft.
    def sequences(first: bool) -> dict[tuple[int, ...], tuple[Candidate, str]]:
        out = {}
        for c in chosen:
            for conn in ("",) + ((CONNECTIVES) if not first else ()):
                text = ("" if first else " ") + c.marked(conn)
                out[tuple(tokenizer.encode(text, add_special_tokens=False))] = (c, text)
        return out

    used: set[Candidate] = set()
    written = 0
    with torch.inference_mode():
        out = lm(input_ids=ids, use_cache=True)
        cache, logits = out.past_key_values, out.logits[0, -1]
        for _ in range(max_sentences):
            table = {s: v for s, v in sequences(first=not used).items() if v[0] not in used}
            prefix: tuple[int, ...] = ()
            while True:
                options = _continuations(table, prefix)
                allowed = list(options) + ([eos] if used and not prefix else [])
                if not allowed:
                    break
                token = max(allowed, key=lambda t: float(logits[t]))
                if token == eos:
                    return
                remaining = options[token]
                feed = [token]
                if len(remaining) == 1:  # decided: copy the rest without choosing
                    feed = list(remaining[0][len(prefix):])
                prefix += tuple(feed)
                written += len(feed)
                out = lm(input_ids=torch.tensor([feed]), past_key_values=cache, use_cache=True)
                cache, logits = out.past_key_values, out.logits[0, -1]
                if prefix in table:
                    break
            if prefix not in table:
                return
            candidate, text = table[prefix]
            used.add(candidate)
            yield text
            if written >= max_new_tokens:
                return


def choose_draft(lm: Any, tokenizer: Any, question: str, sources: Sequence[Hit],
                 max_sentences: int = MAX_SENTENCES) -> Iterator[str]:
    """The candidates the model is likeliest to name as the answer, best first (see module)."""
    import torch

    chosen = candidates(question, sources, n=min(CANDIDATES, 9))  # one token per number
    if not chosen:
        return
    ids = prompt_ids(tokenizer, choose_messages(question, chosen))
    choice_ids = [tokenizer.encode(str(i), add_special_tokens=False)[0] for i in range(1, len(chosen) + 1)]
    with torch.inference_mode():
        logits = lm(input_ids=ids).logits[0, -1, choice_ids]
    probs = torch.softmax(logits.float(), dim=0).tolist()
    ranked = sorted(range(len(chosen)), key=lambda i: -probs[i])
    picked = [ranked[0]] + [i for i in ranked[1:max_sentences] if probs[i] >= SECOND_CHOICE_RATIO * probs[ranked[0]]]
    for k, i in enumerate(picked):
        yield ("" if k == 0 else " ") + chosen[i].marked()
