"""The cable parser on the five seeds (golden files), the CSV and JSONL formats, the CLI,
and bad input: each bad file or row is one CableParseError and the others still come."""
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cables import Cable, CableParseError, ParseReport, Paragraph, read_cables, write_jsonl
from cables.telegram import parse_header

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "cables"
GOLDEN = Path(__file__).resolve().parent / "golden"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def _summary(cable: Cable) -> dict:
    """What a golden file pins: the fields, and each paragraph's number and first/last words."""
    return {
        "id": cable.id, "date": cable.date, "origin": cable.origin, "recipients": list(cable.recipients),
        "classification": cable.classification, "tags": list(cable.tags),
        "subject": cable.subject, "references": list(cable.references), "signer": cable.signer,
        "numbered": cable.numbered,
        "paragraphs": [{"number": p.number, "marking": p.marking,
                        "starts": " ".join(p.text.split()[:8]),
                        "ends": " ".join(p.text.split()[-6:])} for p in cable.paragraphs],
    }


def _one(path: Path) -> Cable:
    report = ParseReport()
    cables = list(read_cables(path, report=report))
    assert report.errors == [] and len(cables) == 1, report.summary()
    return cables[0]


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_seed_matches_golden_file(path):
    expected = json.loads((GOLDEN / f"{path.name[:3]}.json").read_text(encoding="utf-8"))
    assert _summary(_one(path)) == expected


def test_mangled_pilcrows_are_read_by_sequence():
    # 001 and 002 write paragraphs 3..9 as `13.`..`19.` (a mangled ¶); 001's `10.` is ¶10.
    shanghai = _one(SEEDS / "001_77859e777fb636d1.txt")
    assert [p.number for p in shanghai.paragraphs] == list(range(1, 11))
    assert shanghai.paragraph(3).text.startswith("Zhejiang government officials, however")
    assert shanghai.paragraph(10).text.startswith("Although initially pitched")
    beijing = _one(SEEDS / "002_ff3ac79c9ad3b8d2.txt")
    assert [p.number for p in beijing.paragraphs] == list(range(1, 9))
    assert beijing.paragraph(4).text.startswith('In assessing the latest announcement of "reform,"')


def test_wrapped_year_is_text_not_a_paragraph():
    cable = _one(SEEDS / "004_7c0c5ff613467435.txt")
    assert [p.number for p in cable.paragraphs] == list(range(1, 17))
    assert "Protection Law\" passed in 1993 and amended in 2005. The National Congress" in \
        cable.paragraph(7).text


def test_page_breaks_vanish_and_split_paragraphs_join():
    cable = _one(SEEDS / "000_fdada65da582d8ab.txt")
    assert ("hopes to convince returning migrant parents to remain with their families"
            in cable.paragraph(5).text)
    assert all("00000054" not in p.text and "-----" not in p.text for p in cable.paragraphs)
    # The heading "Welcome Back! ..." between ¶2 and ¶3 belongs to neither.
    assert all("Welcome Back" not in p.text for p in cable.paragraphs)


def test_the_telegram_trailer_is_not_paragraph_text(tmp_path):
    """A raw telegram may end `BT` / `#2459` / `NNNN` right after its last paragraph."""
    raw = (SEEDS / "002_ff3ac79c9ad3b8d2.txt").read_text().rstrip()
    trailed = tmp_path / "trailed.txt"
    trailed.write_text(raw[: raw.rfind("RANDT")].rstrip() + "\nBT\n#2459\n\nNNNN\n")
    last = _one(trailed).paragraphs[-1]
    assert last == _one(SEEDS / "002_ff3ac79c9ad3b8d2.txt").paragraphs[-1]
    assert last.text.endswith("even if it is only on paper.")


def test_news_site_text_after_the_cable_is_dropped():
    cable = _one(SEEDS / "003_c61514f83b20f44e.txt")
    assert cable.paragraph(6).text.endswith("the supply of organizations that perform these")
    assert all("Scoop" not in p.text and "COVID" not in p.text for p in cable.paragraphs)


