"""The one entry point every interface uses: `Assistant(settings).ask(question, filters)`.

    >>> assistant = Assistant(Settings.from_env(generator="extractive"))  # doctest: +SKIP
    >>> assistant.ask("what did Zhejiang officials say about hukou?").text  # doctest: +SKIP
    'Eliminating the hukou residency registration requirement ... [09SHANGHAI374 ¶9]. ...'

`stream()` is the same path, yielding the draft as it is generated and the verified
`Answer` last; `ask()` drains it. Safe to call from several threads: the index and the
encoder lock themselves, and model generators run one at a time.
"""
from __future__ import annotations

import calendar
import functools
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

from cables import ids
from cables.errors import InvalidInputError
from cables.records import Cable, Filters, Paragraph
from cables.references import Reference
from embeddings.store import open_index
from qa import generate
from qa.cite import memoized, verify
from qa.extractive import extractive_draft
from qa.facets import facet_counts
from qa.followup import Turn, is_followup, standalone
from qa.language import not_english
from qa.judge import load_judge
from qa.retrieve import retrieve
from qa.settings import Settings
from qa.types import Answer, Hit

NO_MATCH_TEXT = "No cable matches these filters: widen or clear them to search every cable."

def abstain_text(reason: str) -> str:
    """What the reader sees when the assistant abstains: that, why, and where to look.

    >>> abstain_text("no retrieved paragraph mentions whaling")
    'The indexed cables do not answer this question: it is not in these cables (no retrieved paragraph mentions whaling). The closest paragraphs are listed below.'
    """
    return (f"The indexed cables do not answer this question: it is not in these cables ({reason}). "
            "The closest paragraphs are listed below.")

MAX_K = 50
_DATE_BOUND = re.compile(r"\d{4}(?:-\d{2}){0,2}", re.ASCII)  # a year, a month or a day


