"""Write an eval run to a folder: report.md, report.json and chart.png.

A run covers one or more question sets (the dev and test splits, their follow-up twins),
each a `SetRun`. report.md has the overall table with a value and a threshold column per
set (pass/fail), latency per stage, and per set: metrics by question kind and one row per
failed question with what was expected and what came back. report.json holds the same,
keyed by set, plus every question's outcome, so a run can be compared with a later one.
A set that was not run (no file yet, or an assistant that cannot take its questions)
keeps its column with the reason.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (CI has no display)
import matplotlib.pyplot as plt  # noqa: E402

from cables.files import write_atomic
from eval.runner import RECALL_AT, Outcome, check_thresholds, failures  # noqa: E402


@dataclass(frozen=True)
class SetRun:
    """One question set of a run: its metrics and outcomes, or why it was not run."""

    name: str  # "dev", "test", "dev-followups", or a custom file's stem
    result: dict | None  # `runner.score`; None when not run
    outcomes: tuple[Outcome, ...] = ()
    thresholds: dict = field(default_factory=dict)
    by_kind: dict[str, dict] = field(default_factory=dict)  # `runner.score_by_kind`
    not_run: str = ""  # why there is no result

    @property
    def problems(self) -> list[str]:
        return check_thresholds(self.result, self.thresholds) if self.result else []

RATE_METRICS = (
    *(f"recall@{k}" for k in RECALL_AT), "mrr", "citation_precision", "gold_hit_rate",
    "fact_accuracy", "abstention_rate", "wrongful_abstention_rate", "fallback_share",
)
_EXCERPT = 160


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cell(text: str) -> str:
    # A table cell holds one line; pipes would split it.
    return " ".join(text.split()).replace("|", "\\|")


def _refs(refs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{c} ¶{p}" for c, p in refs) or "none"


def _judged(name: str, value: float | None, thresholds: dict) -> tuple[str, str]:
    """(value cell, threshold cell) of one metric: a value on the wrong side is marked FAIL."""
    if name in thresholds.get("min", {}):
        bound = thresholds["min"][name]
        cell, ok = f"≥ {bound:.2f}", value is not None and value >= bound
    elif name in thresholds.get("max", {}):
        bound = thresholds["max"][name]
        cell, ok = f"≤ {bound:.2f}", value is not None and value <= bound
    else:
        return _fmt(value), ""
    return (_fmt(value) if ok else f"**{_fmt(value)} FAIL**"), cell


def metrics_table(runs: Sequence[SetRun]) -> str:
    """The overall table in Markdown: one row per metric, a value and a threshold column per
    set, side by side.

    >>> run = SetRun("dev", {"questions": 95, "mrr": 0.9}, thresholds={"min": {"mrr": 0.95}})
    >>> print(metrics_table([run]).splitlines()[6])
    | mrr | **0.900 FAIL** | ≥ 0.95 |
    """
    head = "| metric | " + " | ".join(f"{r.name} | threshold" for r in runs) + " |"
    lines = [head, "|---|" + "---:|---|" * len(runs)]
    lines.append("| questions | " + " | ".join(
        f"{r.result['questions']} |" if r.result else f"not run: {_cell(r.not_run)} |"
        for r in runs) + " |")
    for name in RATE_METRICS:
        cells = [_judged(name, r.result.get(name), r.thresholds) if r.result else ("", "")
                 for r in runs]
        lines.append(f"| {name} | " + " | ".join(f"{v} | {t}" for v, t in cells) + " |")
    return "\n".join(lines)


def latency_table(runs: Sequence[SetRun]) -> str:
    """p50 / p95 per stage in ms, one column per set that ran."""
    ran = [r for r in runs if r.result]
    lines = ["| stage | " + " | ".join(f"{r.name} p50 ms | {r.name} p95 ms" for r in ran) + " |",
             "|---|" + "---:|---:|" * len(ran)]
    stages = dict.fromkeys(s for r in ran for s in r.result.get("latency_ms", {}))
    for stage in stages:
        cells = []
        for r in ran:
            p = r.result["latency_ms"].get(stage)
            cells.append(f"{p['p50']:.0f} | {p['p95']:.0f}" if p else " | ")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Per kind, the rates that mean something for it: answer quality for answerable kinds,
# abstention for unanswerable ones.
_KIND_METRICS = ("recall@5", "gold_hit_rate", "citation_precision", "fact_accuracy",
                 "wrongful_abstention_rate", "abstention_rate")


def kind_table(by_kind: dict[str, dict]) -> str:
    """One row per question kind: its count and the rates that apply to it."""
    lines = ["| kind | questions | " + " | ".join(_KIND_METRICS) + " |",
             "|---|---:|" + "---:|" * len(_KIND_METRICS)]
    for kind, r in by_kind.items():
        applies = (lambda m: m == "abstention_rate") if not r["answerable"] else (
            lambda m: m != "abstention_rate")
        cells = [_fmt(r.get(m)) if applies(m) else "" for m in _KIND_METRICS]
        lines.append(f"| {kind} | {r['questions']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


_EXTRA = "non-gold citations: "


def _severe(reasons: list[str]) -> bool:
    # A right answer that also cites a paragraph outside the gold set is listed apart.
    return any(not r.startswith(_EXTRA) for r in reasons)


def failures_table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| id | question | expected | got | why |", "|---|---|---|---|---|"]
    for o in outcomes:
        reasons = failures(o)
        if not _severe(reasons):
            continue
        q = o.question
        if q.answerable:
            expected = f"{_refs(q.citations)}; facts: " + "; ".join(" / ".join(f) for f in q.facts)
        else:
            expected = "abstain"
        got_text = o.text if len(o.text) <= _EXCERPT else o.text[:_EXCERPT] + "…"
        got = ("abstained" if o.abstained else f"cites {_refs(o.citations)}") + f": {got_text}"
        lines.append("| " + " | ".join(_cell(s) for s in (
            q.id, q.question, expected, got, "; ".join(reasons))) + " |")
    return "\n".join(lines)


def extra_citations_table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| id | gold | also cited |", "|---|---|---|"]
    for o in outcomes:
        reasons = failures(o)
        if reasons and not _severe(reasons):
            lines.append(f"| {o.question.id} | {_refs(o.question.citations)} | "
                         f"{reasons[0].removeprefix(_EXTRA)} |")
    return "\n".join(lines)


def summary(run: SetRun) -> str:
    """One line on one set: its size and whether it met its thresholds."""
    if run.result is None:
        return f"{run.name}: not run: {run.not_run}."
    r = run.result
    verdict = ("no thresholds for this generator and set" if not run.thresholds
               else "below threshold: " + "; ".join(run.problems) if run.problems
               else "all thresholds met")
    return (f"{run.name}: {r['questions']} questions ({r['answerable']} answerable, "
            f"{r['unanswerable']} unanswerable), {r['k']} hits each. {verdict}.")


def _set_sections(run: SetRun) -> list[str]:
    outcomes = run.outcomes
    failed = sum(1 for o in outcomes if _severe(failures(o)))
    extra = sum(1 for o in outcomes if failures(o) and not _severe(failures(o)))
    sections = [f"## {run.name}", summary(run)]
    if run.by_kind:
        sections += [f"### {run.name}: by kind of question", kind_table(run.by_kind)]
    return sections + [
        f"### {run.name}: failed questions ({failed})",
        "Wrong or missing answers: no gold paragraph retrieved or cited, a missing fact, "
        "a wrong abstention or an answer where none exists.",
        failures_table(outcomes) if failed else "None.",
        f"### {run.name}: right answers that also cite other paragraphs ({extra})",
        "These lower citation precision only.",
        extra_citations_table(outcomes) if extra else "None.",
    ]


def markdown(runs: Sequence[SetRun], title: str) -> str:
    ran = [r for r in runs if r.result]
    return "\n\n".join([
        f"# {title}",
        "\n".join(f"- {summary(r)}" for r in runs),
        metrics_table(runs),
        "## Latency",
        latency_table(runs) if ran else "No set ran.",
        *(section for r in ran for section in _set_sections(r)),
    ]) + "\n"


def chart(runs: Sequence[SetRun], path: Path) -> None:
    """Recall@k curves on the left, one bar per set and rate metric (threshold ticks) on the
    right."""
    ran = [r for r in runs if r.result]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2 + 0.6 * max(len(ran) - 1, 0)))
    names = list(RATE_METRICS)
    height = 0.8 / max(len(ran), 1)
    for j, run in enumerate(ran):
        curve = run.result.get("recall_curve", {})
        ks = [int(k) for k in curve]
        left.plot(ks, [curve[str(k)] for k in ks], marker="o", label=run.name)
        for i, name in enumerate(names):
            value = run.result.get(name)
            if value is None:
                continue
            y = i - 0.4 + height * (j + 0.5)
            right.barh(y, value, height=height, color=f"C{j}", label=run.name if i == 0 else None)
            bound = run.thresholds.get("min", {}).get(name, run.thresholds.get("max", {}).get(name))
            if bound is not None:
                right.plot([bound, bound], [y - height / 2, y + height / 2], color="#C44E52",
                           linewidth=2)
            right.text(min(value + 0.01, 0.9), y, f"{value:.2f}", va="center", fontsize=7)
    left.set(title="recall@k", xlabel="k (hits)", ylabel="share of answerable questions",
             ylim=(0, 1.02))
    left.grid(alpha=0.3)
    right.set(title="metrics (red: threshold)", xlim=(0, 1), yticks=range(len(names)),
              yticklabels=names)
    right.invert_yaxis()
    if ran:
        left.legend(fontsize=8)
        right.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def to_json(run: SetRun) -> dict:
    """One set of report.json: its metrics, thresholds and outcomes, or why it did not run."""
    if run.result is None:
        return {"not_run": run.not_run}
    return {
        "metrics": run.result,
        "by_kind": run.by_kind,
        "thresholds": run.thresholds,
        "below_threshold": run.problems,
        "outcomes": [o.to_dict() for o in run.outcomes],
    }


def write_report(folder: str | Path, runs: Sequence[SetRun], title: str) -> dict[str, Path]:
    """Write report.md, report.json (keyed by set) and chart.png into `folder` (created if
    missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"md": folder / "report.md", "json": folder / "report.json", "png": folder / "chart.png"}
    write_atomic(paths["md"], markdown(runs, title))
    write_atomic(paths["json"], json.dumps({
        "title": title,
        "splits": {r.name: to_json(r) for r in runs},
    }, indent=2, ensure_ascii=False) + "\n")
    chart(runs, paths["png"])
    return paths
