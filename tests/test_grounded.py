"""Grounded drafting: the real bundled SmolLM2 can only quote the sources, with their markers;
and the local model loads in the background, its state visible while it does."""
import json
import re
import threading
from pathlib import Path

import pytest

from cables.errors import ConfigError
from cables.reader import read_cables
from qa import generate
from qa.generate import get_generator, load_transformers
from qa.grounded import CONNECTIVES, is_grounded
from qa.sentences import normalize_space
from qa.settings import Settings
from qa.types import Hit

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = str(ROOT / "var" / "models")  # the app's converted SmolLM2, as in test_generate


def _hits(cable_id: str, paragraphs: list[int]) -> list[Hit]:
    cable = next(c for c in read_cables(ROOT / "data" / "cables") if c.id == cable_id)
    return [Hit(cable.id, n, cable.paragraph(n).text, 0.03, cable.date, cable.origin, cable.subject,
                cable.classification, similarity=0.5 - i / 100) for i, n in enumerate(paragraphs)]


def _is_copied(draft: str, sources: list[Hit]) -> bool:
    """Every sentence, without an opening connective and its closing marker, occurs in the
    source its marker names (a check independent of `is_grounded`)."""
    sentences = re.findall(r"(.+?) \[(\d+)\]([.!?])(?:\s|$)", draft.strip())
    if not sentences or "".join(f"{b} [{n}]{e}" for b, n, e in sentences).replace(" ", "") != draft.replace(" ", ""):
        return False
    for body, n, end in sentences:
        body = body.strip()
        for connective in CONNECTIVES:
            if body.startswith(connective + " "):
                body = body[len(connective) + 1:]
                body = body[0].upper() + body[1:]
        if not 1 <= int(n) <= len(sources):
            return False
        source = normalize_space(sources[int(n) - 1].text)
        if body + end not in source and body not in source:
            return False
    return True


def test_is_grounded_rejects_anything_but_a_marked_source_sentence():
    hits = [Hit("X", 1, "Ye spoke. The rules stay.", 0, "", "", "", ""), Hit("Y", 2, "Cao left.", 0, "", "", "", "")]
    assert is_grounded("Ye spoke [1]. Cao left [2].", hits)
    assert is_grounded("The rules stay [1]. Also, Cao left [2].", hits)
    assert not is_grounded("Ye spoke [2].", hits)  # the other source's marker
    assert not is_grounded("Ye spoke.", hits)  # no marker
    assert not is_grounded("Ye spoke [3].", hits)  # no such source
    assert not is_grounded("Ye spoke loudly [1].", hits)  # a word added
    assert not is_grounded("Ye spoke [1]. Then Cao left [2].", hits)  # a connective not allowed
    assert not is_grounded("", hits)


QUESTIONS = [  # (question, cable, paragraphs as retrieved), from eval/questions.jsonl
    ("How did the new Zhejiang policy change hukou rules for migrant workers?", "09SHANGHAI374", [9, 3, 1]),
    ("How much did the rural credit cooperative in Guiping lend to migrants who came home?",
     "09GUANGZHOU54", [4, 2, 3]),
]


@pytest.mark.slow
@pytest.mark.parametrize("grounding", ["choose", "copy"])
def test_the_bundled_model_only_quotes_the_sources(grounding):
    settings = Settings(model_cache=MODEL_CACHE, grounding=grounding)
    for question, cable_id, paragraphs in QUESTIONS:
        hits = _hits(cable_id, paragraphs)
        draft = "".join(get_generator("transformers")(question, hits, settings))
        assert draft.strip(), question
        assert is_grounded(draft, hits), draft
        assert _is_copied(draft, hits), draft


def test_unknown_grounding_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PILCROW_GROUNDING", "nope")
    with pytest.raises(ConfigError, match="PILCROW_GROUNDING=.nope.: String should match pattern"):
        Settings.from_env()


def _model_copy(tmp_path: Path) -> Path:
    """The converted SmolLM2 as a new transformers folder (links, not copies), so this test
    sees it load whatever other tests loaded before."""
    load_transformers("", MODEL_CACHE)
    source = next(p for p in Path(MODEL_CACHE).iterdir() if (p / "config.json").is_file())
    folder = tmp_path / "smollm2"
    folder.mkdir()
    for f in source.iterdir():
        (folder / f.name).symlink_to(f)
    return folder


@pytest.mark.slow
def test_model_loads_in_the_background_and_says_so(tmp_path):
    settings = Settings(model=str(_model_copy(tmp_path)), model_cache=MODEL_CACHE)
    assert generate.model_state(settings, "transformers") == "not loaded"
    assert generate.model_state(settings, "extractive") == "not used"
    thread = generate.preload(settings, "transformers")
    assert isinstance(thread, threading.Thread)
    assert generate.model_state(settings, "transformers") in ("loading", "ready")
    thread.join(120)
    assert generate.model_state(settings, "transformers") == "ready"
    assert generate.preload(settings, "transformers") is None  # loaded once


def test_a_model_that_fails_to_load_says_why(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    settings = Settings(model=str(broken), model_cache=str(tmp_path / "cache"))
    generate.preload(settings, "transformers").join(60)
    assert generate.model_state(settings, "transformers").startswith("failed: ")
    with pytest.raises(generate.GeneratorError, match=f"(?s)cannot load the model {re.escape(str(broken))}: .*PILCROW_MODEL"):
        list(get_generator("transformers")("hukou?", [], settings))


@pytest.mark.slow
def test_eval_scores_a_model_of_your_own_in_one_command(tmp_path, sample_index_dir, capsys):
    from eval.__main__ import main

    questions = tmp_path / "mine.jsonl"
    questions.write_text((ROOT / "eval" / "dev.jsonl").read_text().splitlines()[0] + "\n")
    folder = _model_copy(tmp_path)
    main(["--model", str(folder), "--questions", str(questions), "--index", str(sample_index_dir),
          "--k", "5", "--json"])
    result = json.loads(capsys.readouterr().out)
    run = result["mine"]
    assert run["generator"] == "transformers" and run["questions"] == 1
    assert run["fallback_share"] == 0.0 and run["citation_precision"] > 0
