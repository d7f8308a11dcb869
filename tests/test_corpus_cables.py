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


@pytest.mark.parametrize("cable_id, expected", [
    # A blank line inside the list (`REF: A. STATE 220751` / blank / `¶B. SAN JOSE 2713`).
    ("05SANJOSE2795", ("STATE 220751", "SAN JOSE 2713")),
    # Four-digit and bracketed years stay as written.
    ("08MANAGUA573", ("MANAGUA 520", "MANAGUA 500", "MANAGUA 443", "MANAGUA 340", "MANAGUA 325",
                      "MANAGUA 289", "MANAGUA 263", "MANAGUA 130", "2007 MANAGUA 2135",
                      "2007 MANAGUA 1730", "2007 MANAGUA 964", "2006 MANAGUA 2611")),
    ("09SAOPAULO558", ("ASUNCION 701 (08)", "ASUNCION 338 (07)", "INCSR BRAZIL 2008",
                       "SAO PAULO 228 (08)", "SAO PAULO 66 (08)", "SAO PAULO 873 (07)",
                       "SAO PAULO 447 (07)", "SAO PAULO 975 (06)", "SAO PAULO 526 (06)",
                       "SAO PAULO 319 (06)")),
    # `(C)` after `(B)` is item C, not a paragraph marking (the list runs into the subject).
    ("06SAOPAULO276", ("05 SAO PAULO 405", "05 SAO PAULO 402", "02 BRASILIA 2670")),
    # Other labels: `Refs: A) ...` one a line, `Reftel:`, `REF A: ...; REF B: ...`, `REF.`,
    # `REF A) ...` with no colon, `REF.:`.
    ("04BRASILIA445", ("State 29549", "Sao Paulo 276", "Rio de Janeiro 128", "Brasilia 313",
                       "Brasilia 222", "Brasilia 202", "2003 Sao Paulo 2199", "2003 Brasilia 3868",
                       "2003 Brasilia 3138", "2003 Brasilia 3122", "2003 Brasilia 2943",
                       "2003 Sao Paulo 1186")),
    ("08SANTIAGO645", ("07 STATE 77742",)),
    ("01VATICAN5960", ("VATICAN 05286", "VATICAN 05546")),
    ("01VATICAN5693", ("STATE 184178",)),
    ("08SAOPAULO19", ("07 Sao Paulo 780", "07 Sao Paulo 1005", "Sao Paulo 12", "07 Brasilia 2151",
                      "Brasilia 0006")),
    ("05BRASILIA3216", ("BRASILIA 03150 AND PREVIOUS",)),
    # A page header (`CONFIDENTIAL` / `PAGE 02 ROME 01196 01 OF 02 082030Z`) inside the list
    # is no reference, and the items after it are kept, an e-mail description among them.
    ("02ROME1196", ("STATE 40721", "ROME 1098", "ROME 894",
                    "MYRIAD POST-DEPARTMENT E-MAILS FROM 10/01-02/02", "ROME 348")),
    # A REF glued to the subject (`... VISIT TO EGYPTREF: CAIRO 493`).
    ("06CAIRO941", ("CAIRO 493",)),
    # `A. A) BAKU 494`: one label written twice; `¶B. B HAVANA 772` likewise.
    ("08BAKU671", ("BAKU 494", "ASHBABAT 817", "ANKARA 1172")),
    ("10HAVANA9", ('HAVANA 639 ("A SPLENDID LITTLE VISIT")', "HAVANA 772 (CONSULAR VISIT TO JAILED AMCIT)",
                   "HAVANA 763 (CUBA PASSES UP ON REFORMS)", "HAVANA 739 (STRIDENT PROTEST)",
                   "HAVANA 736 (HUMAN RIGHTS MARCHES TURN VIOLENT)",
                   "HAVANA 755 (CUBAN FEATHERS RUFFLED BY USCG RESCUE)")),
    # `REF A SECRETARY'S LETTER ...` / `REF B SECSTATE 76108`: labels with no punctuation.
    ("09ABUDHABI754", ("SECRETARY'S LETTER TO MBZ ON PUMA HELICOPTERS", "SECSTATE 76108")),
    # `A) 05 VATICAN 475 ET AL.; WARSAW 799 ET AL.; MARTIN - CURTIN, VAN CLEVE TELCONS`
    ("06VATICAN83", ("05 VATICAN 475 ET AL", "WARSAW 799 ET AL", "MARTIN - CURTIN, VAN CLEVE TELCONS")),
    # A list cut short (`LIMA 4968 (0..`) and run into the mirror's metadata (`id: 109673 ...`).
    ("07LIMA1862", ("LIMA 4516 (06)", "LIMA 248 (06)", "LIMA 37 (05)", "LIMA 4968 (0")),
    # Lower-case labels `a. ... b. ...`, and `(C )` with a blank.
    ("08BERLIN643", ("07 state 75839", "State 15220", "Berlin 195", "State 40087", "Berlin 511")),
    ("05SANJOSE1740", ("SAN JOSE 01639", "SAN JOSE 01455", "SAN JOSE 01713", "SAN JOSE 01720",
                       "SAN JOSE 01722")),
    # What runs into the last item: a transmission note, a telegram header, the body's first
    # sentence after a REF run into the subject.
    ("09LONDON2622", ("LONDON 2198", "LONDON 2199")),
    ("09CAIRO290", ("CAIRO 181|09CAIRO257",)),
    ("09CAIRO189", ("STATE 6970",)),
    # A label written twice for two items: `(A)STATE 118258, (B)STATE 146306, (B)STATE 178055`.
    ("07REYKJAVIK256", ("STATE 118258", "STATE 146306", "STATE 178055")),
])
def test_references_are_the_items_as_written(cable, cable_id, expected):
    assert cable(cable_id).references == expected