def test_csv_rows_use_the_stated_fields():
    report = ParseReport()
    cables = list(read_cables(SEEDS / "china-posts.csv", report=report))
    assert report.read == 77 and report.skipped == 0, report.summary()
    first = cables[0]
    assert (first.id, first.date, first.origin, first.classification) == (
        "06BEIJING10909", "2006-06-02T00:12", "Embassy Beijing", "SECRET")
    assert first.source.endswith("china-posts.csv:row 673")
    assert first.subject == "A/S HILL'S MAY 25 WORKING LUNCH WITH VFM WU DAWEI"
    assert first.paragraph(2).text.endswith("Asian regional architecture with PRC Vice Foreign "
                                            "Minister Wu Dawei. Wu opened by saying he had closely "
                                            "studied A/S Hill's recent speech in Singapore, noting "
                                            "his satisfaction with the positive characterization of "
                                            "the PRC role in the region as well as the potential for "
                                            "greater U.S.-China cooperation.")
    origins = {c.origin for c in cables}
    assert origins == {"Embassy Beijing", "Consulate Shanghai", "Consulate Shenyang"}


def test_gzip_csv_reads_like_plain(tmp_path):
    plain = SEEDS / "china-posts.csv"
    packed = tmp_path / "china.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    as_dicts = [{**c.to_dict(), "source": ""} for c in read_cables(plain)]
    assert [{**c.to_dict(), "source": ""} for c in read_cables(packed)] == as_dicts


def test_jsonl_round_trips_exactly(tmp_path):
    cables = list(read_cables(SEEDS))
    out = tmp_path / "export" / "cables.jsonl"
    assert write_jsonl(cables, out) == len(cables) == 82
    assert list(read_cables(out)) == cables
    assert not list(out.parent.glob(".*.tmp"))
    assert {tuple(json.loads(line)["recipients"]) for line in out.read_text().splitlines()} >= {
        ("SECSTATE WASHDC",), ()}
    older = json.loads(out.read_text().splitlines()[0])
    del older["recipients"]  # an export written before the field: no addressees, not an error
    assert Cable.from_dict(older).recipients == ()


def test_duplicates_keep_the_first_and_are_reported(tmp_path):
    copy = tmp_path / "copy.txt"
    copy.write_bytes((SEEDS / "000_fdada65da582d8ab.txt").read_bytes())
    report = ParseReport()
    cables = list(read_cables(SEEDS / "000_fdada65da582d8ab.txt", copy, report=report))
    assert [c.source for c in cables] == [str(SEEDS / "000_fdada65da582d8ab.txt")]
    assert report.duplicates == [("09GUANGZHOU54", str(copy), cables[0].source)]
    assert report.summary().startswith("1 cables read, 1 skipped: duplicate 09GUANGZHOU54 in ")


def test_unnumbered_cable_is_cut_into_blocks(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("R 010101Z JAN 08\nFM AMEMBASSY PARIS\nUNCLAS PARIS 000012\n\n"
                    "SUBJECT: A TEST\n\nFirst block of text,\nwrapped.\n\nSecond block.\n\nSTAPLETON\n")
    cable = _one(path)
    assert cable.id == "08PARIS12" and cable.origin == "Embassy Paris" and not cable.numbered
    assert cable.paragraphs == (Paragraph(1, "First block of text, wrapped."),
                                Paragraph(2, "Second block."))
    assert cable.signer == "STAPLETON"


def _bad_inputs(folder: Path) -> dict[str, str]:
    """File name -> the words its CableParseError must contain."""
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "news.txt").write_text("Nothing here looks like a cable.\n\nJust a paragraph.\n")
    (folder / "page.html").write_text("<!DOCTYPE html><html><body><p>no cable</p></body></html>")
    (folder / "bad.jsonl").write_text('{"id": "09X1"}\nnot json\n')
    (folder / "bomb.csv.gz").write_bytes(gzip.compress(b'"1","' + b"a" * (40 * 1024 * 1024)))
    return {"empty.txt": "empty file", "binary.txt": "binary", "news.txt": "no recognisable cable",
            "page.html": "no cable text", "bomb.csv.gz": "longer than"}


