"""The `gradio_client` package calls the UI's endpoints of the real app: chat (with a
follow-up), search, the cable reader, and uploading cables to index."""
from __future__ import annotations

import base64
import re
import shutil
import time
from pathlib import Path

from gradio_client import Client, handle_file

from qa import Settings
from web import create_app

QUESTION = "What do labor NGOs do for migrant workers?"
DATA = Path(__file__).resolve().parent / "data" / "iceland"
FORD = "How many Ford fuel cell vehicles did the Minister of Industry hand out in Reykjavik?"


def _text(message: dict) -> str:
    """A chat message's text; Gradio 6 sends content as a list of typed parts."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def test_chat_endpoint_answers_with_chips_and_the_cable_endpoint_opens_one(app_url):
    client = Client(app_url, verbose=False)
    assert {"/chat", "/cable"} <= set(client.view_api(print_info=False,
                                                      return_format="dict")["named_endpoints"])
    history, question_box = client.predict(QUESTION, [], api_name="/chat")
    assert question_box == ""
    user, answer, *rest = history
    assert user["role"] == "user" and _text(user) == QUESTION
    html = _text(answer)
    assert answer["role"] == "assistant" and 'class="panswer"' in html
    refs = re.findall(r'href="#cite/(\w+)/(\d+)"', html)
    assert refs
    assert rest and rest[0]["metadata"]["title"].startswith("What the verifier dropped")

    cable_id, n = refs[0]
    reader = client.predict(f"{cable_id}/{n}", api_name="/cable")
    assert f'<div class="pcable-id">{cable_id}</div>' in reader
    assert f'id="pcited" data-n="{n}"' in reader


def _final(history: list) -> str:
    """The last answer's HTML (the verifier's note may follow it)."""
    return next(_text(m) for m in reversed(history)
                if 'class="panswer"' in _text(m) or 'class="pabstain"' in _text(m))


def test_chat_follows_up_in_context_and_copies_markdown(app_url):
    client = Client(app_url, verbose=False)
    history, _ = client.predict("What did Zhejiang officials say about hukou?", [], api_name="/chat")
    history, _ = client.predict("Which officials said that, and what figure did they give?",
                                history, api_name="/chat")
    html = _final(history)
    assert 'class="pstandalone"' in html and "09SHANGHAI374" in html
    assert set(re.findall(r'href="#cite/(\w+)/\d+"', html)) == {"09SHANGHAI374"}
    [b64] = re.findall(r'href="#copy/([A-Za-z0-9+/=]+)"', html)
    markdown = base64.b64decode(b64).decode()
    assert markdown.startswith("**Q:** Which officials said that")
    assert "[^1]: Consulate Shanghai to Secretary of State, “NEW ZHEJIANG MIGRANT POLICY" in markdown


def test_search_endpoint_ranks_the_phrase_first(app_url):
    client = Client(app_url, verbose=False)
    html = client.predict("84 percent", 10, [], "", "", [], [], api_name="/search")
    first = re.search(r'<li class="pev phit">.*?href="#cite/(\w+)/(\d+)"', html).groups()
    assert first == ("09SHANGHAI374", "9") and "<mark>84 percent</mark>" in html
    assert 'class="pfname">origin' in html


def test_upload_through_the_ui_endpoints(serve, sample_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    app = create_app(Settings.from_env(index_dir=str(index), generator="extractive"))
    with serve(app) as url:
        client = Client(url, verbose=False)
        files = [handle_file(str(p)) for p in sorted(DATA.iterdir())]
        job_id, progress, _interval = client.predict(files, api_name="/index")  # and the poll timer
        assert job_id.startswith("job-") and 'class="pprogress"' in progress
        deadline = time.monotonic() + 300
        while 'data-status="done"' not in progress:
            assert time.monotonic() < deadline and 'data-status="failed"' not in progress, progress
            time.sleep(0.5)
            progress, about, indexed, _interval = client.predict(job_id, api_name="/progress")
        assert "3 cables read, 1 skipped" in progress and "notes.txt" in progress
        assert "Embassy Reykjavik (3)" in about and indexed == about
        history, _ = client.predict(FORD, [], api_name="/chat")
        assert "10REYKJAVIK19" in _final(history)
