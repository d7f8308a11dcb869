"""The parser on real data at scale: the 6,712-cable corpus and the 40 HTML pages.

Run with `-s` to see the figures (they also appear in the assertion messages).
"""
import csv
import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from cables import ParseReport, ids, read_cables
from cables.posts import ROUTING
from cables.references import of_cable
from cables.telegram import normalise, parse_header

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"
HTML = ROOT / "data" / "html"
CHINA_CSV = ROOT / "data" / "cables" / "china-posts.csv"
TOTAL = 6712


@pytest.fixture(scope="module")
def corpus():
    report = ParseReport()
    cables = list(read_cables(CORPUS, report=report))
    return cables, report


@pytest.fixture(scope="module")
def rows():
    csv.field_size_limit(1 << 24)
    with gzip.open(CORPUS, "rt", encoding="utf-8", newline="") as f:
        return list(csv.reader(f, escapechar="\\"))


def test_corpus_parses_with_gap_free_numbering(corpus):
    cables, report = corpus
    gap_free = [c for c in cables if [p.number for p in c.paragraphs] == list(range(1, len(c.paragraphs) + 1))]
    numbered = sum(c.numbered for c in cables)
    figures = (f"{len(cables)}/{TOTAL} parse ({len(cables) / TOTAL:.1%}), "
               f"{len(gap_free)}/{TOTAL} numbered 1..N without gap ({len(gap_free) / TOTAL:.1%}), "
               f"{numbered} with paragraph markers, {TOTAL - numbered - report.skipped} as blocks; "
               f"{report.summary()[:300]}")
    print(figures)
    assert report.read + report.skipped == TOTAL
    # WikiLeaks published three cables twice, once garbled under a garbled ID
    # (08ECTION01OF02MANAMA492): the well-formed copy is kept.
    assert sorted(d[0] for d in report.duplicates) == ["08MANAMA492", "08SAOPAULO335", "09TRIPOLI583"]
    assert len(cables) >= 0.99 * TOTAL, figures
    assert len(gap_free) >= 0.95 * TOTAL, figures
    # What is skipped is a body with no text at all, never a crash or a malformed row.
    assert all(e.reason.endswith("no paragraph text") for e in report.errors), figures


def test_references_resolve_to_cable_ids(corpus):
    """Nearly every cable with a REF line cites at least one cable by a resolvable ID."""
    cables, _ = corpus
    cited = [c for c in cables if c.references]
    resolved = [c for c in cited if any(r.cable_id for r in of_cable(c.id, c.references))]
    print(f"{len(resolved)}/{len(cited)} cables with references cite a cable by its ID")
    assert len(resolved) >= 0.95 * len(cited), (len(resolved), len(cited))


def test_header_fields_from_the_text_match_what_the_csv_states(rows):
    """The ID from the text alone (classification line, page-break line or DE line, with the
    year of the date-time group, else of the CSV's date), the origin and the classification."""
    counts = Counter()
    for row in rows:
        header = parse_header(normalise(row[6] + "\n\n" + row[7]))
        derived = header.id or (row[1][8:10] + header.post_number if header.post_number else "")
        counts["id"] += derived == row[2]
        counts["origin"] += header.origin == row[3]
        counts["classification"] += header.classification == row[4]
    print({name: f"{n}/{TOTAL} ({n / TOTAL:.1%})" for name, n in counts.items()})
    assert counts["id"] >= 0.98 * TOTAL and counts["origin"] >= 0.99 * TOTAL, counts
    assert counts["classification"] >= 0.95 * TOTAL, counts


def test_routing_table_agrees_with_the_corpus(rows):
    checked = agree = 0
    for row in rows:
        de = re.search(r"(?m)^DE (R[A-Z]{3,6}) #", row[6])
        if de:
            checked += 1
            post = ids.parse(row[2]).post
            agree += ROUTING.get(de.group(1), ("", ""))[0] == post
    assert checked > 5000 and agree >= 0.99 * checked, (agree, checked)
    for indicator, post, origin in [("RUEHBJ", "BEIJING", "Embassy Beijing"),
                                    ("RUEHGZ", "GUANGZHOU", "Consulate Guangzhou"),
                                    ("RUEHGH", "SHANGHAI", "Consulate Shanghai"),
                                    ("RUEHSH", "SHENYANG", "Consulate Shenyang"),
                                    ("RUEHCN", "CHENGDU", "Consulate Chengdu"),
                                    ("RUEHHK", "HONGKONG", "Consulate Hong Kong")]:
        assert ROUTING[indicator] == (post, origin)


def test_html_pages_parse_like_the_same_cables_from_the_csv():
    report = ParseReport()
    pages = list(read_cables(HTML, report=report))
    assert len(pages) == 40 and report.skipped == 0, report.summary()
    from_csv = {c.id: c for c in read_cables(CHINA_CSV)}
    for page in pages:
        row = from_csv[page.id]
        assert page.paragraphs == row.paragraphs, page.id
        assert (page.date, page.origin, page.classification, page.subject, page.tags, page.signer) == \
            (row.date, row.origin, row.classification, row.subject, row.tags, row.signer), page.id
