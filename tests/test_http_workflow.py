"""The researcher's workflow through the HTTP API of the real app (sample index,
extractive): a follow-up in context, exports, phrase search with facets, forgiving input,
and cables uploaded, indexed in the background and answered from."""
from __future__ import annotations

import io
import re
import shutil
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from cables.errors import InvalidInputError
from qa import Settings
from web import create_app
from web.collections import Upload, unpack

DATA = Path(__file__).resolve().parent / "data" / "iceland"
HUKOU = "What did Zhejiang officials say about hukou?"
FOLLOW_UP = "Which officials said that, and what figure did they give?"
FORD = "How many Ford fuel cell vehicles did the Minister of Industry hand out in Reykjavik?"


def ask(url: str, params: dict | None = None, **body) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json=body, params=params or {}, timeout=120)


def error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    return r.json()["error"]["message"]


def test_a_followup_with_history_is_answered_from_the_earlier_answers_cable(app_url):
    first = ask(app_url, question=HUKOU).json()
    assert {c["cable_id"] for c in first["citations"]} == {"09SHANGHAI374"}
    turn = {"question": HUKOU, "citations": first["citations"]}  # passed back as it came
    answer = ask(app_url, question=FOLLOW_UP, history=[turn]).json()
    assert answer["question"] == FOLLOW_UP and not answer["abstained"]
    assert answer["standalone"].startswith(FOLLOW_UP) and "09SHANGHAI374" in answer["standalone"]
    assert {c["cable_id"] for c in answer["citations"]} == {"09SHANGHAI374"}
    assert ask(app_url, question=HUKOU).json()["standalone"] == ""


def test_exports_markdown_and_references(app_url):
    r = ask(app_url, {"format": "markdown"}, question=HUKOU)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith(f"**Q:** {HUKOU}")
    assert re.search(r"^\[\^1\]: Consulate Shanghai to Secretary of State, “NEW ZHEJIANG MIGRANT POLICY", r.text, re.M)
    r = httpx.get(f"{app_url}/api/cables/09 SHANGHAI 374/cite",
                  params={"paragraph": 9, "format": "csl-json"})
    assert r.headers["content-type"] == "application/vnd.citationstyles.csl+json"
    assert r.json()[0]["URL"] == "https://wikileaks.org/cable/2009/08/09SHANGHAI374.html"
    assert r.json()[0]["recipient"] == [{"literal": "Secretary of State"}]
    r = httpx.get(f"{app_url}/api/cables/09SHANGHAI374/cite")
    assert r.text.startswith("Consulate Shanghai to Secretary of State, “NEW ZHEJIANG") and "¶" not in r.text
    assert "format" in error(httpx.get(f"{app_url}/api/cables/09SHANGHAI374/cite",
                                       params={"format": "mla"}), 400)
    assert "no paragraph 99" in error(httpx.get(f"{app_url}/api/cables/09SHANGHAI374/cite",
                                                params={"paragraph": 99}), 404)
    assert "stream" in error(ask(app_url, {"format": "bibtex", "stream": "true"}, question=HUKOU), 400)


def test_search_ranks_the_exact_phrase_first_and_counts_facets(app_url):
    body = httpx.get(f"{app_url}/api/search", params={"q": "84 percent", "k": 10}).json()
    assert body["hits"][0]["ref"] == "09SHANGHAI374 ¶9"
    assert "84 percent" in body["hits"][0]["text"]
    assert set(body["facets"]) == {"origin", "year", "classification", "tag"}
    cables = len({h["cable_id"] for h in body["hits"]})
    assert sum(f["cables"] for f in body["facets"]["origin"]) == cables
    assert sum(f["cables"] for f in body["facets"]["year"]) == cables


def test_forgiving_input(app_url):
    message = error(ask(app_url, question="浙江官员对户口说了什么？"), 400)
    assert "Chinese" in message and "English" in message
    message = error(ask(app_url, question=HUKOU, filters={"date_from": "2009/01/01"}), 400)
    assert "2009/01/01" in message and "YYYY" not in message and "^" not in message
    assert "year (2009)" in message
    year = ask(app_url, question=HUKOU, filters={"date_from": "2009", "date_to": "2009"}).json()
    assert year["hits"] and all(h["date"].startswith("2009") for h in year["hits"])
    none = ask(app_url, question=HUKOU, filters={"date_from": "2001", "date_to": "2001"}).json()
    assert none["abstained"] and none["text"].startswith("No cable matches these filters")
    r = httpx.get(f"{app_url}/api/search", params={"q": "hukou", "date_to": "last year"})
    assert "a year (2009)" in error(r, 400)


def test_uploaded_cables_are_indexed_in_the_background_and_answered_from(
        serve, sample_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    app = create_app(Settings.from_env(index_dir=str(index), generator="extractive"))
    with serve(app) as url:
        assert ask(url, question=FORD).json()["abstained"]
        before = httpx.get(f"{url}/api/collections").json()
        files = [("files", (p.name, p.read_bytes())) for p in sorted(DATA.iterdir())]
        r = httpx.post(f"{url}/api/collections/jobs", files=files, timeout=60)
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] in ("queued", "running") and len(job["files"]) == 4
        deadline = time.monotonic() + 300
        while job["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            # The current index keeps answering while the build runs.
            assert httpx.get(f"{url}/api/search", params={"q": "hukou", "k": 1}).status_code == 200
            time.sleep(0.5)
            job = httpx.get(f"{url}/api/collections/jobs/{job['id']}").json()
        assert job["status"] == "done", job
        assert job["cables_read"] == job["cables_total"] == 3 and job["chunks_done"] > 0
        assert job["skipped"] == [{"file": "notes.txt", "records": ["no recognisable cable"]}]
        after = httpx.get(f"{url}/api/collections").json()
        assert after["cables"] == before["cables"] + 3
        assert after["origin_counts"]["Embassy Reykjavik"] == 3
        answer = ask(url, question=FORD).json()
        assert not answer["abstained"] and "ten Ford Focus" in answer["text"]
        assert {c["cable_id"] for c in answer["citations"]} == {"10REYKJAVIK19"}
        assert "no indexing job" in error(httpx.get(f"{url}/api/collections/jobs/job-99"), 404)
        r = httpx.post(f"{url}/api/collections/jobs", files=[("files", ("x.exe", b"MZ"))])
        assert "not a cable file" in error(r, 400)



def test_unpack_keeps_zip_members_inside_the_folder_and_refuses_what_is_no_cable(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("../../escape.txt", "x")
        z.writestr("cables/10REYKJAVIK19.jsonl", (DATA / "10REYKJAVIK19.jsonl").read_text())
        z.writestr("README.md", "not a cable file, skipped")
    folder = tmp_path / "upload"
    folder.mkdir()
    names = unpack([Upload("batch.zip", data=buffer.getvalue()),
                    Upload("batch.zip", data=buffer.getvalue())], folder)
    assert names == ["escape.txt", "10REYKJAVIK19.jsonl", "escape-1.txt", "10REYKJAVIK19-1.jsonl"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(names)
    with pytest.raises(InvalidInputError, match="not a cable file"):
        unpack([Upload("photo.png", data=b"PNG")], folder)
    with pytest.raises(InvalidInputError, match="not a readable zip"):
        unpack([Upload("broken.zip", data=b"PK no zip")], folder)
