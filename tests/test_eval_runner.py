"""The eval runner: scoring recorded outcomes by hand, then `python -m eval` end to end with
the extractive generator on the sample index (real models, real files)."""
import json
import math
from pathlib import Path

import pytest

from cables import read_cables
from cables.errors import InvalidInputError
from eval import __main__ as cli
from eval.__main__ import main
from eval.questions import DEFAULT_QUESTIONS, Question, load_questions
from eval.runner import (DEFAULT_THRESHOLDS, Outcome, check_thresholds, failures, load_thresholds,
                         sample, score, score_by_kind, supports_history)
from qa import Assistant

RATES = ("recall@1", "recall@5", "recall@10", "mrr", "citation_precision", "gold_hit_rate",
         "fact_accuracy", "abstention_rate", "wrongful_abstention_rate")

Q_ANS = Question("a", "How much did Guiping lend?", True, (("09GUANGZHOU54", 4),),
                 (("23.6 million", "23,600,000"),))
Q_TWO = Question("b", "What share of criminals are migrants?", True,
                 (("09SHANGHAI374", 9), ("07BEIJING1840", 8)), (("84 percent",),))
Q_NONE = Question("c", "What did Harbin say about hukou?", False, (), ())


def outcome(q, text="", abstained=False, hits=(), citations=(), **timings):
    return Outcome(q, text, abstained, tuple(hits), tuple(citations), timings)


def test_score_and_failures_hand_worked():
    outcomes = [
        # gold at rank 2, cited with one wrong citation, fact present
        outcome(Q_ANS, "It lent RMB 23,600,000.", hits=[("X", 1), ("09GUANGZHOU54", 4)],
                citations=[("09GUANGZHOU54", 4), ("X", 1)], retrieve=10.0, generate=1.0),
        # second gold at rank 1, wrongly abstained
        outcome(Q_TWO, "", True, hits=[("07BEIJING1840", 8)], retrieve=30.0, generate=3.0),
        # unanswerable, answered anyway
        outcome(Q_NONE, "Harbin did things.", hits=[("Y", 2)], citations=[("Y", 2)], retrieve=20.0),
    ]
    r = score(outcomes, depth=2)
    assert (r["questions"], r["answerable"], r["unanswerable"]) == (3, 2, 1)
    assert r["recall@1"] == 0.5 and r["recall@5"] is None and r["recall@10"] is None
    assert r["recall_curve"] == {"1": 0.5, "2": 1.0}
    assert r["mrr"] == pytest.approx((1 / 2 + 1) / 2)
    assert r["citation_precision"] == 0.5  # only q-a cites: 1 gold of 2
    assert r["gold_hit_rate"] == 0.5
    assert r["fact_accuracy"] == 0.5
    assert r["abstention_rate"] == 0.0
    assert r["wrongful_abstention_rate"] == 0.5
    assert r["latency_ms"]["retrieve"] == {"p50": 20.0, "p95": 29.0}  # 20 + 0.9 * 10
    assert r["latency_ms"]["generate"]["p50"] == 2.0
    assert failures(outcomes[0]) == ["non-gold citations: X ¶1"]
    assert failures(outcomes[1]) == ["abstained", "missing facts: 84 percent"]
    assert failures(outcomes[2]) == ["answered an unanswerable question"]
    assert failures(outcome(Q_NONE, abstained=True)) == []


def test_check_thresholds_names_each_failing_metric():
    result = {"recall@5": 0.8, "fact_accuracy": 0.9, "wrongful_abstention_rate": 0.1,
              "recall@10": None}
    problems = check_thresholds(result, {
        "min": {"recall@5": 0.85, "fact_accuracy": 0.9, "recall@10": 0.5},
        "max": {"wrongful_abstention_rate": 0.05}})
    assert problems == [
        "recall@5 = 0.800, below the minimum 0.850",
        "recall@10 was not measured (threshold 0.500)",
        "wrongful_abstention_rate = 0.100, above the maximum 0.050",
    ]


def test_score_by_kind_and_sample():
    kinds = [Question(str(i), "?", i % 2 == 0, (("A", 1),) if i % 2 == 0 else (), (),
                      kind="who" if i % 2 == 0 else "unanswerable-entity") for i in range(6)]
    outcomes = [outcome(q, abstained=not q.answerable, hits=[("A", 1)],
                        citations=[("A", 1)] if q.answerable else []) for q in kinds]
    by_kind = score_by_kind(outcomes, depth=1)
    assert list(by_kind) == ["who", "unanswerable-entity"]
    assert by_kind["who"]["questions"] == 3 and by_kind["who"]["gold_hit_rate"] == 1.0
    assert by_kind["unanswerable-entity"]["abstention_rate"] == 1.0
    assert score_by_kind([outcome(Q_ANS)], depth=1) == {}
    assert [q.id for q in sample(kinds, 3)] == ["0", "2", "4"]
    assert sample(kinds, None) == kinds and sample(kinds, 99) == kinds


def test_thresholds_file_is_valid_for_every_generator_and_split():
    table = json.loads(DEFAULT_THRESHOLDS.read_text())
    assert {"extractive", "transformers"} <= set(table)
    assert {"dev", "test"} <= set(table["extractive"])
    for generator in table:
        for split in table[generator]:
            entry = load_thresholds(DEFAULT_THRESHOLDS, generator, split)
            for bound in ("min", "max"):
                for name, value in entry.get(bound, {}).items():
                    assert name in RATES and 0 <= value <= 1, (generator, split, name)
    assert load_thresholds(DEFAULT_THRESHOLDS, "no-such-generator", "dev") == {}


