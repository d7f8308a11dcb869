"""`pilcrow COMMAND`: the console script dispatches to each module's own command line."""
import json
from pathlib import Path

from pilcrow import COMMANDS, main
from qa.settings import markdown_table

SEED = Path(__file__).resolve().parent.parent / "data" / "cables" / "001_77859e777fb636d1.txt"


def test_each_command_reaches_its_module(capsys):
    assert set(COMMANDS) >= {"ask", "search", "build", "parse", "info", "eval", "serve"}
    assert main(["settings"]) == 0
    assert capsys.readouterr().out.strip() == markdown_table()
    assert main(["parse", str(SEED), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "09SHANGHAI374"


def test_an_unknown_command_shows_the_usage(capsys):
    assert main(["nope"]) == 2
    assert "usage: pilcrow {ask,search" in capsys.readouterr().err
    assert main(["--help"]) == 0
