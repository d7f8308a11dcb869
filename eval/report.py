"""Write an eval run to a folder: report.md, report.json and chart.png.

report.md has the overall table (value, threshold, pass/fail), latency per stage, and one
row per failed question with what was expected and what came back. report.json holds the
same plus every question's outcome, so a run can be compared with a later one.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (CI has no display)
import matplotlib.pyplot as plt  # noqa: E402

from eval.runner import RECALL_AT, Outcome, check_thresholds, failures  # noqa: E402

RATE_METRICS = (
    *(f"recall@{k}" for k in RECALL_AT), "mrr", "citation_precision", "gold_hit_rate",
    "fact_accuracy", "abstention_rate", "wrongful_abstention_rate",
)
_EXCERPT = 160


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cell(text: str) -> str:
    # A table cell holds one line; pipes would split it.
    return " ".join(text.split()).replace("|", "\\|")


def _refs(refs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{c} ¶{p}" for c, p in refs) or "none"


def metrics_table(result: dict, thresholds: dict) -> str:
    """The overall table in Markdown: metric, value, threshold, status."""
    lines = ["| metric | value | threshold | status |", "|---|---|---|---|"]
    for name in RATE_METRICS:
        value = result.get(name)
        if name in thresholds.get("min", {}):
            bound, ok = f"≥ {thresholds['min'][name]:.2f}", value is not None and value >= thresholds["min"][name]
        elif name in thresholds.get("max", {}):
            bound, ok = f"≤ {thresholds['max'][name]:.2f}", value is not None and value <= thresholds["max"][name]
        else:
            bound, ok = "", None
        status = "" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {name} | {_fmt(value)} | {bound} | {status} |")
    return "\n".join(lines)


def latency_table(result: dict) -> str:
    lines = ["| stage | p50 ms | p95 ms |", "|---|---|---|"]
    for stage, p in result.get("latency_ms", {}).items():
        lines.append(f"| {stage} | {p['p50']:.0f} | {p['p95']:.0f} |")
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


def markdown(result: dict, outcomes: Sequence[Outcome], thresholds: dict, title: str) -> str:
    failed = sum(1 for o in outcomes if _severe(failures(o)))
    extra = sum(1 for o in outcomes if failures(o) and not _severe(failures(o)))
    problems = check_thresholds(result, thresholds)
    verdict = "all thresholds met" if not problems else "below threshold: " + "; ".join(problems)
    if not thresholds:
        verdict = "no thresholds for this generator"
    return "\n\n".join([
        f"# {title}",
        f"{result['questions']} questions ({result['answerable']} answerable, "
        f"{result['unanswerable']} unanswerable), {result['k']} hits each. {verdict}.",
        metrics_table(result, thresholds),
        "## Latency",
        latency_table(result),
        f"## Failed questions ({failed})",
        "Wrong or missing answers: no gold paragraph retrieved or cited, a missing fact, "
        "a wrong abstention or an answer where none exists.",
        failures_table(outcomes) if failed else "None.",
        f"## Right answers that also cite other paragraphs ({extra})",
        "These lower citation precision only.",
        extra_citations_table(outcomes) if extra else "None.",
    ]) + "\n"


def chart(result: dict, thresholds: dict, path: Path) -> None:
    """Recall@k curve on the left, one bar per rate metric (threshold ticks) on the right."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    curve = result.get("recall_curve", {})
    ks = [int(k) for k in curve]
    left.plot(ks, [curve[str(k)] for k in ks], marker="o")
    left.set(title="recall@k", xlabel="k (hits)", ylabel="share of answerable questions",
             ylim=(0, 1.02), xticks=ks)
    left.grid(alpha=0.3)
    names = [n for n in RATE_METRICS if result.get(n) is not None]
    values = [result[n] for n in names]
    right.barh(names, values, color="#4C72B0")
    for i, name in enumerate(names):
        bound = thresholds.get("min", {}).get(name, thresholds.get("max", {}).get(name))
        if bound is not None:
            right.plot([bound, bound], [i - 0.4, i + 0.4], color="#C44E52", linewidth=2)
        right.text(min(values[i] + 0.01, 0.9), i, f"{values[i]:.2f}", va="center", fontsize=8)
    right.set(title="metrics (red: threshold)", xlim=(0, 1))
    right.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _write_atomic(path: Path, data: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


def write_report(folder: str | Path, result: dict, outcomes: Sequence[Outcome],
                 thresholds: dict, title: str) -> dict[str, Path]:
    """Write report.md, report.json and chart.png into `folder` (created if missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"md": folder / "report.md", "json": folder / "report.json", "png": folder / "chart.png"}
    _write_atomic(paths["md"], markdown(result, outcomes, thresholds, title))
    _write_atomic(paths["json"], json.dumps({
        "title": title,
        "metrics": result,
        "thresholds": thresholds,
        "below_threshold": check_thresholds(result, thresholds),
        "outcomes": [o.to_dict() for o in outcomes],
    }, indent=2, ensure_ascii=False) + "\n")
    chart(result, thresholds, paths["png"])
    return paths
