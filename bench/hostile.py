"""How fast the parser refuses hostile files: seconds and peak memory per kind.

    python -m bench.hostile

The files are the ones tests/test_hostile_input.py builds (100 MB fields, gzip bombs,
deeply nested HTML); the test checks each fails cleanly in bounded memory, this prints how
long each took, with the load average, so a rerun can be compared (a wall-clock bound in
a test would fail on a busy machine, and pass on a fast one whatever the code did).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.test_hostile_input import HOSTILE, parse_bounded


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
    print("| file | seconds | peak RSS (MB) | errors |\n|---|---:|---:|---:|")
    for name, (write, _) in HOSTILE.items():
        with tempfile.TemporaryDirectory() as folder:
            result = parse_bounded(write(Path(folder)))
        print(f"| {name} | {result['seconds']} | {result['peak_rss_mb']} | {result['errors']} |")


if __name__ == "__main__":
    main()
