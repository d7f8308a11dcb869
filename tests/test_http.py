"""The HTTP API of the real app, served on a free localhost port over the sample index with
the extractive generator: every endpoint, the error cases and the bearer token."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

from cables import Paragraph
from qa import Answer, Citation, Dropped, Hit, Settings
from web import create_app
from web.api import CableWithReferences, CitedReference

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How did Zhejiang's new policy change hukou rules for migrant workers?"


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in r.text


def ask(url: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json=body, timeout=120)


def sse(text: str) -> list[tuple[str, object]]:
    """Server-sent events as (event, decoded JSON data) pairs."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def norm(s: str) -> str:
    return " ".join(s.split())


@pytest.fixture(scope="module")
def answer(app_url) -> dict:
    r = ask(app_url, question=QUESTION)
    assert r.status_code == 200, r.text
    return r.json()


def test_health_reports_index_and_models(app_url):
    r = httpx.get(f"{app_url}/api/health")
    assert r.status_code == 200
    health = r.json()
    assert health["status"] == "ok"
    assert "extractive" in json.dumps(health)


def test_ask_answers_with_citations_that_resolve_to_the_quoted_paragraph(app_url, answer):
    assert answer["question"] == QUESTION and answer["generator"] == "extractive"
    assert answer["fallback"] is False
    assert not answer["abstained"] and answer["citations"]
    assert "09SHANGHAI374" in {c["cable_id"] for c in answer["citations"]}
    for c in answer["citations"]:
        assert c["ref"] == f"{c['cable_id']} ¶{c['paragraph']}"
        assert c["ref"] in answer["text"]
        r = httpx.get(f"{app_url}/api/cables/{c['cable_id']}/paragraphs/{c['paragraph']}")
        assert r.status_code == 200
        assert norm(c["quote"]) in norm(r.json()["text"])
    assert all(h["ref"] == f"{h['cable_id']} ¶{h['paragraph']}" for h in answer["hits"])


def test_ask_streams_tokens_then_the_same_verified_answer(app_url, answer):
    with httpx.stream("POST", f"{app_url}/api/ask", params={"stream": "true"},
                      json={"question": QUESTION}, timeout=120) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse(r.read().decode())
    names = [name for name, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"token"}
    assert all(isinstance(data, str) for _, data in events[:-1])
    final = events[-1][1]
    assert final["text"] == answer["text"] and final["citations"] == answer["citations"]


def test_ask_applies_filters_and_k(app_url):
    r = ask(app_url, question="migrant workers", k=3,
            filters={"origins": ["Embassy Beijing"], "date_from": "2009-01-01"})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert 0 < len(hits) <= 3
    assert all(h["origin"] == "Embassy Beijing" and h["date"] >= "2009-01-01" for h in hits)