def test_bad_files_are_reported_and_do_not_stop_the_others(tmp_path):
    expected = _bad_inputs(tmp_path)
    good = tmp_path / "zz_good.txt"
    good.write_bytes((SEEDS / "002_ff3ac79c9ad3b8d2.txt").read_bytes())
    report = ParseReport()
    cables = list(read_cables(tmp_path, report=report))
    assert [c.id for c in cables] == ["07BEIJING2459"]
    by_file = {}
    for error in report.errors:
        assert isinstance(error, CableParseError)
        by_file.setdefault(Path(error.path).name, []).append(error)
    for name, words in expected.items():
        assert words in by_file[name][0].reason, (name, by_file[name])
    assert [(e.row, "not a Cable record" in e.reason) for e in by_file["bad.jsonl"]] == [
        (1, True), (2, True)]
    assert report.summary().startswith(f"1 cables read, {len(report.errors)} skipped: ")


def test_malformed_csv_row_names_its_row_and_reading_goes_on(tmp_path):
    rows = (SEEDS / "china-posts.csv").read_text(encoding="utf-8")
    good_two = rows[:rows.index('\n"', rows.index('\n"') + 1) + 1]  # the first two records
    path = tmp_path / "mixed.csv"
    path.write_text('"5","01/01/2009 00:00","09X5","only four"\n' + good_two
                    + '"7","bad"date","09X7","Embassy X","SECRET","","h","b"\n' + good_two,
                    encoding="utf-8")
    report = ParseReport()
    cables = list(read_cables(path, report=report))
    assert [c.id for c in cables] == ["06BEIJING10909", "06BEIJING22825"]
    assert len(report.duplicates) == 2
    assert [(e.row, e.reason.split(" (")[0]) for e in report.errors] == [
        (5, "expected 8 columns, found 4"), (7, "malformed CSV")]
    assert str(report.errors[0]) == f"{path}:row 5: expected 8 columns, found 4"


def test_non_utf8_text_falls_back_to_windows_1252(tmp_path):
    text = (SEEDS / "000_fdada65da582d8ab.txt").read_text(encoding="utf-8")
    path = tmp_path / "latin.txt"
    path.write_bytes(text.replace("\u00b6", "").replace("End summary.", "End summary \u2013 caf\u00e9.")
                     .encode("cp1252"))
    cable = _one(path)
    assert cable.paragraph(1).text.endswith("End summary \u2013 caf\u00e9.")


def test_hostile_csv_field_fails_in_bounded_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "huge.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write('"1","01/01/2009 00:00","09X1","Embassy X","SECRET","","h","')
        for _ in range(100):
            f.write("x" * (1024 * 1024))
        f.write('"\n')
        f.write((SEEDS / "china-posts.csv").read_text(encoding="utf-8").split('\n"674"')[0] + "\n")
    report = ParseReport()
    tracemalloc.start()
    cables = list(read_cables(path, report=report))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [c.id for c in cables] == ["06BEIJING10909"]
    assert report.errors[0].row == 1 and "longer than" in report.errors[0].reason
    assert peak < 64 * 1024 * 1024


