"""Hostile files given to the parser: a 100 MB field or line, gzip bombs, deeply nested HTML.

Each file is read in a fresh process that is watched from outside and killed as soon as it
passes the memory or time bound, so a failure here is a finding, never a dead machine. The
in-process allocation check of a 100 MB CSV field is in test_cables.py; the HTTP half of
hostile input is in test_http.py.
"""
import gzip
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cables import ParseReport, read_cables, write_jsonl

ROOT = Path(__file__).resolve().parent.parent
CABLES = ROOT / "data" / "cables"
MAX_RSS_MB = 300  # peak resident memory of the whole reading process, imports included
MAX_SECONDS = 30  # reading the file, measured inside the process
STARTUP_SECONDS = 30  # allowance for interpreter start and imports on a busy machine
MB = 1024 * 1024

# Peak RSS is the kernel's high-water mark of this process image (VmHWM, reset by exec;
# getrusage's ru_maxrss would count the pytest process it was forked from).
PROBE = """
import json, re, sys, time
from pathlib import Path
from cables import ParseReport, read_cables
def peak_mb():
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\\s*(\\d+) kB", status)[1]) // 1024
report = ParseReport()
start = time.monotonic()
cables = sum(1 for _ in read_cables(sys.argv[1], report=report))
print(json.dumps({
    "cables": cables, "errors": report.failed, "duplicates": len(report.duplicates),
    "types": sorted({type(e).__name__ for e in report.errors}),
    "reasons": [e.reason for e in report.errors[:3]],
    "seconds": round(time.monotonic() - start, 2),
    "peak_rss_mb": peak_mb(),
}))
"""


