"""References as data (cables/references.py) on real written forms, and in the index:
stored per cable, resolved to indexed cables, cited-by, and the `references_to` filter."""
import csv
import gzip
import json
import shutil
from pathlib import Path

import pytest

from cables import read_cables, references
from cables.errors import IndexMismatchError
from cables.records import Filters
from cables.references import Reference
from embeddings.store import FORMAT_VERSION, open_index

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus" / "cablegate-wl-mirror.csv.gz"

# (citing cable, a reference as the parser reads it from that cable's REF line, kind,
# cited cable ID); each row was read by eye against the cable, and
# test_the_rows_are_what_the_parser_reads checks that the parser gives that text.
REAL = [
    ("06SAOPAULO276", "02 BRASILIA 2670", "cable", "02BRASILIA2670"),  # "(C) 02 BRASILIA 2670"
    ("06SAOPAULO276", "05 SAO PAULO 405", "cable", "05SAOPAULO405"),
    ("08MANAGUA573", "2007 MANAGUA 2135", "cable", "07MANAGUA2135"),
    ("08MANAGUA573", "2006 MANAGUA 2611", "cable", "06MANAGUA2611"),
    ("08MANAGUA573", "MANAGUA 289", "cable", "08MANAGUA289"),
    ("09SAOPAULO558", "ASUNCION 701 (08)", "cable", "08ASUNCION701"),
    ("09SAOPAULO558", "SAO PAULO 975 (06)", "cable", "06SAOPAULO975"),
    ("09SAOPAULO558", "INCSR BRAZIL 2008", "other", ""),  # a State report, not a cable
    ("04BRASILIA445", "State 29549", "cable", "04STATE29549"),
    ("04BRASILIA445", "Sao Paulo 276", "cable", "04SAOPAULO276"),
    ("04BRASILIA445", "Rio de Janeiro 128", "cable", "04RIODEJANEIRO128"),
    ("04BRASILIA445", "2003 Sao Paulo 2199", "cable", "03SAOPAULO2199"),
    ("04THEHAGUE1446", "SECSTATE 115541", "cable", "04STATE115541"),
    ("03THEHAGUE2113", "THE HAGUE 1548", "cable", "03THEHAGUE1548"),
    ("08TEGUCIGALPA86", "07 TGG 1798", "cable", "07TEGUCIGALPA1798"),
    ("08TEGUCIGALPA86", "08 TGG 0057", "cable", "08TEGUCIGALPA57"),
    ("09UNVIEVIENNA322", "UNVIE 102 (NOTAL)", "cable", "09UNVIEVIENNA102"),
    ("09UNVIEVIENNA322", "UNVIE 089", "cable", "09UNVIEVIENNA89"),
    ("09LONDON27", "08 STATE 128186", "cable", "08STATE128186"),
    ("02ROME1196", "ROME 1098", "cable", "02ROME1098"),
    ("06SANJOSE1933", "05 STATE 6101", "cable", "05STATE6101"),
    ("08SANJOSE702", "SECSTATE 92371", "cable", "08STATE92371"),
    ("08TRIPOLI183", "GRAY-CDA STEVENS EMAIL 3/02/08", "email", ""),
    ("02ROME1196", "MYRIAD POST-DEPARTMENT E-MAILS FROM 10/01-02/02", "email", ""),
    ("06SANJOSE1933", "SNIDLE-FRISBIE EMAIL 8-29-2006", "email", ""),
    ("08SANJOSE702", "BRENNAN-BEAL TELCON 8-28-08", "telcon", ""),
    ("05BRASILIA715", "DANILOVICH-NORIEGA TELCON 14 MARCH 05", "telcon", ""),
    ("04BRASILIA2119", "03 USDAO BRASILIA IIR 6 809 0235 03", "report", ""),
    ("09LONDON27", "LONDON DAILY REPORT 7-28-08", "report", ""),
]
# Forms a REF line may still hand over with its labels, or that are no reference at all.
LOOSE = [
    ("04BRASILIA445", "A) State 29549", "cable", "04STATE29549"),
    ("06SAOPAULO276", "(C) 02 BRASILIA 2670", "cable", "02BRASILIA2670"),
    ("08TEGUCIGALPA86", "REF A: 07 TGG 1798", "cable", "07TEGUCIGALPA1798"),
    ("05BRASILIA715", "A. (A) DANILOVICH-NORIEGA TELCON 14 MARCH 05", "telcon", ""),
    ("09ISLAMABAD2185", "DSCG 05-01", "other", ""),  # a classification guide
    ("09BEIJING1", "BEIJING5237", "cable", "09BEIJING5237"),
    ("09BUENOSAIRES1", "'08 BUENOS AIRES 1491", "cable", "08BUENOSAIRES1491"),
    ("08STATE1", ") STATE 064404", "cable", "08STATE64404"),
    ("09PARAMARIBO1", "REFTELS: (A) PARAMARIBO 501", "cable", "09PARAMARIBO501"),
    ("08BUENOSAIRES1", "07 BsAs 1892", "cable", "07BUENOSAIRES1892"),
    ("02ROME1196", "PAGE 02 ROME 01196", "other", ""),  # a page header
]



