"""Header fields on real snippets: 244 vectors (header or tail snippet -> expected value) from
the 6,712-cable corpus and the seed cables, in tests/vectors/headers.jsonl.

Each vector names its cable and field; the snippet is the cable's own text (TAGS to the
first paragraph for references, tags and subject; the last paragraph for the signer; the
date-time group line for the date). Expected values follow cablemap's reading of the same
fields: references as written, one item each, without letter labels; tags as written, with
multi-word and person tags kept whole; the subject without what runs into it; the signer's
name as signed. Each was checked by eye against the cable.
"""
import json
from pathlib import Path

import pytest

from cables.paragraphs import split_paragraphs
from cables.telegram import normalise, parse_header

VECTORS = [json.loads(line) for line in
           (Path(__file__).resolve().parent / "vectors" / "headers.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_vectors_cover_every_field_and_both_sources():
    assert len(VECTORS) >= 200
    assert {v["field"] for v in VECTORS} == {"references", "tags", "subject", "signer", "date"}
    assert any(v["source"].startswith("seed:") for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['cable']}-{v['field']}")
def test_header_vector(vector):
    text = normalise(vector["snippet"])
    if vector["field"] == "signer":
        got = split_paragraphs(text)[2]
    else:
        got = getattr(parse_header(text), vector["field"])
    expected = vector["expected"]
    assert (list(got) if isinstance(expected, list) else got) == expected
