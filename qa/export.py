"""Citations to paste: an answer as Markdown with footnotes, a cable as the full reference
historians write for cables (Chicago notes style), as CSL-JSON and as BibTeX.

Pure functions over the records (`Answer`, `Hit`, `Cable`): no index, no model.

    >>> ref = CitedCable("09SHANGHAI374", "Consulate Shanghai",
    ...                 'NEW ZHEJIANG MIGRANT POLICY FOCUSES ON MAINTAINING "STABILITY"',
    ...                 "2009-08-28T09:03", ("SECSTATE WASHDC",))
    >>> print(chicago(ref, 9))
    Consulate Shanghai to Secretary of State, “NEW ZHEJIANG MIGRANT POLICY FOCUSES ON MAINTAINING "STABILITY",” cable 09SHANGHAI374, August 28, 2009, ¶9, WikiLeaks Cablegate, https://wikileaks.org/cable/2009/08/09SHANGHAI374.html.

The published place is given as text (the WikiLeaks Cablegate address historians cite);
nothing is fetched. The addressees are the cable's action addressees (its TO lines), named
as `cables.posts.addressee_name` reads them; a cable without a TO line names its sender alone.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from cables.errors import InvalidInputError
from cables.ids import citation
from cables.posts import addressee_name
from cables.records import Cable
from qa.types import Answer, Hit

FORMATS = ("markdown", "chicago", "csl-json", "bibtex")
PUBLISHED = "WikiLeaks Cablegate"
_BRACKETS = re.compile(r"\[([^\[\]]+)\]")
_BIBTEX_SPECIAL = re.compile(r"([&%$#_{}])")


@dataclass(frozen=True)
class CitedCable:
    """What a reference to one cable needs: its ID, sender, subject, date and addressees."""

    cable_id: str
    origin: str
    subject: str
    date: str  # ISO "2009-08-28T09:03"; "" when unknown
    recipients: tuple[str, ...] = ()  # as `Cable.recipients` writes them: ("SECSTATE WASHDC",)

    @classmethod
    def of(cls, source: Cable | Hit) -> CitedCable:
        cable_id = source.id if isinstance(source, Cable) else source.cable_id
        return cls(cable_id, source.origin, source.subject, source.date, source.recipients)

    @property
    def addressees(self) -> str:
        """The addressees as a reference names them.

        >>> CitedCable("X", "", "", "", ("SECSTATE WASHDC", "AMEMBASSY PARIS")).addressees
        'Secretary of State and Embassy Paris'
        """
        names = [addressee_name(r) for r in self.recipients]
        return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)

    @property
    def day(self) -> date | None:
        try:
            return date.fromisoformat(self.date[:10])
        except ValueError:
            return None

    @property
    def url(self) -> str:
        """Where WikiLeaks published it, or "" without a date.

        >>> CitedCable("07BEIJING2459", "", "", "2007-04-13T07:38").url
        'https://wikileaks.org/cable/2007/04/07BEIJING2459.html'
        """
        day = self.day
        return f"https://wikileaks.org/cable/{day:%Y/%m}/{self.cable_id}.html" if day else ""


def chicago(ref: CitedCable, paragraph: int | None = None) -> str:
    """The note-form reference: sender to addressees, “subject,” cable ID, date, ¶, where
    published.

    >>> chicago(CitedCable("07BEIJING2459", "Embassy Beijing", "", ""))
    'Embassy Beijing, cable 07BEIJING2459, WikiLeaks Cablegate.'
    """
    day = ref.day
    sender = " to ".join(p for p in (ref.origin, ref.addressees) if p)
    parts = [sender, f"“{ref.subject},”" if ref.subject else "",
             f"cable {ref.cable_id}", f"{day:%B} {day.day}, {day.year}" if day else "",
             f"¶{paragraph}" if paragraph is not None else "", PUBLISHED, ref.url]
    text = ", ".join(p for p in parts if p).replace(",”,", ",”")
    return text + "."


def csl_item(ref: CitedCable, paragraph: int | None = None) -> dict:
    """One CSL-JSON item (what Zotero, Mendeley and pandoc import) for a cable.

    >>> item = csl_item(CitedCable("07BEIJING2459", "Embassy Beijing", "RESIDENCE PERMIT REFORM",
    ...                           "2007-04-13T07:38"), 2)
    >>> item["issued"], item["number"], item["note"], item["recipient"]
    ({'date-parts': [[2007, 4, 13]]}, '07BEIJING2459', '¶2', [])
    """
    item = {"id": ref.cable_id if paragraph is None else f"{ref.cable_id}-p{paragraph}",
            "type": "document", "genre": "Diplomatic cable", "title": ref.subject or ref.cable_id,
            "author": [{"literal": ref.origin}] if ref.origin else [],
            "recipient": [{"literal": addressee_name(r)} for r in ref.recipients],
            "number": ref.cable_id, "publisher": "WikiLeaks", "collection-title": PUBLISHED}
    day = ref.day
    if day:
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
        item["URL"] = ref.url
    if paragraph is not None:
        item["note"] = f"¶{paragraph}"
    return item


def bibtex(ref: CitedCable, paragraph: int | None = None) -> str:
    r"""A BibTeX @misc entry; special characters escaped, the ¶ spelled out.

    >>> print(bibtex(CitedCable("09GUANGZHOU54", "Consulate Guangzhou", "Keep 'Em Down & Out",
    ...                        "2009-01-30T07:23", ("SECSTATE WASHDC",)), 9))
    @misc{09GUANGZHOU54_p9,
      author = {{Consulate Guangzhou}},
      title = {{Keep 'Em Down \& Out}},
      howpublished = {Cable 09GUANGZHOU54 to Secretary of State, WikiLeaks Cablegate},
      year = {2009},
      month = {jan},
      day = {30},
      url = {https://wikileaks.org/cable/2009/01/09GUANGZHOU54.html},
      note = {paragraph 9},
    }
    """
    key = ref.cable_id if paragraph is None else f"{ref.cable_id}_p{paragraph}"
    day = ref.day
    fields = [("author", f"{{{_bib(ref.origin)}}}" if ref.origin else ""),
              ("title", f"{{{_bib(ref.subject)}}}" if ref.subject else ""),
              ("howpublished", f"Cable {ref.cable_id}"
                               f"{' to ' + _bib(ref.addressees) if ref.recipients else ''}, {PUBLISHED}"),
              ("year", str(day.year) if day else ""),
              ("month", f"{day:%b}".lower() if day else ""),
              ("day", str(day.day) if day else ""),
              ("url", ref.url),
              ("note", f"paragraph {paragraph}" if paragraph is not None else "")]
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
    return f"@misc{{{key},\n{body}}}"


def _bib(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text.replace("\\", ""))


def cited(answer: Answer) -> list[tuple[CitedCable, int]]:
    """The answer's distinct (cable, ¶) citations in order of first use, with references."""
    hits = {(h.cable_id, h.paragraph): h for h in answer.hits}
    out = []
    for key in dict.fromkeys((c.cable_id, c.paragraph) for c in answer.citations):
        hit = hits.get(key)
        out.append((CitedCable.of(hit) if hit else CitedCable(key[0], "", "", ""), key[1]))
    return out


def answer_markdown(answer: Answer) -> str:
    """The answer with each inline citation turned into a footnote holding the full reference.

    >>> hit = Hit("09SHANGHAI374", 9, "...", 1.0, "2009-08-28T09:03", "Consulate Shanghai",
    ...           "NEW ZHEJIANG MIGRANT POLICY", "")
    >>> from qa.types import Citation
    >>> a = Answer("What about hukou?", "It is impossible [09SHANGHAI374 ¶9].",
    ...            (Citation("09SHANGHAI374", 9, "It is impossible."),), (hit,), False, (), "extractive")
    >>> print(answer_markdown(a))
    **Q:** What about hukou?
    <BLANKLINE>
    It is impossible[^1].
    <BLANKLINE>
    [^1]: Consulate Shanghai, “NEW ZHEJIANG MIGRANT POLICY,” cable 09SHANGHAI374, August 28, 2009, ¶9, WikiLeaks Cablegate, https://wikileaks.org/cable/2009/08/09SHANGHAI374.html.
    """
    refs = cited(answer)
    number = {citation(ref.cable_id, n): i for i, (ref, n) in enumerate(refs, 1)}

    def footnotes(m: re.Match) -> str:
        parts = [p.strip() for p in re.split(r"[;,]", m.group(1))]
        if not all(p in number for p in parts):
            return m.group(0)
        return "".join(f"[^{number[p]}]" for p in parts)

    head = [f"**Q:** {answer.question}"]
    if answer.standalone and answer.standalone != answer.question:
        head.append(f"*Answered as:* {answer.standalone}")
    text = re.sub(r"\s+(?=\[\^)", "", _BRACKETS.sub(footnotes, answer.text))
    out = ["  \n".join(head), "", text]
    if answer.abstained and answer.hits:
        out += ["", "Closest paragraphs:", ""]
        out += [f"- {chicago(CitedCable.of(h), h.paragraph)}" for h in answer.hits[:3]]
    if refs:
        out.append("")
        out += [f"[^{i}]: {chicago(ref, n)}" for i, (ref, n) in enumerate(refs, 1)]
    return "\n".join(out)


def export_answer(answer: Answer, fmt: str) -> str:
    """The answer in `fmt`: Markdown with footnotes, or its cited cables as Chicago notes
    (one a line), CSL-JSON (an array) or BibTeX entries."""
    if fmt == "markdown":
        return answer_markdown(answer)
    return export_references(cited(answer), fmt)


def export_references(refs: list[tuple[CitedCable, int | None]], fmt: str) -> str:
    """References in `fmt` ("chicago", "csl-json", "bibtex"); InvalidInputError for another."""
    if fmt == "chicago":
        return "\n".join(chicago(r, n) for r, n in refs)
    if fmt == "csl-json":
        return json.dumps([csl_item(r, n) for r, n in refs], ensure_ascii=False, indent=2)
    if fmt == "bibtex":
        return "\n\n".join(bibtex(r, n) for r, n in refs)
    raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