def test_search_returns_ranked_hits(app_url):
    r = httpx.get(f"{app_url}/api/search", params={"q": "hukou residence permit", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "hukou residence permit" and 0 < len(body["hits"]) <= 3
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert any("hukou" in h["text"].lower() for h in body["hits"])


def test_cable_and_paragraph(app_url):
    r = httpx.get(f"{app_url}/api/cables/09SHANGHAI374")
    assert r.status_code == 200
    cable = r.json()
    assert cable["id"] == "09SHANGHAI374" and cable["origin"] == "Consulate Shanghai"
    assert cable["recipients"] == ["SECSTATE WASHDC"]
    numbers = [p["number"] for p in cable["paragraphs"]]
    assert 9 in numbers and numbers == sorted(numbers)
    r = httpx.get(f"{app_url}/api/cables/09SHANGHAI374/paragraphs/9")
    assert r.status_code == 200
    p = r.json()
    assert p["ref"] == "09SHANGHAI374 ¶9" and p["number"] == 9
    assert p["text"] == next(q["text"] for q in cable["paragraphs"] if q["number"] == 9)


def test_openapi_documents_every_endpoint_with_models(app_url):
    schema = httpx.get(f"{app_url}/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/ask", "/api/search", "/api/cables/{cable_id}",
        "/api/cables/{cable_id}/paragraphs/{n}", "/api/cables/{cable_id}/cite",
        "/api/collections", "/api/collections/jobs", "/api/collections/jobs/{job_id}",
        "/api/health"}
    ok = schema["paths"]["/api/ask"]["post"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Answer")
    assert ok["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    # The response schemas are the records themselves: a field added to a record is in
    # the API without another edit.
    models = schema["components"]["schemas"]
    for record, computed in ((Answer, set()), (Hit, {"ref"}), (Citation, {"ref"}),
                             (Dropped, set()), (CableWithReferences, set()),
                             (CitedReference, set()), (Paragraph, set())):
        assert set(models[record.__name__]["properties"]) == {
            f.name for f in fields(record)} | computed, record.__name__


@pytest.mark.parametrize("body, status, code", [
    ({"question": ""}, 400, "invalid_input"),
    ({"question": "   \n\t "}, 400, "invalid_input"),
    ({"question": "x" * 2001}, 400, "invalid_input"),
    ({"question": "x" * 1_000_000}, 413, "too_large"),
    ({}, 400, "invalid_input"),
    ({"question": 5}, 400, "invalid_input"),
    ({"question": "hukou", "k": 0}, 400, "invalid_input"),
    ({"question": "hukou", "k": "many"}, 400, "invalid_input"),
    ({"question": "hukou", "surprise": 1}, 400, "invalid_input"),
    ({"question": "hukou", "filters": {"date_from": "2009/01/01"}}, 400, "invalid_input"),
    ({"question": "hukou", "filters": {"origins": "Embassy Beijing"}}, 400, "invalid_input"),
    ({"question": "hukou", "generator": "no-such-generator"}, 400, "invalid_input"),
    ({"question": "hukou\u0000 rules"}, 400, "invalid_input"),
    ({"question": "hukou", "filters": {"date_from": "2010-01-01", "date_to": "2009-01-01"}},
     400, "invalid_input"),
])
def test_ask_rejects_bad_input(app_url, body, status, code):
    assert_error(ask(app_url, **body), status, code)
    r = httpx.post(f"{app_url}/api/ask", params={"stream": "true"}, json=body, timeout=60)
    assert_error(r, status, code)


@pytest.mark.parametrize("raw", [
    b"question=hukou",
    b'{"question": "\\ud800 hukou"}',  # a lone surrogate: valid JSON, not valid text
    b'{"question": "hukou", "filters": {"origins": ["\\udfff"]}}',
    b'{"question": "\xff\xfe hukou"}',  # not UTF-8
])
def test_ask_rejects_a_body_that_is_not_json_text(app_url, raw):
    r = httpx.post(f"{app_url}/api/ask", content=raw, headers={"content-type": "application/json"})
    assert_error(r, 400, "invalid_input")


@pytest.mark.parametrize("question", [
    "hukou 🙂 migrant workers 👷",
    "What did Zhejiang officials say about hukou (מה, العمال)?",  # right-to-left words in
    # an English question (a question mostly in Hebrew or Arabic is refused: not English)
    "\u0001\u001b[31m hukou \u200f rules\u202e",  # control and bidi-override characters
])
def test_unusual_but_valid_questions_are_answered(app_url, question):
    r = ask(app_url, question=question)
    assert r.status_code == 200, r.text
    assert r.json()["question"] == question.strip()


@pytest.mark.parametrize("path, status, code", [
    ("/api/search", 400, "invalid_input"),
    ("/api/search?q=hukou&k=0", 400, "invalid_input"),
    ("/api/search?q=hukou&date_to=yesterday", 400, "invalid_input"),
    ("/api/search?q=hukou%00", 400, "invalid_input"),
    ("/api/search?q=" + "x" * 5000, 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374%00", 400, "invalid_input"),
    ("/api/cables/not-a-cable-id", 400, "invalid_input"),
    ("/api/cables/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
    ("/api/cables/09SHANGHAI99999", 404, "not_found"),
    ("/api/cables/09SHANGHAI374/paragraphs/999", 404, "not_found"),
    ("/api/cables/09SHANGHAI374/paragraphs/-1", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/99999999999999999999", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/nine", 400, "invalid_input"),
    ("/api/no-such-endpoint", 404, "not_found"),
])
def test_get_errors(app_url, path, status, code):
    assert_error(httpx.get(f"{app_url}{path}"), status, code)


def test_token_is_required_on_the_api_when_set(sample_index_dir, serve):
    settings = Settings.from_env(index_dir=str(sample_index_dir), generator="extractive",
                                 api_token="s3cret")
    with serve(create_app(settings)) as url:
        r = httpx.get(f"{url}/api/health")
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        assert_error(httpx.get(f"{url}/api/health", headers={"Authorization": "Bearer wrong"}),
                     401, "unauthorized")
        assert_error(ask(url, question=QUESTION), 401, "unauthorized")
        good = {"Authorization": "Bearer s3cret"}
        assert httpx.get(f"{url}/api/health", headers=good).status_code == 200
        r = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, headers=good, timeout=120)
        assert r.status_code == 200 and r.json()["citations"]
        schemes = httpx.get(f"{url}/openapi.json").json()["components"]["securitySchemes"]
        assert schemes["HTTPBearer"]["scheme"] == "bearer"


def test_a_missing_index_is_503_and_the_page_says_so(tmp_path, serve):
    settings = Settings.from_env(index_dir=str(tmp_path / "no-index"), generator="extractive")
    with serve(create_app(settings)) as url:
        for r in (httpx.get(f"{url}/api/health"), ask(url, question=QUESTION),
                  httpx.get(f"{url}/api/cables/09SHANGHAI374")):
            assert_error(r, 503, "unavailable")
            assert "no-index" in r.json()["error"]["message"]
        page = httpx.get(f"{url}/config").json()
        assert "Index not ready" in json.dumps(page)


def test_help_shows_real_examples():
    out = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "python app.py --generator transformers" in out and "PILCROW_API_TOKEN" in out


def test_exposed_host_without_token_warns(tmp_path):
    # A damaged index stops the app before it binds anything, after the warning.
    (tmp_path / "CURRENT").write_text("garbled")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "app.py", "--host", "0.0.0.0", "--index",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert run.returncode == 2
    assert "warning: serving on 0.0.0.0 without PILCROW_API_TOKEN" in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: ")


def test_a_bad_setting_stops_the_app_naming_its_variable(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PILCROW_RRF_K": "0"}
    run = subprocess.run([sys.executable, "app.py", "--index", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, env=env)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == (
        "error: PILCROW_RRF_K='0': Input should be greater than or equal to 1")


def test_a_server_set_up_fault_is_503_naming_the_fix(app_url):
    """No OpenAI-compatible endpoint configured: the server's fault, not the request's."""
    r = ask(app_url, question=QUESTION, generator="openai")
    assert_error(r, 503, "unavailable")
    assert "PILCROW_OPENAI_BASE_URL" in r.json()["error"]["message"]