def parse_bounded(path: Path) -> dict:
    """Read `path` in a fresh process; fail as soon as it passes a bound (the process is
    killed then), else return what the probe measured."""
    proc = subprocess.Popen([sys.executable, "-c", PROBE, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, started = psutil.Process(proc.pid), time.monotonic()
    try:
        while proc.poll() is None:
            try:
                rss = watched.memory_info().rss / MB
            except psutil.NoSuchProcess:
                break
            elapsed = time.monotonic() - started
            if rss > MAX_RSS_MB or elapsed > MAX_SECONDS + STARTUP_SECONDS:
                pytest.fail(f"{path.name}: still reading after {elapsed:.0f} s with "
                            f"{rss:.0f} MB resident (bounds: {MAX_SECONDS} s, {MAX_RSS_MB} MB)")
            time.sleep(0.05)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, f"{path.name}: the reader died ({proc.returncode}):\n{err}"
    return json.loads(out)


def csv_record(n: int = 0) -> bytes:
    """The n-th record of the sample cables.csv file, as its bytes."""
    data = (CABLES / "china-posts.csv").read_bytes()
    starts = [m.start() for m in re.finditer(rb'^"\d+","', data, re.M)]
    return data[starts[n]:starts[n + 1]]


def bomb(path: Path, unit: bytes) -> Path:
    """A gzip file of about 1 MB that inflates to 1 GB of `unit` repeated: one 16 MB member
    compressed once and written 64 times (a gzip file may hold many members; readers
    inflate them all). Deflate cannot pack more than ~1000:1, so 1 MB is the least that
    inflates to 1 GB."""
    block = unit * (16 * MB // len(unit))
    member = gzip.compress(block, 9)
    with open(path, "wb") as f:
        for _ in range(64):
            f.write(member)
    return path


def hundred_mb(path: Path, head: bytes, fill: bytes = b"x", tail: bytes = b"") -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(head)
        for _ in range(100):
            f.write(fill * (MB // len(fill)))
        f.write(tail)
    return path


CSV_HEAD = b'"1","01/01/2009 00:00","09X1","Embassy X","SECRET","","h","'
# name -> (writer of the hostile file into a folder, words the first error must contain)
HOSTILE = {
    "100 MB CSV field, gzip": (lambda d: hundred_mb(d / "field.csv.gz", CSV_HEAD, tail=b'"\n'),
                               "longer than"),
    "100 MB CSV field": (lambda d: hundred_mb(d / "field.csv", CSV_HEAD, tail=b'"\n'),
                         "longer than"),
    "100 MB JSONL line": (lambda d: hundred_mb(d / "line.jsonl", b'{"id": "', tail=b'"}\n'),
                          "longer than"),
    "100 MB text file": (lambda d: hundred_mb(d / "cable.txt", b"1. (SBU) ", b"word "),
                         "larger than"),
    "gzip bomb, one byte": (lambda d: bomb(d / "bomb.csv.gz", b"a"), "larger than"),
    "gzip bomb, text": (lambda d: bomb(d / "bomb.txt.gz", b"1. (SBU) word "), "larger than"),
    "gzip bomb, html": (lambda d: bomb(d / "bomb.html.gz", b"<html><div>"), "larger than"),
    "gzip bomb, bad JSONL lines": (lambda d: bomb(d / "bomb.jsonl.gz", b"{}\n"),
                                   "not a Cable record"),
    "gzip bomb, bad CSV rows": (lambda d: bomb(d / "bomb.csv.gz", b'"1","01/01/2009 00:00"\n'),
                                "expected 8 columns"),
    "nested HTML": (lambda d: _write(d / "nested.html", "<!DOCTYPE html><html>"
                                     + "<div><b>" * 2_000_000), "no cable text"),
    "nested HTML in <pre>": (lambda d: _write(d / "pre.html", "<!DOCTYPE html><html><pre>"
                                              + "<div>" * 3_000_000 + "</pre>"), ""),
    "unclosed tags in <pre>": (lambda d: _write(d / "open.html", "<!DOCTYPE html><html><pre>"
                                                + "<" * 10_000_000 + "</pre>"), ""),
}
# The two bombs of bad records yield one CableParseError per line: the report keeps only
# the first 1,000 and the reader gives up on a file after 1,000 bad records.


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_fails_in_bounded_memory(tmp_path, name):
    write, reason = HOSTILE[name]
    result = parse_bounded(write(tmp_path))
    print(f"\n{name}: {result['seconds']} s, peak RSS {result['peak_rss_mb']} MB, "
          f"{result['errors']} errors, first: {result['reasons'][:1]}")
    assert result["errors"] >= 1 and result["types"] == ["CableParseError"], result
    assert reason in result["reasons"][0], result
    # The seconds are bench/hostile.py's figure; here the reader only must not hang
    # (parse_bounded stops it past MAX_SECONDS + STARTUP_SECONDS).
    assert result["peak_rss_mb"] < MAX_RSS_MB, result


SCRIPT = "<script>alert(1)</script>"


def _one(path: Path):
    report = ParseReport()
    cables = list(read_cables(path, report=report))
    assert not report.errors and len(cables) == 1, report.summary()
    return cables[0]


def test_markup_in_a_cable_paragraph_stays_text(tmp_path):
    """A cable may quote markup; the parser keeps it as the paragraph's text, escaping is
    the UI's job (test_ui_browser.py checks nothing runs)."""
    seed = (CABLES / "001_77859e777fb636d1.txt").read_text(encoding="utf-8")
    assert "blamed migrant workers" in seed
    text = tmp_path / "cable.txt"
    text.write_text(seed.replace("blamed migrant", f"blamed {SCRIPT} migrant"), encoding="utf-8")
    cable = _one(text)
    assert cable.id == "09SHANGHAI374"
    assert f"blamed {SCRIPT} migrant workers in general" in cable.paragraph(9).text

    record = csv_record()
    assert b"Visiting EAP Assistant" in record
    table = tmp_path / "cables.csv"
    table.write_bytes(record.replace(b"Visiting EAP Assistant", SCRIPT.encode() + b" Visiting EAP"))
    assert _one(table).paragraph(1).text.startswith(f"{SCRIPT} Visiting EAP")

    # On a mirror page the cable text is HTML-escaped; tags there are the page's own markup.
    page = (ROOT / "data" / "html" / "06BEIJING10909.html").read_text(encoding="utf-8")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    html = tmp_path / "06BEIJING10909.html"
    html.write_text(page.replace("(S) Visiting EAP", f"(S) {escaped} Visiting EAP"),
                    encoding="utf-8")
    assert _one(html).paragraph(1).text.startswith(f"{SCRIPT} Visiting EAP")

    jsonl = tmp_path / "cables.jsonl"
    write_jsonl([cable], jsonl)
    assert _one(jsonl) == cable