@pytest.mark.parametrize("citing, written, kind, cable_id", REAL + LOOSE,
                         ids=[r[1] for r in REAL + LOOSE])
def test_real_written_references(citing, written, kind, cable_id):
    assert kind in references.KINDS
    assert references.of_cable(citing, (written,)) == (Reference(written, kind, cable_id),)


def test_the_rows_are_what_the_parser_reads(tmp_path):
    citing = {row[0] for row in REAL}
    csv.field_size_limit(1 << 24)
    subset = tmp_path / "cables.csv"
    with gzip.open(CORPUS, "rt", encoding="utf-8", newline="") as f, \
            open(subset, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, escapechar="\\", doublequote=False, quoting=csv.QUOTE_ALL)
        writer.writerows(row for row in csv.reader(f, escapechar="\\") if row[2] in citing)
    read = {c.id: c.references for c in read_cables(subset)}
    assert set(read) == citing
    for cable_id, written, _, _ in REAL:
        assert written in read[cable_id], (cable_id, written, read[cable_id])


# The sample collection (data/cables): 07BEIJING1840's REF line cites 07BEIJING1760, which
# the collection holds too.
def test_index_stores_references_resolved_against_itself(sample_index_dir):
    with open_index(sample_index_dir) as index:
        cited = index.references("07BEIJING1840")
        assert (Reference("BEIJING 1760", "cable", "07BEIJING1760"), True) in cited
        assert index.cable("07BEIJING1840").references == tuple(r.written for r, _ in cited)
        assert "07BEIJING1840" in index.referenced_by("07BEIJING1760")
        assert index.referenced_by("09SHANGHAI374") == []
        # A reference to a cable the collection lacks is kept, marked as not indexed.
        assert any(r.kind == "cable" and not indexed for r, indexed in cited)


def test_references_to_filter(sample_index_dir):
    with open_index(sample_index_dir) as index:
        citing = Filters(references_to=("07BEIJING1760",))
        hits = index.search_keyword("China", 20, citing)
        assert hits and {h.cable_id for h in hits} <= set(index.referenced_by("07BEIJING1760"))
        vector = index.encoder().encode(["migrant workers in China"])[0]
        dense = index.search_dense(vector, 5, citing)
        assert dense and {h.cable_id for h in dense} <= set(index.referenced_by("07BEIJING1760"))
        assert index.search_keyword("China", 5, Filters(references_to=("99NOWHERE1",))) == []


def test_an_index_of_the_previous_format_asks_for_a_rebuild(sample_index_dir, tmp_path):
    old = tmp_path / "index"
    shutil.copytree(sample_index_dir, old)
    gen = old / (old / "CURRENT").read_text().strip()
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION - 1
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match=rf"format {FORMAT_VERSION - 1}.*"
                                                 r"python -m embeddings build"):
        open_index(old)
