"""`python -m qa`: search the index or ask it a question from the command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cables.errors import PilcrowError
from cables.records import Filters
from qa import export
from qa.assistant import Assistant
from qa.generate import generator_for
from qa.settings import Settings, markdown_table, replace_table
from qa.types import Answer, Hit, to_dict

EPILOG = """examples:
  python -m qa search "84 percent" --k 5
  python -m qa search "trafficking Vietnam border" --origin "Consulate Guangzhou" --json
  python -m qa ask "what did Zhejiang officials say about hukou?"
  python -m qa ask "what did Zhejiang officials say about hukou?" --generator extractive --json
  python -m qa ask "what is TIP?" --date-from 2007-01-01 --date-to 2007-12-31 --index var/index
  python -m qa ask "what did Zhejiang officials say about hukou?" --format markdown
  python -m qa cite 09SHANGHAI374 --paragraph 9 --format bibtex
  python -m qa settings            # every PILCROW_* variable, its default and meaning

environment: PILCROW_INDEX, PILCROW_GENERATOR, PILCROW_MODEL, PILCROW_K, PILCROW_OPENAI_BASE_URL,
PILCROW_OPENAI_MODEL (`python -m qa settings` lists all)."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m qa", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = p.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="retrieve paragraphs", epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    search.add_argument("query")
    ask = commands.add_parser("ask", help="answer a question with citations", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("question")
    ask.add_argument("--generator", help="extractive, transformers, llama-cpp or openai "
                     "(default: $PILCROW_GENERATOR or extractive)")
    ask.add_argument("--model", help="a model of your own: a .gguf file (run by llama-cpp when installed, else "
                     "transformers) or a transformers folder (env PILCROW_MODEL)")
    ask.add_argument("--format", choices=("text", "json") + export.FORMATS, default="text",
                     help="text (default), json (Answer.to_dict()), markdown (footnotes with "
                     "full references), or the cited cables as chicago, csl-json or bibtex")
    cite = commands.add_parser("cite", help="a cable's full reference", epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    cite.add_argument("cable_id", help="e.g. 09SHANGHAI374")
    cite.add_argument("--paragraph", type=int, help="the cited paragraph, e.g. 9")
    cite.add_argument("--format", choices=export.FORMATS[1:], default="chicago")
    cite.add_argument("--index", help="index folder (default: $PILCROW_INDEX or var/index)")
    for sub in (search, ask):
        sub.add_argument("--k", type=int, help="paragraphs to return (search default 10; "
                         "ask default $PILCROW_K or 8)")
        sub.add_argument("--index", help="index folder (default: $PILCROW_INDEX or var/index)")
        sub.add_argument("--origin", action="append", default=[], help="post, e.g. "
                         "'Embassy Beijing' (repeatable)")
        sub.add_argument("--date-from", default="", help="a year (2009), month (2009-05) or "
                         "day (2009-05-31), inclusive")
        sub.add_argument("--date-to", default="", help="the same; 2009 = to 2009-12-31")
        sub.add_argument("--classification", action="append", default=[], help="repeatable")
        sub.add_argument("--tag", action="append", default=[], help="e.g. PGOV (repeatable)")
        sub.add_argument("--references-to", action="append", default=[], metavar="CABLE_ID",
                         help="only cables whose REF line cites this cable, e.g. "
                              "07BEIJING1760 (repeatable)")
        sub.add_argument("--json", action="store_true", help="print JSON instead of text")
    table = commands.add_parser("settings", help="print the PILCROW_* settings as a Markdown table")
    table.add_argument("--write", type=Path, metavar="README",
                       help="replace the table between its markers in this file instead")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "settings":
        if args.write is None:
            print(markdown_table())
        else:
            args.write.write_text(replace_table(args.write.read_text(), markdown_table()))
        return 0
    try:
        model = getattr(args, "model", None)
        settings = Settings.from_env(index_dir=args.index, model=model,
                                     generator=getattr(args, "generator", None) or generator_for(model))
        assistant = Assistant(settings)
        if args.command == "cite":
            cable = assistant.cable(args.cable_id)
            if args.paragraph is not None:
                assistant.paragraph(cable.id, args.paragraph)  # NotFoundError if it has none
            print(export.export_references([(export.CitedCable.of(cable), args.paragraph)],
                                           args.format))
        elif args.command == "search":
            filters = _filters(args)
            hits = assistant.search(args.query, k=args.k or 10, filters=filters)
            print(json.dumps([to_dict(h) for h in hits], ensure_ascii=False, indent=2)
                  if args.json else format_hits(hits) + format_facets(assistant.facets(hits)))
        else:
            answer = assistant.ask(args.question, _filters(args), k=args.k)
            fmt = "json" if args.json else args.format
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if fmt == "json"
                  else format_answer(answer) if fmt == "text" else export.export_answer(answer, fmt))
    except PilcrowError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(origins=tuple(args.origin), date_from=args.date_from, date_to=args.date_to,
                   classifications=tuple(args.classification), tags=tuple(args.tag),
                   references_to=tuple(args.references_to))


def format_hits(hits: list[Hit]) -> str:
    """One line a hit: rank, citation, fused score, similarity, the paragraph's first line."""
    if not hits:
        return "no paragraphs found"
    lines = []
    for rank, hit in enumerate(hits, 1):
        first = " ".join(hit.text.split())
        first = first if len(first) <= 100 else first[:99] + "…"
        lines.append(f"{rank:>2}. {hit.ref:<22} score {hit.score:.4f}  sim {hit.similarity:.2f}  {first}")
    return "\n".join(lines)


def format_facets(facets: dict[str, list[tuple[str, int]]]) -> str:
    """Below the hits: 'origin: Embassy Beijing 6, Consulate Shanghai 2' (cables), a line a facet."""
    lines = [f"{name}: " + ", ".join(f"{value} {n}" for value, n in counts[:8])
             for name, counts in facets.items() if counts]
    return "\n\n" + "\n".join(lines) if lines else ""


def format_answer(answer: Answer) -> str:
    """The answer, then the text of each cited paragraph (or the closest, on abstention)."""
    out = [answer.text, ""]
    if answer.abstained:
        out.append("Closest paragraphs:")
        out.append(format_hits(list(answer.hits)))
    else:
        texts = {(h.cable_id, h.paragraph): h for h in answer.hits}
        for c in answer.citations:
            hit = texts[(c.cable_id, c.paragraph)]
            out.append(f"[{c.ref}] {hit.origin}, {hit.date[:10]}: {hit.subject}")
            out.append(" ".join(hit.text.split()))
            out.append("")
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings.items())
    out.append(f"({answer.writer}; {timings})")
    return "\n".join(out).rstrip()


if __name__ == "__main__":
    sys.exit(main())
