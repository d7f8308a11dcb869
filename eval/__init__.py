"""Pilcrow's evaluation: known-answer questions in two splits (dev.jsonl, tuned on; test.jsonl,
never tuned on) with their two-turn follow-up sets, read by questions.py; pure metrics
(metrics.py), the runner (runner.py, `python -m eval`), the report (report.py) and
thresholds.json (per generator and split).

It uses only the public API: `qa.Assistant`, `qa.Settings` and `embeddings.build_index`.
"""
