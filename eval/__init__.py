"""Pilcrow's evaluation: known-answer questions (questions.jsonl), pure metrics (metrics.py),
the runner (runner.py, `python -m eval`), the report (report.py) and thresholds.json.

It uses only the public API: `qa.Assistant`, `qa.Settings` and `embeddings.build_index`.
"""
