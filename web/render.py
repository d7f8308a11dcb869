"""HTML for the chat UI: answers with citation chips, evidence, abstentions, whole cables.

Every piece of cable or model text passes through `html.escape` here and nowhere else is
HTML assembled, so a cable that contains `<script>` is shown as text. The markup is kept
on one line (no blank lines) so the chat's Markdown renderer passes it through as one
HTML block instead of re-reading cable text as Markdown.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from html import escape, unescape

from cables.ids import CANONICAL, citation
from cables.records import Cable
from cables.references import Reference
from qa import Answer, Hit, Turn
from qa.export import answer_markdown

# "[09SHANGHAI374 ¶9]" or several refs in one bracket: "[09SHANGHAI374 ¶9; 09BEIJING22 ¶2]".
_REF = rf"{CANONICAL} ¶\d+"
_REF_GROUP = re.compile(rf"\[({_REF}(?:\s*[;,]\s*{_REF})*)\]")
_REF_PARTS = re.compile(rf"({CANONICAL}) ¶(\d+)")
_CHIP_HREF = re.compile(r'href="#cite/(\w+)/(\d+)"')


def chip(cable_id: str, paragraph: int) -> str:
    """A clickable citation; the page's script opens the cable on click.

    >>> chip("09SHANGHAI374", 9)
    '<a class="pcite" href="#cite/09SHANGHAI374/9">09SHANGHAI374 ¶9</a>'
    """
    return (f'<a class="pcite" href="#cite/{escape(cable_id)}/{int(paragraph)}">'
            f"{escape(citation(cable_id, paragraph))}</a>")


def chip_refs(html: str) -> list[tuple[str, int]]:
    """The (cable_id, paragraph) of every chip in rendered HTML, in order, once each.

    >>> chip_refs(chip("09SHANGHAI374", 9) + chip("09SHANGHAI374", 9) + chip("07BEIJING2459", 2))
    [('09SHANGHAI374', 9), ('07BEIJING2459', 2)]
    """
    return list(dict.fromkeys((c, int(n)) for c, n in _CHIP_HREF.findall(html)))


def text_with_chips(text: str) -> str:
    """Escape answer text and turn its inline citations into chips.

    >>> text_with_chips("<b>Fined</b> [09SHANGHAI374 ¶9; 09BEIJING22 ¶2].")  # doctest: +ELLIPSIS
    '&lt;b&gt;Fined&lt;/b&gt; <a ...09SHANGHAI374/9">... <a ...09BEIJING22/2">...'
    """
    def chips(m: re.Match) -> str:
        return " ".join(chip(c, int(n)) for c, n in _REF_PARTS.findall(m.group(1)))

    # Refs hold no characters that escaping changes, so matching after escaping is safe.
    return _REF_GROUP.sub(chips, _block(text))


def _block(text: str) -> str:
    """Escaped text with line breaks as <br>, so the chat's Markdown sees no blank line."""
    lines = [escape(line.strip()) for line in text.strip().splitlines()]
    return "<br>".join(line for line in lines if line)


def _marked(paragraph: str, quote: str) -> str:
    """The paragraph, escaped, with the supporting sentence highlighted where it occurs."""
    at = paragraph.find(quote) if quote else -1
    if at < 0:
        return _block(paragraph)
    return (_block(paragraph[:at]) + " <mark>" + _block(quote) + "</mark> "
            + _block(paragraph[at + len(quote):]))


def _source(hit: Hit) -> str:
    meta = " · ".join(escape(x) for x in (hit.date[:10], hit.origin, hit.subject) if x)
    return f'{chip(hit.cable_id, hit.paragraph)} <span class="pmeta">{meta}</span>'


