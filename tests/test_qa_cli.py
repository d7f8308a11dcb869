"""`python -m qa`: search and ask from the command line, JSON and text, errors exit 2."""
import json
import subprocess
import sys
from pathlib import Path

from qa.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def test_search_json(sample_index_dir, capsys):
    assert main(["search", "84 percent", "--k", "5", "--json", "--index", str(sample_index_dir)]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 5 and "09SHANGHAI374 ¶9" in [h["ref"] for h in hits]
    assert {"cable_id", "paragraph", "score", "text", "similarity"} <= set(hits[0])


def test_search_text_shows_id_paragraph_score_and_first_line(sample_index_dir, capsys):
    assert main(["search", "09SHANGHAI374 ¶9", "--index", str(sample_index_dir)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(" 1. 09SHANGHAI374 ¶9") and "score 2.5000" in first  # a named paragraph: DIRECT_SCORE + 1/2
    assert "Requiring migrants to register" in first


def test_ask_text_shows_answer_then_cited_paragraphs(sample_index_dir, capsys):
    code = main(["ask", "what did Zhejiang officials say about hukou?", "--generator", "extractive",
                 "--origin", "Consulate Shanghai", "--index", str(sample_index_dir)])
    assert code == 0
    out = capsys.readouterr().out
    answer, rest = out.split("\n\n", 1)
    assert "[09SHANGHAI374 ¶9]" in answer
    assert "[09SHANGHAI374 ¶9] Consulate Shanghai, 2009-08-28: NEW ZHEJIANG MIGRANT POLICY" in rest
    assert "Ye Ke from the ZPDRC claimed 84 percent of criminals" in rest  # the paragraph's text


def test_ask_json_is_answer_to_dict(sample_index_dir, capsys):
    assert main(["ask", "what is the recipe for chocolate cake?", "--generator", "extractive", "--json",
                 "--index", str(sample_index_dir)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["abstained"] is True and d["citations"] == [] and d["hits"]
    assert set(d) >= {"question", "text", "citations", "hits", "abstained", "dropped", "generator",
                      "timings", "settings_hash"}


def test_domain_errors_exit_2_with_one_line(sample_index_dir, tmp_path, capsys):
    cases = [
        ["ask", "  ", "--index", str(sample_index_dir)],
        ["ask", "hukou", "--date-from", "2009/01/01", "--index", str(sample_index_dir)],
        ["ask", "hukou", "--generator", "nope", "--index", str(sample_index_dir)],
        ["search", "hukou", "--index", str(tmp_path / "missing")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err, err


def test_help_shows_examples():
    out = subprocess.run([sys.executable, "-m", "qa", "ask", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert 'python -m qa ask "what did Zhejiang officials say about hukou?"' in out
