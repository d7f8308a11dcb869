"""Random and truncated input never makes the parser raise anything but CableParseError,
and never hangs (hypothesis deadlines)."""
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cables import CableParseError, ParseReport, read_cables
from cables.cable_text import cable_from_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "data" / "cables").glob("*.txt"))
SEED_TEXTS = [p.read_bytes() for p in SEEDS]
CSV_HEAD = (ROOT / "data" / "cables" / "china-posts.csv").read_bytes()[:60_000]
# Pieces of real cables, so random input reaches deep into the parser, not only its door.
TOKENS = ["\n", "\n\n", " ", "¶", "1.", "13.", "2.", "(SBU)", "(C)", "(S/NF)", "[1](#)", "TAGS: ",
          "SUBJECT: ", "REF: ", "A. ", "STATE 123", "R 300723Z JAN 09", "DE RUEHBJ #0054/01 0300723",
          "FM AMCONSUL GUANGZHOU", "UNCLAS SECTION 01 OF 02 GUANGZHOU 000054",
          "GUANGZHOU 00000054 002 OF 002", "C O N F I D E N T I A L", "SENSITIVE", "-----",
          "GOLDBERG", "©", "Classified By: x", '"', '","', "\\", "<pre>", "</pre>", "{", "}",
          "&#x000A;", "\x00", "\r\n", "word", "Summary", "1.4 (b)"]
FAST = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _read_file(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        report = ParseReport()
        cables = list(read_cables(path, report=report))
        # Anything but a CableParseError would have escaped read_cables; each error must
        # name this file, so the report says which one to fix.
        assert all(e.path == str(path) and e.reason for e in report.errors), report.errors
        assert len(cables) + report.skipped >= 1


@FAST
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=20), max_size=80))
def test_cable_like_text_parses_or_fails_cleanly(pieces):
    try:
        cable = cable_from_text("".join(pieces), "random")
    except CableParseError:
        return
    assert cable.id and cable.paragraphs


@FAST
@given(st.binary(max_size=2000), st.sampled_from(["x.txt", "x.csv", "x.html", "x.jsonl", "x"]))
def test_random_bytes_in_any_format(data, name):
    _read_file(name, data)


@FAST
@given(st.integers(0, len(SEED_TEXTS) - 1), st.floats(0, 1), st.sampled_from(["x.txt", "x.html"]))
def test_truncated_seed(index, fraction, name):
    data = SEED_TEXTS[index]
    _read_file(name, data[:int(len(data) * fraction)])


@FAST
@given(st.integers(0, len(CSV_HEAD)), st.binary(max_size=50))
def test_truncated_csv_with_noise(cut, noise):
    _read_file("x.csv", CSV_HEAD[:cut] + noise)
