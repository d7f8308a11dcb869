"""`python -m eval`: run the known-answer questions through the assistant and score them.

Exit status: 0 when every metric meets its threshold, 1 when one does not (each is named
on stderr), 2 for a usage or domain error (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from embeddings import build_index
from cables.errors import IndexMismatchError, IndexNotFoundError, PilcrowError
from eval.questions import DEFAULT_QUESTIONS, load_questions
from eval.report import latency_table, metrics_table, write_report
from eval.runner import DEFAULT_THRESHOLDS, check_thresholds, load_thresholds, run_questions, score
from qa import Assistant, Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CORPUS = ROOT / "data" / "cables"
DEFAULT_INDEX = ROOT / "var" / "index"
DEFAULT_K = 10  # enough hits to measure recall@10

EPILOG = """examples:
  python -m eval --generator extractive
  python -m eval --generator extractive --report var/eval/extractive
  python -m eval --generator transformers --json > metrics.json
  python -m eval --questions my-questions.jsonl --index var/full-index --k 20

Without --index the default index of the bundled sample corpus (var/index) is used, and
built from data/cables first if it is missing. Thresholds per generator: eval/thresholds.json.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m eval", description=__doc__.splitlines()[0],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                   help="question set, one JSON object a line (default: eval/questions.jsonl)")
    p.add_argument("--index", type=Path, default=None,
                   help="index folder (default: var/index of the sample corpus, built if missing)")
    p.add_argument("--generator", default=None,
                   help="extractive | transformers | llama-cpp | openai (default: PILCROW_GENERATOR "
                        "or the Settings default)")
    p.add_argument("--k", type=int, default=DEFAULT_K,
                   help=f"hits per question (default {DEFAULT_K}); recall@k needs k hits")
    p.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS,
                   help="thresholds file (default: eval/thresholds.json)")
    p.add_argument("--json", action="store_true", help="print the metrics object as JSON")
    p.add_argument("--report", type=Path, default=None,
                   help="folder for report.md, report.json and chart.png")
    args = p.parse_args(argv)
    if args.k < 1:
        p.error("--k must be at least 1")
    return args


def open_assistant(settings: Settings, sample: bool) -> Assistant:
    """The assistant on `settings.index_dir`. When that is the sample corpus's default index,
    it is (re)built first if missing or written by an older Pilcrow."""
    try:
        return Assistant(settings)
    except (IndexNotFoundError, IndexMismatchError) as e:
        if not sample:
            raise
        reason = e
    print(f"building the sample index in {settings.index_dir} ({reason}) ...", file=sys.stderr)
    build_index([str(SAMPLE_CORPUS)], settings.index_dir)
    return Assistant(settings)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        questions = load_questions(args.questions)
        settings = Settings.from_env(
            index_dir=str(args.index or DEFAULT_INDEX), generator=args.generator, k=args.k)
        generator = settings.generator
        thresholds = load_thresholds(args.thresholds, generator)
        assistant = open_assistant(settings, sample=args.index is None)
        outcomes = run_questions(assistant, questions)
    except PilcrowError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = {"generator": generator, **score(outcomes, args.k)}
    problems = check_thresholds(result, thresholds)
    title = f"Pilcrow eval: {generator} generator, {args.questions.name}"
    if args.report is not None:
        paths = write_report(args.report, result, outcomes, thresholds, title)
        print(f"report: {paths['md']}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{title}\n\n{metrics_table(result, thresholds)}\n\n{latency_table(result)}")
    if not thresholds:
        print(f"no thresholds for generator {generator!r} in {args.thresholds}", file=sys.stderr)
    for problem in problems:
        print(f"below threshold: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