def test_thresholds_in_the_wrong_direction_are_rejected(tmp_path: Path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"extractive": {"dev": {"max": {"recall@5": 0.9}}}}))
    with pytest.raises(InvalidInputError, match="wrong direction"):
        load_thresholds(path, "extractive", "dev")
    path.write_text(json.dumps({"extractive": {"min": {"recall@5": 0.9}}}))
    with pytest.raises(InvalidInputError, match="extractive.min must hold only"):
        load_thresholds(path, "extractive", "dev")


@pytest.fixture(scope="module")
def full_run(sample_index_dir, tmp_path_factory):
    """The whole dev split through `python -m eval`, extractive, with a report folder."""
    report = tmp_path_factory.mktemp("report")
    code = main(["--index", str(sample_index_dir), "--generator", "extractive", "--split", "dev",
                 "--report", str(report)])
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    return code, report, data["splits"]["dev"]


def test_end_to_end_report(full_run):
    code, report, data = full_run
    for name in ("report.md", "report.json", "chart.png"):
        assert (report / name).stat().st_size > 0
    assert (report / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = data["metrics"]
    assert metrics["generator"] == "extractive"
    assert metrics["questions"] == len(load_questions(DEFAULT_QUESTIONS))
    for name in RATES:
        assert 0.0 <= metrics[name] <= 1.0, name
    for stage in ("retrieve", "verify", "total"):
        p = metrics["latency_ms"][stage]
        assert 0 <= p["p50"] <= p["p95"] and math.isfinite(p["p95"])
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "| recall@5 |" in md and "### dev: failed questions" in md
    failed = [o for o in data["outcomes"] if o["failures"]]
    for o in failed:
        assert f"| {o['id']} |" in md
    # The run meets the thresholds set from real runs (eval/thresholds.json).
    assert code == 0, data["below_threshold"]


def test_every_citation_points_to_an_existing_paragraph(full_run):
    # Issue 5: over the whole eval set, no answer cites a paragraph the corpus lacks.
    _, _, data = full_run
    paragraphs = {(c.id, p.number) for c in read_cables("data/cables") for p in c.paragraphs}
    cited = [(o["id"], tuple(ref)) for o in data["outcomes"] for ref in o["citations"]]
    assert cited, "the extractive generator cited nothing at all"
    assert [(qid, ref) for qid, ref in cited if ref not in paragraphs] == []
    for o in data["outcomes"]:
        assert all(tuple(h) in paragraphs for h in o["hits"]), o["id"]
        if o["abstained"]:
            assert o["citations"] == []


def test_exit_1_names_the_metric_below_threshold(sample_index_dir, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    lines = DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions.write_text(lines[0] + "\n" + lines[-1] + "\n", encoding="utf-8")
    thresholds = tmp_path / "t.json"
    thresholds.write_text(json.dumps({"extractive": {"q": {"min": {"recall@1": 1.01}}}}))
    code = main(["--index", str(sample_index_dir), "--generator", "extractive", "--json",
                 "--questions", str(questions), "--thresholds", str(thresholds)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "below threshold: q: recall@1 = " in err
    assert json.loads(out)["q"]["questions"] == 2


def test_both_splits_side_by_side(sample_index_dir, tmp_path, monkeypatch, capsys):
    # A split whose file is missing keeps its column with the reason; a follow-up set runs
    # only when the assistant takes a history.
    monkeypatch.setitem(cli.SPLITS, "test", tmp_path / "test.jsonl")
    followup = json.loads(DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines()[0])
    followup["history"] = ["What happened to migrant workers in Guangxi?"]
    monkeypatch.setitem(cli.FOLLOWUPS, "dev", tmp_path / "dev-followups.jsonl")
    cli.FOLLOWUPS["dev"].write_text(json.dumps(followup) + "\n", encoding="utf-8")
    monkeypatch.setitem(cli.FOLLOWUPS, "test", tmp_path / "test-followups.jsonl")
    thresholds = tmp_path / "t.json"
    thresholds.write_text(json.dumps({"extractive": {"dev": {"min": {"recall@10": 0.5}}}}))
    code = main(["--index", str(sample_index_dir), "--generator", "extractive", "--limit", "3",
                 "--thresholds", str(thresholds), "--report", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 0
    data = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["splits"]
    assert list(data) == ["dev", "test", "dev-followups", "test-followups"]
    assert data["dev"]["metrics"]["questions"] == 3
    assert data["test"] == {"not_run": f"{tmp_path / 'test.jsonl'} does not exist yet"}
    assert "test: not run: " in err
    if supports_history(Assistant):
        assert data["dev-followups"]["metrics"]["questions"] == 1
    else:
        assert data["dev-followups"] == {"not_run": "Assistant has no history"}
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert md.splitlines()[0] == "# Pilcrow eval: extractive generator, at most 3 questions a set"
    assert "| metric | dev | threshold | test | threshold | dev-followups | threshold |" in md
    # Asked for by name, a missing split is an error.
    assert main(["--split", "test", "--index", str(sample_index_dir)]) == 2
    assert "cannot read questions file" in capsys.readouterr().err


def test_domain_errors_exit_2(sample_index_dir, tmp_path, capsys):
    assert main(["--questions", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read questions file" in capsys.readouterr().err
    assert main(["--index", str(tmp_path / "no-index"), "--generator", "extractive"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    with pytest.raises(SystemExit) as e:
        main(["--k", "0"])
    assert e.value.code == 2