def test_cli_parse_prints_cables_and_the_report(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    run = subprocess.run([sys.executable, "-m", "embeddings", "parse", str(SEEDS / "000_fdada65da582d8ab.txt"),
                          str(tmp_path / "empty.txt"), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    assert Cable.from_dict(json.loads(line)).id == "09GUANGZHOU54"
    assert run.stderr.splitlines() == [f"1 cables read, 1 skipped: {tmp_path / 'empty.txt'}: empty file",
                                       "cables with references 0, tags 1, subject 1, signer 1, "
                                       "references resolved to cable IDs 0"]
    plain = subprocess.run([sys.executable, "-m", "embeddings", "parse", str(SEEDS / "002_ff3ac79c9ad3b8d2.txt")],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert plain.stdout.split("\t")[0] == "07BEIJING2459"
    assert plain.stdout.rstrip().endswith("8 paragraphs")


def test_cli_help_shows_examples_and_bad_usage_exits_2():
    help_run = subprocess.run([sys.executable, "-m", "embeddings", "parse", "--help"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "python -m embeddings parse data/cables" in help_run.stdout
    bad = subprocess.run([sys.executable, "-m", "embeddings", "parse"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2


def test_deeply_nested_html_fails_cleanly(tmp_path):
    # How fast: bench/hostile.py (a time is a benchmark's figure, not a test's).
    path = tmp_path / "nested.html"
    path.write_text("<!DOCTYPE html><html>" + "<div><b>" * 300_000 + "<pre>R 300723Z" + "<" * 100_000)
    report = ParseReport()
    assert list(read_cables(path, report=report)) == []
    assert [e.reason for e in report.errors] == ["no cable text (<pre>) in the page"]


# Real header lines (the cable each comes from) -> the action addressees.
TO_LINES = [
    ("FM AMCONSUL SHANGHAI\nTO RUEHC/SECSTATE WASHDC 8243\nINFO RUEHBJ/AMEMBASSY BEIJING 3039",
     ("SECSTATE WASHDC",)),  # 09SHANGHAI374
    ("FM AMEMBASSY BEIJING\nTO RUEHC/SECSTATE WASHDC PRIORITY 0409\nRUEATRS/DEPT OF TREASURY WASHDC\n"
     "INFO RUEHOO/CHINA POSTS COLLECTIVE", ("SECSTATE WASHDC", "DEPT OF TREASURY WASHDC")),  # 08BEIJING3899
    ("FM AMEMBASSY HARARE\nTO SECSTATE WASHDC IMMEDIATE 7212\nINFO NSC WASHDC IMMEDIATE",
     ("SECSTATE WASHDC",)),  # 00HARARE5461
    ("FM AMEMBASSY TRIPOLI\nTO AMEMBASSY PARIS IMMEDIATE \nSECSTATE WASHDC IMMEDIATE 0037\n"
     "INFO AMEMBASSY ALGIERS IMMEDIATE", ("AMEMBASSY PARIS", "SECSTATE WASHDC")),  # 04TRIPOLI31
    ("FM AMEMBASSY BEIJING\nTO SECSTATE WASHDC\nRUEHOO/CHINA POSTS COLLECTIVE\n\nC O N F I D E N T I A L",
     ("SECSTATE WASHDC", "CHINA POSTS COLLECTIVE")),  # 10BEIJING263: no INFO line
    ("FM AMEMBASSY GUANGZHOU\nTO RHHMUNA/HQ USPACOM HONOLULU HIUNCLAS SECTION 01 OF 04 GUANGZHOU 000208",
     ("HQ USPACOM HONOLULU HI",)),  # the glued classification line of 07GUANGZHOU208's INFO list
    ("FM SECSTATE WASHDC\nTO ZEN/AMEMBASSY MOSCOW NIACT IMMEDIATE 4778-4781\nJOINT STAFF WASHDC//J5//",
     ("AMEMBASSY MOSCOW", "JOINT STAFF WASHDC")),  # serial ranges and office suffixes of STATE cables
    ("FM AMEMBASSY MANAMA\nTORUEHC/SECSTATE WASHDC PRIORITY 8009\nINFO RUEHZM/GULF COOPERATION COUNCIL",
     ("SECSTATE WASHDC",)),  # 08MANAMA492 (the corpus row says 08ECTION01OF02MANAMA492)
    ("R 270230Z NOV 08\nFM SECSTATE WASHDC\nINFO AMEMBASSY PANAMA", ()),  # 08STATE125686: INFO only
    ("R 030919Z DEC 09\nTO SECSTATE WASHDC", ()),  # a TO line without its FM line is not a header
]


@pytest.mark.parametrize("text, expected", TO_LINES)
def test_recipients_are_the_to_lines_without_routing_precedence_or_serial(text, expected):
    assert parse_header(text).recipients == expected
