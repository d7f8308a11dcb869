"""The one cable-ID grammar (cables/ids.py): parsing, canonical form, WikiLeaks' malformed
IDs repaired and checked against each cable's own DE line, citations, post aliases."""
import csv
import gzip
import re
from pathlib import Path

import pytest

from cables import ids, posts
from cables.errors import InvalidInputError
from cables.posts import ROUTING

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"


@pytest.fixture(scope="module")
def rows():
    csv.field_size_limit(1 << 24)
    with gzip.open(CORPUS, "rt", encoding="utf-8", newline="") as f:
        return [row for row in csv.reader(f, escapechar="\\") if row[0] != "row"]



@pytest.mark.parametrize("written, expected", [
    ("09SHANGHAI374", "09SHANGHAI374"),
    (" 09 shanghai 0374 ", "09SHANGHAI374"),
    ("09SECSTATE12345", "09STATE12345"),
    ("07 USUN NEW YORK 0181", "07USUNNEWYORK181"),
    ("06PORT-AU-PRINCE2187", "06PORTAUPRINCE2187"),
    ("09KIEV12", "09KIEV12"),  # a post of its own (the 2006 spelling), not KYIV
    ("09TAIPEI1", "09TAIPEI1"),  # both 09TAIPEI and 09AITTAIPEI IDs exist
    ("08ECTION01OF02MANAMA492", "08MANAMA492"),
    ("09EFTOLONDON2468", "09LONDON2468"),
    ("09AMEMBASSYHANOI1284", "09HANOI1284"),
])
def test_canonical(written, expected):
    assert ids.canonical(written) == expected


@pytest.mark.parametrize("bad", ["", "SHANGHAI374", "09SHANGHAI", "09SHANGHAI0", "84 percent",
                                 "09SHANGHAI12345678", "2009SHANGHAI1", "09 ¶ 9"])
def test_not_an_id_is_an_invalid_input_error(bad):
    with pytest.raises(InvalidInputError, match="is not a cable ID"):
        ids.canonical(bad)
    assert not ids.is_id(bad)


def test_mentions_in_free_text():
    assert ids.mentions("see 09 SHANGHAI 374, para. 9 and 07BEIJING2459") == [
        ("09SHANGHAI374", 9), ("07BEIJING2459", None)]
    assert ids.mentions("09SHANGHAI0374 ¶ 10") == [("09SHANGHAI374", 10)]
    assert ids.mentions("as 08ECTION01OF02MANAMA492 says") == []  # not how people write IDs
    assert ids.mentions("no cable here, just 2009 and 84 percent") == []


def test_malformed_corpus_ids_are_repaired_to_what_their_de_line_says(rows):
    """Every corpus ID that is not canonical is a WikiLeaks garble: the five `SECTION`
    ones of the issue and the `EFTO` ones; each repaired ID is the post of the cable's DE
    routing indicator and the number of its DE line."""
    repaired = {row[2]: ids.canonical(row[2]) for row in rows if ids.canonical(row[2]) != row[2]}
    section = {raw for raw in repaired if "EFTO" not in raw}
    assert section == {"08ECTION01OF02MANAMA492", "08SCTION02OF02SAOPAULO335",
                       "08SECTION01GF02BISHIEK21", "09SECTION01OF03SANJOSE525",
                       "09SECTION02OF03QRIPOLI583"}
    assert len(repaired) - len(section) == 15 and all("EFTO" in r for r in set(repaired) - section)
    assert repaired["08ECTION01OF02MANAMA492"] == "08MANAMA492"
    assert repaired["08SECTION01GF02BISHIEK21"] == "08BISHKEK1021"
    for row in rows:
        if row[2] in repaired:
            de = re.search(r"(?m)^DE (R[A-Z]{3,6}) #(\d+)", row[6])
            post = ROUTING[de[1]][0]
            assert repaired[row[2]] == f"{row[2][:2]}{post}{int(de[2])}", row[2]
    # Three of them are garbled second copies of cables the corpus also has well-formed.
    published = {row[2] for row in rows}
    assert sorted(r for r in repaired.values() if r in published) == [
        "08MANAMA492", "08SAOPAULO335", "09TRIPOLI583"]


def test_aliases_are_never_a_post_of_their_own(rows):
    corpus_posts = {ids.parse(row[2]).post for row in rows}
    assert corpus_posts <= posts.POSTS
    assert not set(posts.ID_POST_ALIASES) & (posts.POSTS | corpus_posts)
    assert set(posts.ID_POST_ALIASES.values()) <= posts.POSTS


def test_no_module_outside_cables_defines_a_cable_id_pattern():
    """The ID grammar lives in cables/ids.py; everything else composes its fragments."""
    pattern = re.compile(r"\\d\{2\}\s*\\?s?\??\[A-Z")
    offenders = [str(p.relative_to(ROOT)) for folder in ("embeddings", "qa", "web", "eval", "bench")
                 for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]
    offenders += [p for p in ("app.py",) if pattern.search((ROOT / p).read_text())]
    assert offenders == []