def answer_html(answer: Answer) -> str:
    """The final verified answer: text with chips, then the cited paragraphs in full."""
    if answer.abstained:
        return abstention_html(answer)
    hits = {(h.cable_id, h.paragraph): h for h in answer.hits}
    items, seen = [], set()
    for c in answer.citations:
        if (c.cable_id, c.paragraph) in seen:
            continue
        seen.add((c.cable_id, c.paragraph))
        hit = hits.get((c.cable_id, c.paragraph))
        head = _source(hit) if hit else chip(c.cable_id, c.paragraph)
        body = _marked(hit.text, c.quote) if hit else _block(c.quote)
        items.append(f'<li class="pev">{head}<div class="ptext">{body}</div></li>')
    evidence = (f'<div class="pevidence"><div class="plabel">Evidence ({len(items)})</div>'
                f'<ol>{"".join(items)}</ol></div>') if items else ""
    return (f'<div class="panswer">{_standalone(answer)}<div class="pbody">'
            f'{text_with_chips(answer.text)}</div>{evidence}{_footer(answer)}</div>')


def _standalone(answer: Answer) -> str:
    """For a follow-up: the question as it was answered, with the context it leaned on."""
    if not answer.standalone or answer.standalone == answer.question:
        return ""
    return f'<div class="pstandalone">Answered as: {_block(answer.standalone)}</div>'


def turns(messages: list[dict]) -> list[Turn]:
    """The conversation so far from the chat's messages: each question, and the citations
    of the answer that followed it (an abstention cites nothing)."""
    out: list[Turn] = []
    for message in messages or []:
        content = message.get("content", "")
        if not isinstance(content, str):  # Gradio 6 may send a list of typed parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if message.get("role") == "user":
            out.append(Turn(unescape(content)))
        elif out and 'class="panswer"' in content and not out[-1].citations:
            body = content.split('class="pevidence"')[0]  # the text's chips, in order
            out[-1] = Turn(out[-1].question, tuple(chip_refs(body)))
    return out


def abstention_html(answer: Answer, closest: int = 3) -> str:
    """'Not in these cables', with the closest paragraphs so the reader can judge why."""
    items = "".join(f'<li class="pev">{_source(h)}<div class="ptext">{_block(h.text)}</div></li>'
                    for h in answer.hits[:closest])
    near = (f'<div class="plabel">Closest paragraphs</div><ol>{items}</ol>') if items else ""
    return (f'<div class="pabstain"><div class="ptitle">Not in these cables</div>'
            f'<div class="pbody">{_block(answer.text)}</div>{near}{_footer(answer)}</div>')


def _footer(answer: Answer) -> str:
    total = answer.timings.get("total", sum(answer.timings.values()))
    # The page's script copies the answer as Markdown with footnotes on click. It travels
    # base64-encoded in the link: the chat's Markdown pass would turn a URL in plain text
    # into a link, even inside an attribute, and its sanitizer drops data- attributes.
    copy = (f' · <a class="pcopy" href="#copy/{markdown_b64(answer)}">Copy as Markdown</a>'
            if not answer.abstained else "")
    return (f'<div class="pfooter">{escape(answer.writer)} · {total:.0f} ms'
            f" · settings {escape(answer.settings_hash)}{copy}</div>")


def markdown_b64(answer: Answer) -> str:
    """The answer as Markdown (qa.export), base64 of its UTF-8, for the copy link."""
    return base64.b64encode(answer_markdown(answer).encode()).decode("ascii")


def dropped_html(answer: Answer) -> str:
    """What the verifier removed from the draft and why (shown collapsed)."""
    if not answer.dropped:
        return "<div class=\"pdropped\">Nothing: every drafted sentence was supported.</div>"
    rows = "".join(f'<li>“{_block(d.sentence)}” <span class="pmeta">{escape(d.reason)}'
                   f" · support {d.support:.2f}</span></li>" for d in answer.dropped)
    return f'<div class="pdropped"><ul>{rows}</ul></div>'


def draft_html(draft: str) -> str:
    """The generator's text while it streams, marked as not yet verified."""
    return (f'<div class="pdraft"><div class="plabel">Drafting, not yet verified…</div>'
            f'<div class="pbody">{_block(draft)}</div></div>')


