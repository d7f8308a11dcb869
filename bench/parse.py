"""Parse speed and paragraph numbering on the 6,712-cable corpus, one core.

    python bench/parse.py [--corpus data/corpus/cablegate-wl-mirror.csv.gz] [--repeat 3]

Prints absolute numbers: seconds and cables/s for reading the gzip CSV alone, and for the
whole parse (CSV + header fields + paragraph segmentation) through `read_cables`. Writes
bench/results/parse.md: the share of cables numbered ¶1..N without a gap, the cables with
each header field, and every other cable by cause.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import platform
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from cables import Cable, ParseReport, read_cables

RESULTS = ROOT / "bench" / "results" / "parse.md"


def _cause(cable: Cable) -> str:
    """Why a parsed cable is not numbered 1..N: is a missing number anywhere in its text?"""
    numbers = [p.number for p in cable.paragraphs]
    missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    text = " ".join(p.text for p in cable.paragraphs)
    written = [n for n in missing if re.search(rf"(?<![\d.,/$-]){n}(?:\.(?!\d)|\))", text)]
    if missing == [1]:
        return "no ¶1: the first paragraph has no number and does not open like one"
    if not written:
        return "the cable itself skips a number (it is nowhere in the text)"
    return "a missing number is in the text, where no paragraph marker is read"
def _numbering_report(cables: list[Cable], report: ParseReport, total: int) -> str:
    gap_free = [c for c in cables if [p.number for p in c.paragraphs] == list(range(1, len(c.paragraphs) + 1))]
    causes: dict[str, list[str]] = {}
    for c in cables:
        if c not in gap_free:
            causes.setdefault(_cause(c), []).append(c.id)
    for error in report.errors:  # reason: "06NEWDELHI4100: no paragraph text"
        cable_id, _, reason = error.reason.rpartition(": ")
        causes.setdefault(f"not parsed: {reason}", []).append(cable_id or f"row {error.row}")
    for cable_id, dropped, _ in report.duplicates:
        causes.setdefault("a second copy of a cable read earlier (dropped)", []).append(
            f"{cable_id} ({dropped.rpartition(':')[2]})")
    # What the cable's own text allows: a number it never wrote cannot be cited.
    ceiling = total - sum(len(ids) for cause, ids in causes.items() if not cause.startswith(("a missing", "no ¶1")))
    fields = {name: sum(bool(getattr(c, name)) for c in cables)
              for name in ("references", "tags", "subject", "signer")}
    lines = [f"# Parser on the corpus ({total} cables)", "",
             f"- parsed: {len(cables)} ({len(cables) / total:.1%})",
             f"- numbered ¶1..N without a gap: {len(gap_free)} ({len(gap_free) / total:.1%} of all)",
             f"- the most the cables' own numbers allow (all but skipped numbers, empty bodies and "
             f"second copies): {ceiling} ({ceiling / total:.1%})",
             "- cables with " + ", ".join(f"{k} {v}" for k, v in fields.items()), "",
             "## The rest, by cause", ""]
    for cause, ids in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        lines += [f"### {cause}: {len(ids)}", "", ", ".join(ids), ""]
    return "\n".join(lines)


def _best(fn, repeat: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        count = fn()
        best = min(best, time.process_time() - started)
    return best, count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data/corpus/cablegate-wl-mirror.csv.gz")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    def csv_only() -> int:
        csv.field_size_limit(1 << 24)
        with gzip.open(args.corpus, "rt", encoding="utf-8", newline="") as f:
            return sum(1 for _ in csv.reader(f, escapechar="\\"))

    def full() -> int:
        report = ParseReport()
        return sum(1 for _ in read_cables(args.corpus, report=report))

    print(f"python {platform.python_version()} on {platform.processor() or platform.machine()}; "
          f"CPU time (process_time), best of {args.repeat}")
    for name, fn in [("gzip + csv module only", csv_only), ("read_cables (full parse)", full)]:
        seconds, count = _best(fn, args.repeat)
        print(f"{name:28s} {count:6d} cables  {seconds:6.2f} s  {count / seconds:8.0f} cables/s")
    report = ParseReport()
    cables = list(read_cables(args.corpus, report=report))
    RESULTS.write_text(_numbering_report(cables, report, report.read + report.skipped) + "\n",
                       encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
