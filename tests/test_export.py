"""Citation export: Markdown with footnotes, Chicago notes, CSL-JSON and BibTeX from real
answers and cables of the sample index, the same from the CLI."""
import json
import re

import pytest

from qa import Assistant, Settings
from qa.__main__ import main
from qa.export import CitedCable, answer_markdown, bibtex, chicago, csl_item, export_answer

HUKOU = "what did Zhejiang officials say about hukou?"


@pytest.fixture(scope="module")
def assistant(sample_index_dir):
    return Assistant(Settings(index_dir=str(sample_index_dir), generator="extractive"))



def test_answer_as_markdown_footnotes_every_citation_once(assistant):
    answer = assistant.ask(HUKOU)
    md = answer_markdown(answer)
    refs = list(dict.fromkeys(c.ref for c in answer.citations))
    assert refs and not any(f"[{r}]" in md for r in refs)  # inline refs became footnotes
    notes = re.findall(r"^\[\^(\d+)\]: (.+)$", md, re.M)
    assert [int(n) for n, _ in notes] == list(range(1, len(refs) + 1))
    for (n, note), ref in zip(notes, refs):
        cable_id, par = ref.split(" ¶")
        assert f"[^{n}]" in md.split("\n\n")[1]
        assert note == (f"Consulate Shanghai to Secretary of State, “NEW ZHEJIANG MIGRANT POLICY FOCUSES ON MAINTAINING "
                        f"\"STABILITY\",” cable {cable_id}, August 28, 2009, ¶{par}, WikiLeaks "
                        f"Cablegate, https://wikileaks.org/cable/2009/08/{cable_id}.html.")


def test_a_cable_reference_in_every_format(assistant):
    ref = CitedCable.of(assistant.cable("07BEIJING2459"))
    assert chicago(ref, 2) == (
        "Embassy Beijing to Secretary of State, “RESIDENCE PERMIT REFORM: \"OLD WINE IN NEW BOTTLE\" VEXES CHINA'S "
        "MIGRANTS,” cable 07BEIJING2459, April 13, 2007, ¶2, WikiLeaks Cablegate, "
        "https://wikileaks.org/cable/2007/04/07BEIJING2459.html.")
    item = csl_item(ref, 2)
    assert item["author"] == [{"literal": "Embassy Beijing"}] and item["number"] == "07BEIJING2459"
    assert item["recipient"] == [{"literal": "Secretary of State"}]  # TO RUEHC/SECSTATE WASHDC IMMEDIATE 6819
    assert item["issued"] == {"date-parts": [[2007, 4, 13]]}
    entry = bibtex(ref, 2)
    assert entry.startswith("@misc{07BEIJING2459_p2,") and entry.count("{") == entry.count("}")
    assert "year = {2007}" in entry and "month = {apr}" in entry
    assert "howpublished = {Cable 07BEIJING2459 to Secretary of State, WikiLeaks Cablegate}" in entry


def test_a_cable_without_a_to_line_names_its_sender_alone(assistant):
    ref = CitedCable.of(assistant.cable("09BEIJING3235"))  # seed 003: a copy without the address lines
    assert ref.recipients == () and chicago(ref).startswith("Embassy Beijing, “")
    assert csl_item(ref)["recipient"] == [] and " to " not in bibtex(ref)


def test_several_addressees_are_named_in_order():
    ref = CitedCable("08BEIJING3899", "Embassy Beijing", "", "2008-10-15T01:00",
                     ("SECSTATE WASHDC", "DEPT OF TREASURY WASHDC", "CHINA POSTS COLLECTIVE"))
    assert chicago(ref).startswith("Embassy Beijing to Secretary of State, Department of the "
                                   "Treasury and CHINA POSTS COLLECTIVE, cable 08BEIJING3899,")
    assert [r["literal"] for r in csl_item(ref)["recipient"]] == [
        "Secretary of State", "Department of the Treasury", "CHINA POSTS COLLECTIVE"]


def test_cli_ask_and_cite_print_the_same_exports(assistant, sample_index_dir, capsys):
    index = ["--index", str(sample_index_dir)]
    answer = assistant.ask(HUKOU, generator="extractive")
    for fmt in ("markdown", "csl-json", "bibtex", "chicago"):
        assert main(["ask", HUKOU, "--generator", "extractive", "--format", fmt, *index]) == 0
        assert capsys.readouterr().out == export_answer(answer, fmt) + "\n"
    assert main(["cite", "09 SHANGHAI 374", "--paragraph", "9", "--format", "csl-json", *index]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["id"] == "09SHANGHAI374-p9" and item["note"] == "¶9"
    assert main(["cite", "09SHANGHAI374", "--paragraph", "99", *index]) == 2
    assert "no paragraph 99" in capsys.readouterr().err
