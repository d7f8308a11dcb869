"""`python -m eval`: run the known-answer questions through the assistant and score them.

The dev and the test split (and their two-turn follow-up sets) are run and reported side
by side. Exit status: 0 when every metric of every set meets its threshold, 1 when one
does not (each is named on stderr), 2 for a usage or domain error (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from embeddings import build_index
from cables.errors import IndexMismatchError, IndexNotFoundError, PilcrowError
from eval.questions import FOLLOWUPS, SPLITS, Question, load_questions
from eval.report import SetRun, latency_table, metrics_table, summary, write_report
from eval.runner import (DEFAULT_THRESHOLDS, load_thresholds, run_questions, sample, score,
                         score_by_kind, supports_history)
from qa import Assistant, Settings, generator_for

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CORPUS = ROOT / "data" / "cables"
DEFAULT_INDEX = ROOT / "var" / "index"
DEFAULT_K = 10  # enough hits to measure recall@10

EPILOG = """examples:
  python -m eval --generator extractive
  python -m eval --generator extractive --report var/eval/extractive
  python -m eval --generator transformers --split test --limit 40 --json > metrics.json
  python -m eval --questions my-questions.jsonl --index var/full-index --k 20
  python -m eval --generator transformers --model ~/models/Qwen2.5-0.5B-Instruct --split dev

Splits: eval/dev.jsonl is what thresholds, weights, rules and prompts are tuned on;
eval/test.jsonl is never tuned on, only reported. Each split's follow-up cases
(eval/<split>-followups.jsonl) run when the assistant takes a history of earlier turns.
Without --index the default index of the bundled sample corpus (var/index) is used, and
built from data/cables first if it is missing. Thresholds per generator and split:
eval/thresholds.json.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m eval", description=__doc__.splitlines()[0],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=("dev", "test", "both"), default="both",
                   help="which split to run (default: both, side by side)")
    p.add_argument("--questions", type=Path, default=None,
                   help="a question set of your own instead of the splits (one JSON object a "
                        "line); thresholds: the file's stem as the split name")
    p.add_argument("--limit", type=int, default=None,
                   help="ask at most N questions per set, evenly spread over it (a bounded "
                        "sample for slow generators)")
    p.add_argument("--index", type=Path, default=None,
                   help="index folder (default: var/index of the sample corpus, built if missing)")
    p.add_argument("--generator", default=None,
                   help="extractive | transformers | llama-cpp | openai (default: PILCROW_GENERATOR "
                        "or the Settings default)")
    p.add_argument("--model", default=None, help="a model of your own: a .gguf file (run by llama-cpp when installed, else "
                     "transformers) or a transformers folder (env PILCROW_MODEL)")
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
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be at least 1")
    return args


def question_sets(args: argparse.Namespace) -> list[tuple[str, Path, list[Question] | None]]:
    """(name, file, questions) of each set to run, at most --limit questions each; None for
    an optional file that is missing (a split not written yet, a follow-up set). A required
    file that is missing or bad raises InvalidInputError, before the index is opened."""
    if args.questions is not None:
        files = [(args.questions.stem, args.questions, True)]
    else:
        names = list(SPLITS) if args.split == "both" else [args.split]
        files = [(name, SPLITS[name], args.split != "both") for name in names]
        files += [(f"{name}-followups", FOLLOWUPS[name], False) for name in names]
    return [(name, path, sample(load_questions(path), args.limit)
             if required or path.exists() else None) for name, path, required in files]


def run_set(assistant: Assistant, name: str, path: Path, questions: list[Question] | None,
            args: argparse.Namespace, generator: str) -> SetRun:
    """Ask and score one set; a SetRun saying why when it cannot run."""
    if questions is None:
        return SetRun(name, None, not_run=f"{path} does not exist yet")
    if any(q.history for q in questions) and not supports_history(assistant):
        return SetRun(name, None, not_run="Assistant has no history")
    outcomes = run_questions(assistant, questions, desc=name)
    return SetRun(name, {"generator": generator, **score(outcomes, args.k)}, tuple(outcomes),
                  load_thresholds(args.thresholds, generator, name),
                  score_by_kind(outcomes, args.k))


def open_assistant(settings: Settings, sample_corpus: bool) -> Assistant:
    """The assistant on `settings.index_dir`. When that is the sample corpus's default index,
    it is (re)built first if missing or written by an older Pilcrow."""
    try:
        return Assistant(settings)
    except (IndexNotFoundError, IndexMismatchError) as e:
        if not sample_corpus:
            raise
        reason = e
    print(f"building the sample index in {settings.index_dir} ({reason}) ...", file=sys.stderr)
    build_index([str(SAMPLE_CORPUS)], settings.index_dir)
    return Assistant(settings)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sets = question_sets(args)
        settings = Settings.from_env(
            index_dir=str(args.index or DEFAULT_INDEX), k=args.k, model=args.model,
            generator=args.generator or generator_for(args.model))
        generator = settings.generator
        assistant = open_assistant(settings, sample_corpus=args.index is None)
        runs = [run_set(assistant, name, path, questions, args, generator)
                for name, path, questions in sets]
    except PilcrowError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    limited = f", at most {args.limit} questions a set" if args.limit else ""
    title = f"Pilcrow eval: {generator} generator{limited}"
    if args.report is not None:
        paths = write_report(args.report, runs, title)
        print(f"report: {paths['md']}", file=sys.stderr)
    if args.json:
        print(json.dumps({r.name: r.result or {"not_run": r.not_run} for r in runs}, indent=2))
    else:
        print(f"{title}\n\n{metrics_table(runs)}\n\n{latency_table(runs)}")
    problems = [f"{r.name}: {problem}" for r in runs for problem in r.problems]
    for r in runs:
        if r.result is None or not r.thresholds:
            print(summary(r), file=sys.stderr)
    for problem in problems:
        print(f"below threshold: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
