"""Latency of `Assistant.ask` per generator on eval questions: p50, p90, and the first call.

The first call of each generator loads its models and is reported apart; p50/p90 are
over the remaining questions. Questions are the first N answerable ones of the eval set
(abstentions skip generation and would flatter the figures).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time


from eval.questions import load_questions
from qa import Assistant, Settings

EPILOG = """examples:
  python bench/ask.py --index var/index
  python bench/ask.py --index var/index --generators extractive transformers --n 10 --json
"""


def measure(assistant: Assistant, generator: str, questions: list[str]) -> dict:
    started = time.perf_counter()
    assistant.ask(questions[0], generator=generator)
    first = (time.perf_counter() - started) * 1000
    totals, stages = [], {"retrieve": [], "generate": [], "verify": []}
    for question in questions[1:]:
        started = time.perf_counter()
        answer = assistant.ask(question, generator=generator)
        totals.append((time.perf_counter() - started) * 1000)
        for stage, values in stages.items():
            values.append(answer.timings.get(stage, 0.0))
    return {
        "generator": generator,
        "questions": len(totals),
        "first_call_ms": round(first),
        "p50_ms": round(statistics.median(totals)),
        "p90_ms": round(statistics.quantiles(totals, n=10)[-1]) if len(totals) > 1 else round(totals[0]),
        "p50_stage_ms": {stage: round(statistics.median(v)) for stage, v in stages.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", help="index folder (default: $PILCROW_INDEX or var/index)")
    p.add_argument("--generators", nargs="+", default=["extractive", "transformers"])
    p.add_argument("--n", type=int, default=11, help="questions per generator, first one is warm-up")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    assistant = Assistant(Settings.from_env(index_dir=args.index))
    questions = [q.question for q in load_questions() if q.answerable][: args.n]
    rows = [measure(assistant, g, questions) for g in args.generators]
    if args.json:
        print(json.dumps({"machine": platform.platform(), "rows": rows}, indent=2))
    else:
        print(f"{'generator':<14}{'n':>4}{'first':>10}{'p50':>10}{'p90':>10}   p50 retrieve/generate/verify")
        for r in rows:
            s = r["p50_stage_ms"]
            print(f"{r['generator']:<14}{r['questions']:>4}{r['first_call_ms']:>8}ms{r['p50_ms']:>8}ms"
                  f"{r['p90_ms']:>8}ms   {s['retrieve']}/{s['generate']}/{s['verify']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