class Assistant:
    """An open index plus the settings to answer from it."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.index = open_index(self.settings.index_dir, model=self.settings.embed_model or None)
        self.judge = load_judge()

    def ask(self, question: str, filters: Filters | None = None, *, generator: str | None = None,
            k: int | None = None, history: Sequence[Turn | Answer | str] = ()) -> Answer:
        """Answer `question` from the index; every sentence of `Answer.text` cites a paragraph.

        `history` holds the earlier turns of a conversation (`Turn`s, the `Answer`s
        themselves, or bare earlier questions), oldest first: a follow-up is answered as `Answer.standalone`, the
        question rewritten with the context it leans on (see qa/followup.py).
        """
        *_, answer = self.stream(question, filters, generator=generator, k=k, history=history)
        return answer

    def stream(self, question: str, filters: Filters | None = None, *, generator: str | None = None,
               k: int | None = None, history: Sequence[Turn | Answer | str] = ()
               ) -> Iterator[str | Answer]:
        """Draft text pieces as the generator writes them, then the verified Answer (last).

        Nothing is yielded before the Answer when the assistant abstains. Bad input raises
        here, at the call, before any streaming starts.
        """
        question = self._check_question(question)
        language = not_english(question)
        if language:
            raise InvalidInputError(
                f"this question looks like {language}; Pilcrow answers questions in English "
                "(the cables and its models are English): please ask it in English")
        settings = self.settings.with_(generator=generator, k=self._check_k(k))
        write = generate.get_generator(settings.generator)
        turns = self._turns(question, history, settings)
        asked = standalone(question, turns) if turns else ""
        return self._stream(question, asked, check_filters(filters), settings, write)

    def _stream(self, asked: str, rewritten: str, filters: Filters | None, settings: Settings,
                write: generate.Generate) -> Iterator[str | Answer]:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = rewritten or asked

        hits = self._retrieve(question, settings, settings.k, filters)
        timings["retrieve"] = _ms(started)
        mark = time.perf_counter()
        verdict = self.judge.judge(question, hits, settings.abstain_threshold)
        timings["judge"] = _ms(mark)
        if verdict.abstain:
            timings["total"] = _ms(started)
            # No hit at all under filters means no cable passes them, whatever was asked.
            text = NO_MATCH_TEXT if not hits and filters and not filters.is_empty() else abstain_text(verdict.reason)
            yield Answer(asked, text, (), tuple(hits), True, (), settings.generator,
                         timings, settings.hash(), standalone=rewritten,
                         reason=verdict.reason)
            return
        mark = time.perf_counter()
        pieces = []
        for piece in write(question, hits, settings):
            pieces.append(piece)
            yield piece
        timings["generate"] = _ms(mark)

        mark = time.perf_counter()
        # Small batches: the encoder pads a batch to its longest text, and claims and
        # sentences vary from 5 to 100 words.
        encode = memoized(functools.partial(self.index.encoder().encode, batch_size=16))
        verified = verify("".join(pieces), hits, encode, settings.support_threshold)
        # When the verifier dropped every sentence, the reader still gets an answer: the
        # extractive one, which quotes the paragraphs and so passes at any threshold; the
        # Answer says so, and keeps what was dropped from the draft.
        fallback = not verified.text
        if fallback:
            quoted = verify(extractive_draft(question, hits), hits, encode, threshold=0.0)
            verified = replace(quoted, dropped=verified.dropped)
        timings["verify"] = _ms(mark)
        timings["total"] = _ms(started)
        yield Answer(asked, verified.text, verified.citations, tuple(hits), False,
                     verified.dropped, settings.generator, timings, settings.hash(), fallback,
                     rewritten)

    def _turns(self, question: str, history: Sequence[Turn | Answer | str],
               settings: Settings) -> list[Turn]:
        """`history` as Turns. An earlier question given alone (a string, as eval's two-turn
        cases give it) is searched again when `question` follows up on it, so its best
        paragraph's cable is carried forward as its answer's would have been."""
        turns = [t if isinstance(t, Turn) else Turn(t) if isinstance(t, str) else Turn.of(t)
                 for t in history]
        for turn in turns:
            self._check_question(turn.question)
        if turns and not turns[-1].citations and is_followup(question, turns):
            earlier = turns[-1].question
            # As many hits as an answer gets: the judge's features are read over them.
            hits = self._retrieve(earlier, settings, settings.k)
            if not self.judge.judge(earlier, hits, settings.abstain_threshold).abstain:
                turns[-1] = Turn(earlier, ((hits[0].cable_id, hits[0].paragraph),))
        return turns

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Retrieval alone: the `k` best paragraphs for `query`."""
        query = self._check_question(query)
        k = self._check_k(k)
        return self._retrieve(query, self.settings, k, check_filters(filters))

    def _retrieve(self, query: str, settings: Settings, k: int, filters: Filters | None = None) -> list[Hit]:
        """`retrieve` with the settings' candidate pool (at least `k`) and RRF constant."""
        return retrieve(self.index, query, k=k, candidates=max(settings.candidates, k),
                        rrf_k=settings.rrf_k, filters=filters)

    def facets(self, hits: Sequence[Hit]) -> dict[str, list[tuple[str, int]]]:
        """How many of the hits' cables come from each origin, year, classification, tag."""
        ids = dict.fromkeys(h.cable_id for h in hits)
        return facet_counts(self.index.cable(cable_id) for cable_id in ids)

    def cable(self, cable_id: str) -> Cable:
        """A cable by ID ("09SHANGHAI374" or "09 SHANGHAI 374"); NotFoundError if absent."""
        return self.index.cable(ids.canonical(cable_id))

    def references(self, cable_id: str) -> list[tuple[Reference, bool]]:
        """The cable's references (its REF line as data), each with whether the cable it
        cites is in the index; NotFoundError for an unknown cable."""
        return self.index.references(self.cable(cable_id).id)

    def referenced_by(self, cable_id: str) -> list[str]:
        """IDs of the indexed cables whose references cite this one (indexed or not)."""
        return self.index.referenced_by(ids.canonical(cable_id))

    def paragraph(self, cable_id: str, n: int) -> Paragraph:
        """Paragraph `n` of a cable, as the cable numbers it; NotFoundError if absent."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInputError(f"paragraph number must be a whole number >= 0, not {n!r}")
        return self.index.paragraph(ids.canonical(cable_id), n)

    def collection(self) -> dict:
        """What the index holds: counts, date range, origins, classifications, tags."""
        return self.index.stats()

    def generators(self) -> list[str]:
        """Names of the generators that can run in this environment."""
        return list(generate.GENERATORS)

    def preload(self, generators: Sequence[str] = ()) -> None:
        """Get ready for the first question: load the question encoder now (a second or two
        idle, and otherwise the first question's wait), and start loading the local models
        of `generators` (default: the settings') in the background; `model_states()`
        follows them. Generators without a local model load nothing."""
        self.index.encoder().encode(["warm-up"])
        for name in generators or [self.settings.generator]:
            generate.preload(self.settings, name)

    def model_states(self) -> dict[str, str]:
        """Generator name -> its local model's state: "loading", "ready", "not loaded",
        "failed: why", or "not used" (no local model)."""
        return {name: generate.model_state(self.settings, name) for name in self.generators()}

    def health(self) -> dict:
        return {
            "index": str(self.index.path),
            "manifest": self.index.manifest,
            "embedding_model": self.index.manifest["model"],
            "generator": self.settings.generator,
            "generator_model": generate.model_name(self.settings),
            "model_states": self.model_states(),
            "generators": self.generators(),
            "unavailable_generators": dict(generate.UNAVAILABLE),
            "settings_hash": self.settings.hash(),
        }

    def _check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidInputError("the question is empty")
        question = question.strip()
        if len(question) > self.settings.max_question_chars:
            raise InvalidInputError(
                f"the question has {len(question)} characters; the limit is {self.settings.max_question_chars}")
        return question

    @staticmethod
    def _check_k(k: int | None) -> int | None:
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K):
            raise InvalidInputError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
        return k


def check_filters(filters: Filters | None) -> Filters | None:
    """`filters` with whole-day date bounds and canonical cable IDs, or InvalidInputError:
    a bound is a year, a month or a day ("2009" from = 2009-01-01, to = 2009-12-31), from <=
    to, and `references_to` holds cable IDs.

    >>> check_filters(Filters(date_from="2009", date_to="2009-02")).date_to
    '2009-02-28'
    """
    if filters is None:
        return None
    if not isinstance(filters, Filters):
        raise InvalidInputError(f"filters must be a Filters, not {type(filters).__name__}")
    filters = replace(filters, date_from=date_bound(filters.date_from, "date_from"),
                      date_to=date_bound(filters.date_to, "date_to", last=True))
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInputError(f"date_from {filters.date_from} is after date_to {filters.date_to}")
    return replace(filters, references_to=tuple(ids.canonical(x) for x in filters.references_to))


def date_bound(value: str, name: str, last: bool = False) -> str:
    """A YYYY, YYYY-MM or YYYY-MM-DD bound as its first (or `last`) day; "" stays "".

    >>> date_bound("2009", "date_to", last=True), date_bound(" 2008-02 ", "date_to", last=True)
    ('2009-12-31', '2008-02-29')
    >>> date_bound("2009/01/01", "date_from")
    Traceback (most recent call last):
    cables.errors.InvalidInputError: date_from '2009/01/01' is not a date: write a year (2009), a month (2009-05) or a day (2009-05-31)
    """
    value = (value or "").strip()
    if not value:
        return ""
    try:
        if not _DATE_BOUND.fullmatch(value):
            raise ValueError
        parts = [int(p) for p in value.split("-")]
        year, month, day = (parts + [0, 0])[:3]
        if len(parts) == 3:
            return date(year, month, day).isoformat()
        if len(parts) == 2:
            first = date(year, month, 1)
            return (first if not last else first.replace(day=calendar.monthrange(year, month)[1])).isoformat()
        return date(year, 12, 31).isoformat() if last else date(year, 1, 1).isoformat()
    except ValueError:
        raise InvalidInputError(f"{name} {value!r} is not a date: write a year (2009), a month "
                                "(2009-05) or a day (2009-05-31)") from None


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
