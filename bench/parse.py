"""Parse speed on the 6,712-cable corpus, one core: cables per second, per phase.

    python bench/parse.py [--corpus data/corpus/cablegate-wl-mirror.csv.gz] [--repeat 3]

Prints absolute numbers: seconds and cables/s for reading the gzip CSV alone, and for the
whole parse (CSV + header fields + paragraph segmentation) through `read_cables`.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cables import ParseReport, read_cables  # noqa: E402


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


if __name__ == "__main__":
    main()
