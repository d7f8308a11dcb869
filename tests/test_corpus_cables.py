"""Regression tests from real cables of the 6,712-cable corpus: each names the cable whose
header or paragraphs once came out wrong, and asserts what the cable itself says."""
import csv
import gzip
from pathlib import Path

import pytest

from cables.csvfile import COLUMNS
from cables.cable_text import cable_from_text
from cables.records import Cable

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"


@pytest.fixture(scope="module")
def corpus_rows() -> dict[str, list[str]]:
    csv.field_size_limit(1 << 24)
    with gzip.open(CORPUS, "rt", encoding="utf-8", newline="") as f:
        return {row[2]: row for row in csv.reader(f, escapechar="\\") if len(row) == len(COLUMNS)}


@pytest.fixture(scope="module")
def cable(corpus_rows):
    """The corpus cable with this ID, parsed from its header and body as `read_csv` does."""
    def parse(cable_id: str) -> Cable:
        row = corpus_rows[cable_id]
        return cable_from_text(row[6] + "\n\n" + row[7], f"corpus:{cable_id}", {"id": cable_id})
    return parse


def _numbers(cable: Cable) -> list[int]:
    return [p.number for p in cable.paragraphs]


def test_a_later_mangled_number_does_not_steal_an_earlier_paragraph(cable):
    # 09SHANGHAI160: `¶13.` may read as a mangled `¶3.`, but it comes after ¶12; the
    # redacted `3.xxxxxxxxxxxx` is ¶3, and ¶2 ends where it does in the cable.
    c = cable("09SHANGHAI160")
    assert _numbers(c) == list(range(1, 17))
    assert c.paragraph(2).text.endswith("accounted for 61 percent of total bilateral trade. End note.)")
    assert len(c.paragraph(2).text) < 2000
    assert c.paragraph(3).text == "xxxxxxxxxxxx"  # the rule under it is no text
    assert c.paragraph(13).text.startswith("With an eye on Shanghai as China's commercial")


def test_a_number_after_a_heading_rule_with_its_marking_on_the_next_line(cable):
    # 08BEIJING2322: `Nonproliferation and Export Controls ------ 17.` then `(C) Recalling ...`
    c = cable("08BEIJING2322")
    assert _numbers(c) == list(range(1, 24))
    assert c.paragraph(17).marking == "C"
    assert c.paragraph(17).text.startswith("Recalling his prior assignment as MFA Arms Control")
    assert "Recalling his prior assignment" not in c.paragraph(16).text


@pytest.mark.parametrize("cable_id, number, starts", [
    ("09CAIRO1415", 1, "Even before Air Force One departed on June 4"),  # `-------1.(U) Even`
    ("07SANTIAGO983", 9, "With regard to Mercosur"),  # `... more vocal. 9. ( C) With regard`
    ("03BRASILIA3459", 6, "Venturelli noted that CNA"),  # `... interest. 6. Venturelli noted`
    ("05BRASILIA1922", 7, "Lula's decision to downgrade SEDH"),  # `7) (SBU) Lula's ...`
    ("06MEXICO2220", 9, "Without meaningful reforms"),  # U+2028 line separators
])
def test_paragraph_numbers_written_in_unusual_places(cable, cable_id, number, starts):
    c = cable(cable_id)
    assert _numbers(c) == list(range(1, len(c.paragraphs) + 1)), cable_id
    assert c.paragraph(number).text.startswith(starts)


def test_a_cable_that_skips_a_number_keeps_its_own_numbers(cable):
    # 06HAVANA11650 goes ¶3 → ¶5: the paragraphs keep the numbers the cable gives them.
    assert _numbers(cable("06HAVANA11650"))[:4] == [1, 2, 3, 5]