def test_a_reference_holding_a_dtg_is_one_item_not_a_date(cable):
    # 08REYKJAVIK115: `REF: SECTO 003 DTG 070102Z JUN 08` is one reference, not two.
    assert cable("08REYKJAVIK115").references == ("SECTO 003 DTG 070102Z JUN 08",)


def test_body_text_after_a_reference_list_is_not_a_reference(cable):
    # 07MANAMA986: `REF: STATE 148406` / blank / `(U) PolOffs delivered reftel points ...`
    c = cable("07MANAMA986")
    assert c.references == ("STATE 148406",)
    assert c.paragraphs[0].text.startswith("PolOffs delivered reftel points")


@pytest.mark.parametrize("cable_id, subject", [
    ("09PRETORIA954", "PART 3 OF 3: THE LIFE AND TIMES OF SOUTH AFRICA’S NEW PRESIDENT"),  # page line
    ("06CAIRO941", "FBI DIRECTOR MUELLER’S VISIT TO EGYPT"),  # glued `EGYPTREF:`
    ("06SAOPAULO276", "CARDINAL HUMMES DISCUSSES LULA GOVERNMENT, THE OPPOSITION, AND FTAA"),  # REF:
    ("03COLOMBO2183", "Minister Moragoda reviews upcoming visit to Washington in meeting with the "
                      "Ambassador"),  # Refs:
    ("03BRASILIA2231", "BRAZIL'S ARSLANIAN: FTAA COMPROMISE POSSIBLE"),  # Classified By:
    ("08CAIRO2221", "IS THE EGYPTIAN GOVERNMENT READY FOR A GLOBAL SLOWDOWN?"),  # Sensitive but...
    ("00HARARE6677", "ASSISTANT SECRETARY MEETS WITH ZIMBABWE"),  # CONFIDENTIAL PAGE 02 HARARE ...
    ("06YEREVAN1019", "A PROSTITUTE'S STORY: SEX AND TRAFFICKING IN ..."),  # cut short, then header
    ("10TRIPOLI62", "DARFUR REBEL GROUP MERGER IN KUFRA: MORE FANFARE THAN"),  # `Derived from: DSCG 05-1`
])
def test_subject_ends_where_the_subject_ends(cable, cable_id, subject):
    assert cable(cable_id).subject == subject


@pytest.mark.parametrize("cable_id, tags", [
    ("02ROME1196", ("PHUM", "OPRC", "IT", "ITPHUM", "HUMAN RIGHTS")),
    ("09STATE30049", ("OVIP", "CLINTON, HILLARY", "PREL", "AS", "PK", "AF", "CH", "RS", "JA", "KS",
                      "ASEAN")),
    ("06CAIRO941", ("PTER", "PREL", "KISL", "EG")),  # TAGS run into `...SIPDISE.O. 12958: ...`
    # The next line is the subject of a cable that dropped its `SUBJECT:` label, not tags.
    ("09TRIPOLI678", ("PREL", "PGOV", "PHUM", "PINR", "PTER", "LY")),
    # A continuation line of codes, run into `SUBJECT:`; `UNGA/C-6, CS`; no `UNCLAS` from the page.
    ("09LONDON2499", ("PREL", "PGOV", "KPAL", "ETRD", "KNNP", "PARM", "SENV", "MARR", "MNUC", "ECON",
                      "PHUM", "RS", "IS", "IR", "GG", "AF", "UK")),
    ("09SANJOSE124", ("AORC", "APER", "KAWC", "KJUS", "KUNR", "PREL", "UNGA", "C-6", "CS")),
    ("06MEXICO1311", ("PGOV", "PINR", "MX")),
])
def test_tags(cable, cable_id, tags):
    assert cable(cable_id).tags == tags


def test_a_dtg_with_two_precedence_letters_gives_the_date(corpus_rows):
    # 10STATE284: `P R 041820Z JAN 10`; with no CSV date to fall back on the cable still parses.
    row = corpus_rows["10STATE284"]
    c = cable_from_text(row[6] + "\n\n" + row[7], "corpus:10STATE284")
    assert (c.id, c.date) == ("10STATE284", "2010-01-04T18:20")


