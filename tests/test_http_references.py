"""Repaired cable IDs and references through the real app, over an index of eleven corpus
cables: the five WikiLeaks published under garbled IDs (three of them also well-formed),
08MANAMA492's references 08MANAMA165 and 08MANAMA486, and 08MANAMA539, which cites it."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import httpx
import pytest

from cables import ids
from embeddings.store import build_index
from qa import Assistant, Settings
from web import create_app
from web.render import answer_html, cable_html

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"
GARBLED = {"08ECTION01OF02MANAMA492": "08MANAMA492", "08SCTION02OF02SAOPAULO335": "08SAOPAULO335",
           "08SECTION01GF02BISHIEK21": "08BISHKEK1021", "09SECTION01OF03SANJOSE525": "09SANJOSE525",
           "09SECTION02OF03QRIPOLI583": "09TRIPOLI583"}
OTHERS = {"08MANAMA492", "08SAOPAULO335", "09TRIPOLI583", "08MANAMA165", "08MANAMA486",
          "08MANAMA539"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("garbled")
    csv.field_size_limit(1 << 24)
    with gzip.open(CORPUS, "rt", encoding="utf-8", newline="") as f, \
            open(folder / "cables.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, escapechar="\\", doublequote=False, quoting=csv.QUOTE_ALL)
        writer.writerows(r for r in csv.reader(f, escapechar="\\") if r[2] in GARBLED.keys() | OTHERS)
    build_index([folder / "cables.csv"], folder / "index", progress=False)
    return folder / "index"


@pytest.fixture(scope="module")
def url(index_dir, serve):
    with serve(create_app(Settings.from_env(index_dir=str(index_dir), generator="extractive"))) as u:
        yield u


@pytest.mark.parametrize("garbled, repaired", GARBLED.items())
def test_repaired_ids_answer_200_under_either_spelling(url, garbled, repaired):
    for asked in (repaired, garbled):
        r = httpx.get(f"{url}/api/cables/{asked}")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == repaired


def test_the_well_formed_copy_is_kept(url):
    cable = httpx.get(f"{url}/api/cables/08MANAMA492").json()
    text = " ".join(p["text"] for p in cable["paragraphs"])
    assert "COMBAT TIP" in cable["subject"] and "Classiied" not in text  # the garbled copy's typo


def test_cable_returns_references_and_referenced_by(url):
    cable = httpx.get(f"{url}/api/cables/08MANAMA492").json()
    by_id = {r["cable_id"]: r for r in cable["references"]}
    assert by_id["08MANAMA486"] == {"written": "MANAMA 486", "kind": "cable",
                                    "cable_id": "08MANAMA486", "indexed": True}
    assert by_id["08MANAMA165"]["indexed"] and not by_id["08MANAMA320"]["indexed"]
    assert [r["written"] for r in cable["references"]][:2] == ["MANAMA 165", "MANAMA 320"]
    assert cable["referenced_by"] == ["08MANAMA539"]
    assert httpx.get(f"{url}/api/cables/08MANAMA486").json()["referenced_by"] == ["08MANAMA492"]


def test_search_filters_by_references_to(url):
    r = httpx.get(f"{url}/api/search", params={"q": "trafficking in persons", "k": 10,
                                                "references_to": "08 manama 0486"})
    assert r.status_code == 200, r.text
    assert {h["cable_id"] for h in r.json()["hits"]} == {"08MANAMA492"}
    r = httpx.get(f"{url}/api/search", params={"q": "trafficking", "references_to": "not an id"})
    assert r.status_code == 400 and "is not a cable ID" in r.json()["error"]["message"]


def test_ui_shows_chips_and_reference_links_for_repaired_ids(index_dir):
    assistant = Assistant(Settings.from_env(index_dir=str(index_dir), generator="extractive"))
    answer = assistant.ask("What does 08BISHKEK1021 say?")
    assert answer.citations and 'href="#cite/08BISHKEK1021/' in answer_html(answer)
    html = cable_html(assistant.cable("08MANAMA492"), None, assistant.references("08MANAMA492"),
                      assistant.referenced_by("08MANAMA492"))
    assert '<a class="pcite pref" href="#cite/08MANAMA486/" title="08MANAMA486">MANAMA 486</a>' in html
    assert 'title="08MANAMA320, not in this collection">MANAMA 320</span>' in html
    assert 'href="#cite/08MANAMA539/"' in html  # cited by
    assert ids.mentions(answer.text)[0][0] == "08BISHKEK1021"
