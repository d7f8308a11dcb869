"""Command line of the embeddings package: `python -m embeddings COMMAND ...`.

Each command is one small function taking the parsed arguments; errors are domain errors
until `main`, which turns them into exit status 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import partial

from cables import references
from cables.reader import ParseReport, read_cables
from cables.errors import PilcrowError
from embeddings.encoder import AUTO, BACKENDS
from embeddings.store import BATCH_CHUNKS, build_index, default_index_dir, open_index

EPILOG = """examples:
  python -m embeddings parse data/cables
  python -m embeddings parse data/corpus/cablegate-wl-mirror.csv.gz --json > corpus.jsonl
  python -m embeddings parse data/html/09BEIJING22.html corpus.jsonl
  python -m embeddings build data/cables --index var/index
  python -m embeddings build data/corpus/cablegate-wl-mirror.csv.gz --index var/corpus
  python -m embeddings build data/corpus/cablegate-wl-mirror.csv.gz --index var/corpus --backend openvino
  python -m embeddings build cables.csv --index var/full --ray ray://head.example:10001
  python -m embeddings info --index var/index
"""


def cmd_parse(args: argparse.Namespace) -> int:
    """Print each cable (one JSON object a line with --json); the parse report to stderr."""
    report = ParseReport()
    fields = dict.fromkeys(("references", "tags", "subject", "signer"), 0)
    resolved = 0  # cables with a reference resolved to a cable ID
    for cable in read_cables(*args.paths, report=report):
        for name in fields:
            fields[name] += bool(getattr(cable, name))
        resolved += any(r.cable_id for r in references.of_cable(cable.id, cable.references))
        if args.json:
            print(json.dumps(cable.to_dict(), ensure_ascii=False))
        else:
            numbering = "" if cable.numbered else " (unnumbered blocks)"
            print(f"{cable.id}\t{cable.date}\t{cable.origin}\t{cable.subject}\t"
                  f"{len(cable.paragraphs)} paragraphs{numbering}")
    print(report.summary(), file=sys.stderr)
    print("cables with " + ", ".join(f"{name} {n}" for name, n in fields.items())
          + f", references resolved to cable IDs {resolved}", file=sys.stderr)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Create or update an index; progress bars and the report go to stderr."""
    options = {}
    if args.ray is not None:
        from embeddings.distributed import RayEmbedder

        options["embedder"] = partial(RayEmbedder, address=args.ray or None)
    try:
        report = build_index(args.paths, args.index or default_index_dir(), model=args.model, backend=args.backend,
                             hnsw_threshold=args.hnsw_threshold, prune=args.prune,
                             batch_chunks=args.batch_chunks, **options)
    except KeyboardInterrupt:
        print("\ninterrupted: the index is as it was; the batches embedded so far are "
              "checkpointed, run the same command to resume", file=sys.stderr)
        return 130
    print(report.summary(), file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Print the manifest and what the index holds, as JSON."""
    with open_index(args.index) as index:
        print(json.dumps({"manifest": index.manifest, "stats": index.stats()}, indent=2,
                         ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m embeddings", description="Pilcrow: read cables and build the index.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    parse = commands.add_parser(
        "parse", help="read cables from files and folders and print them",
        description="Read cables (.txt, cables.csv[.gz], .html, .jsonl) and print them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parse.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parse.add_argument("--json", action="store_true", help="one JSON cable per line")
    parse.set_defaults(func=cmd_parse)

    index_help = "index folder (default: $PILCROW_INDEX or var/index)"
    build = commands.add_parser(
        "build", help="create or update an index from cable files and folders",
        description="Create or update an index: unchanged cables are skipped, changed ones "
                    "replaced, new ones added. The previous index stays usable until the new "
                    "one is complete; a build that was killed or interrupted resumes from its "
                    "checkpoints when the same command runs again.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    build.add_argument("--index", help=index_help)
    build.add_argument("--model", help="sentence-transformers model name or folder (default: "
                       "$PILCROW_EMBED_MODEL, else the index's, else all-MiniLM-L6-v2)")
    build.add_argument("--hnsw-threshold", type=int, default=200_000, metavar="N",
                       help="use HNSW above N chunks, exact search below (default: 200000; "
                            "0 always HNSW)")
    build.add_argument("--prune", action="store_true",
                       help="remove indexed cables that are not in PATH...")
    build.add_argument("--backend", choices=(*BACKENDS, AUTO),
                       help="what runs the model: torch, openvino (int8, ~4x faster) or auto, "
                            "the fastest installed one that passes its equivalence check "
                            "(default: $PILCROW_EMBED_BACKEND, else the index's, else torch)")
    build.add_argument("--batch-chunks", type=int, default=BATCH_CHUNKS, metavar="N",
                       help=f"chunks embedded and checkpointed together (default: "
                            f"{BATCH_CHUNKS}); a resumed build needs the same N")
    build.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="embed on a Ray cluster: ADDRESS of its head (ray://host:10001 "
                            "or host:6379), or none for $RAY_ADDRESS or a local one")
    build.set_defaults(func=cmd_build)

    info = commands.add_parser(
        "info", help="print what an index holds", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    info.add_argument("--index", help=index_help)
    info.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PilcrowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
