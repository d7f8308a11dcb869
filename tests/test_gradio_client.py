"""The `gradio_client` package calls the chat UI's endpoints of the real app."""
from __future__ import annotations

import re

from gradio_client import Client

QUESTION = "What do labor NGOs do for migrant workers?"


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