def cable_link(cable_id: str, text: str = "") -> str:
    """A link that opens a whole cable in the reader (a chip without a paragraph).

    >>> cable_link("07BEIJING1760", "BEIJING 1760")
    '<a class="pcite pref" href="#cite/07BEIJING1760/" title="07BEIJING1760">BEIJING 1760</a>'
    """
    return (f'<a class="pcite pref" href="#cite/{escape(cable_id)}/" title="{escape(cable_id)}">'
            f"{escape(text or cable_id)}</a>")


def reference_html(reference: Reference, indexed: bool) -> str:
    """One reference: a link when the cited cable is indexed, else its text and what it is.

    >>> reference_html(Reference("STATE 1", "cable", "09STATE1"), False)
    '<span class="pref-out" title="09STATE1, not in this collection">STATE 1</span>'
    """
    if indexed:
        return cable_link(reference.cable_id, reference.written)
    what = f"{reference.cable_id}, not in this collection" if reference.cable_id else reference.kind
    return f'<span class="pref-out" title="{escape(what)}">{escape(reference.written)}</span>'


def cable_html(cable: Cable, cited: int | None = None,
               references: Sequence[tuple[Reference, bool]] = (),
               referenced_by: Sequence[str] = ()) -> str:
    """The whole cable: header (with its references and the cables citing it as links),
    then its numbered paragraphs, the cited one highlighted.

    The cited paragraph carries id="pcited" so the page can scroll it into view.
    """
    rows = [("Date", cable.date.replace("T", " ")), ("Origin", cable.origin),
            ("Classification", cable.classification), ("Subject", cable.subject),
            ("Tags", " ".join(cable.tags))]
    header = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in rows if v)
    links = [("References", [reference_html(r, indexed) for r, indexed in references]),
             ("Cited by", [cable_link(c) for c in referenced_by])]
    header += "".join(f"<tr><th>{k}</th><td>{' '.join(v)}</td></tr>" for k, v in links if v)
    paras = []
    for p in cable.paragraphs:
        mark = f" ({escape(p.marking)})" if p.marking else ""
        attrs = ' class="ppara pcited" id="pcited"' if p.number == cited else ' class="ppara"'
        paras.append(f'<div{attrs} data-n="{p.number}"><span class="pnum">¶{p.number}{mark}'
                     f"</span> {_block(p.text)}</div>")
    return (f'<div class="pcable"><div class="pcable-id">{escape(cable.id)}</div>'
            f'<table class="pheader">{header}</table>{"".join(paras)}</div>')


def search_html(query: str, hits: list[Hit], facets: dict[str, list[tuple[str, int]]],
                phrases: list[str]) -> str:
    """Search results: facet counts, then each hit (its chip opens the cable at the
    paragraph) with the searched phrases highlighted."""
    if not hits:
        return f'<div class="pempty">No paragraph matches “{escape(query)}”.</div>'
    rows = "".join(
        f'<div class="pfacet"><span class="pfname">{escape(name)}</span> '
        + " ".join(f'<span class="pfval">{escape(v)} <b>{n}</b></span>' for v, n in counts[:10])
        + "</div>" for name, counts in facets.items() if counts)
    items = "".join(f'<li class="pev phit">{_source(h)}<div class="ptext">'
                    f"{_highlighted(h.text, phrases)}</div></li>" for h in hits)
    return (f'<div class="psearch"><div class="pfacets">{rows}</div>'
            f'<div class="plabel">{len(hits)} paragraphs</div><ol>{items}</ol></div>')


def _highlighted(text: str, phrases: list[str]) -> str:
    """Escaped text with each phrase marked wherever it occurs (case and spacing aside)."""
    html = _block(text)
    for phrase in phrases:
        words = [re.escape(escape(w)) for w in phrase.split()]
        if words:
            html = re.sub(r"(?<!\w)(" + r"(?:\s|<br>)+".join(words) + r")(?!\w)", r"<mark>\1</mark>",
                          html, flags=re.IGNORECASE)
    return html