@pytest.mark.parametrize("cable_id, starts", [
    ("07REYKJAVIK248", "Pol Chief called the Icelandic Ministry"),  # `(C) Pol Chief ...` then `2.`
    ("09CAIRO2133", "During a November 3 meeting"),  # `-- (C) During ...` then `2.`
    ("08BRASILIA1226", "SUMMARY: Ambassador Marcel Biato"),  # `Reasons: 1.4 (b) and (d).` / `SUMMARY: ...`
    ("07SANJOSE1497", "On August 8, PolOff met"),  # `1, On August 8`
    ("06BRASILIA2094", "Post grants country clearance"),  # `REF: SECSTATE 165115 1. Post grants`
])
def test_a_first_paragraph_without_its_number_is_paragraph_1(cable, cable_id, starts):
    c = cable(cable_id)
    assert _numbers(c) == list(range(1, len(c.paragraphs) + 1))
    assert c.paragraph(1).text.startswith(starts)


@pytest.mark.parametrize("cable_id, references, starts", [
    # The body runs into the header with no paragraph number: the cable still has its text.
    ("06NEWDELHI4100", ("STATE 94541", "NEW DELHI 3473"), "On June 12 A/PolCouns met"),
    ("08CAIRO2099", ("SECSTATE 102414",), "We delivered points in reftel"),
    # `SUBJECT: ... CONTACTS REF: STATE 6970 As requested in reftel, ...`; the mirror glued
    # another cable's header after it, whose `SUBJECT:` is no longer taken for this one's.
    ("09CAIRO189", ("STATE 6970",), "As requested in reftel, contacts for NPT issues"),
])
def test_a_body_run_into_the_header_is_text_not_header(cable, cable_id, references, starts):
    c = cable(cable_id)
    assert c.references == references
    assert c.paragraphs[0].text.startswith(starts)


@pytest.mark.parametrize("cable_id, signer", [
    ("09LONDON2208", "SUSMAN"),  # `... Classified Website: XXXXXXXXXXXX` / `SUSMAN`
    ("07LIMA3659", "MCKINLEY"),  # `MCKINLEY` / blank / `=====CABLE ENDS=====`
    ("04VATICAN3196", "HARDT"),  # `HARDT` / `NNNN` / ` 2004VATICA03196 - Classification: ...`
    ("09ISLAMABAD2295", "PATTERSON"),  # `PATTERSON` / `SECRET`
    ("09CAIRO544", "SCOBEY"),  # `XXXXXXXXXXXX SCOBEY`
    ("09BRUSSELS537", "MURRAY"),  # `... MINIMIZE CONSIDERED MURRAY .`
    ("09STATE127892", "CLINTON"),  # a quoted cable's `CLINTON UNQUOTE`, then `CLINTON`
    ("09CAIRO2133", "SCOBEY"),  # `SCOBEY` / `Scobey`: one name written twice
    ("04BAGHDAD4", "NEGROPONTE"),  # `NEGROPONTE` / `...`
    ("02VATICAN819", "NICHOLSON"),  # `... END COMMENT. NICHOLSON`, after a `PAGE 03 VATICA` header
    # Older telegrams: `MCDONALD` / ` CONFIDENTIAL` / `>`, and `>  2002ROME01196 - Classification: ...`
    ("00HARARE5461", "MCDONALD"),
    ("02ROME1196", "POPE"),
    ("03ROME2045", "SEMBLER"),
    # After the post's web address, which a copy may break with a blank, or a row of asterisks.
    ("09LONDON1702", "LeBaron"),  # `.../wiki/Portal:Unit ed_Kingdom LeBaron`
    ("09MEXICO3101", "FEELEY"),  # `.../communities/state/nap / FEELEY`
    ("09RABAT719", "Jackson"),  # `Portal:Moro cco ***************************************** Jackson`
])
def test_signer(cable, cable_id, signer):
    assert cable(cable_id).signer == signer


def test_the_signer_line_is_not_paragraph_text(cable):
    last = cable("09LONDON2208").paragraphs[-1].text
    assert last.endswith("Visit London's Classified Website: XXXXXXXXXXXX")
    assert "PAGE 03" not in " ".join(p.text for p in cable("02VATICAN819").paragraphs)


def test_a_cable_cut_short_has_no_signer(cable):
    # 05THEHAGUE1556 ends `... END COMMENT` / `AND GUIDANCE REQUES`: the text was cut, no one signed.
    assert cable("05THEHAGUE1556").signer == ""


@pytest.mark.parametrize("cable_id, recipients", [
    ("00HARARE5461", ("SECSTATE WASHDC",)),  # `TO SECSTATE WASHDC IMMEDIATE 7212`, no routing
    ("04TRIPOLI31", ("AMEMBASSY PARIS", "SECSTATE WASHDC")),  # two action addressees, then INFO
    ("01STATE176819", ("AMEMBASSY PARIS", "AMEMBASSY NEW DELHI", "AMEMBASSY MOSCOW")),  # the first 3 of 18
])
def test_recipients_are_the_to_lines(cable, cable_id, recipients):
    assert cable(cable_id).recipients[:len(recipients)] == recipients
