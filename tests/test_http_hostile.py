"""Hostile HTTP input against the real app (`python app.py` on a free loopback port).

Every request here is refused with 400, 404 or 413 and the API's JSON error body, or answered
with a valid 200; none is a 500. test_http.py has the ordinary error cases (empty, over-long
and NUL questions, malformed JSON text, `..%2F` and `%00` cable IDs, paragraph -1 and
99999999999999999999); this file adds what an attacker or a broken client sends on top:
bodies with no length, odd JSON, raw `../` paths that a client library would normalise away,
encoded and double-encoded traversal, HTTP the server cannot parse, and unusual text in
searches and in streamed answers.
"""
from __future__ import annotations

import json
import select
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from test_http import assert_error, sse

MB = 1024 * 1024
ANSWER_KEYS = {"question", "text", "citations", "hits", "abstained", "dropped", "generator",
               "timings", "settings_hash", "fallback", "standalone",
               "reason"}


def assert_answer(r: httpx.Response, question: str) -> None:
    """A 200 whose body is a whole Answer: every citation it makes is in its text."""
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == ANSWER_KEYS and answer["question"] == question.strip()
    for c in answer["citations"]:
        assert c["ref"] == f"{c['cable_id']} ¶{c['paragraph']}" and c["ref"] in answer["text"]
    assert not (answer["abstained"] and answer["citations"])


def raw_http(url: str, request: bytes) -> tuple[int, str, bytes]:
    """Send bytes as they are (no client library to normalise `../` or refuse them);
    returns (status, content-type, body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as s:
        # A server refusing a huge request answers and closes before it has read it all;
        # stop sending once its answer is there, so a reset cannot beat us to reading it.
        try:
            for start in range(0, len(request), 65536):
                if select.select([s], [], [], 0)[0]:
                    break
                s.sendall(request[start:start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:  # the server may close while a huge request is unread
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("content-type", ""), body


def get_raw(url: str, target: bytes) -> tuple[int, str, bytes]:
    return raw_http(url, b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n"
                    b"Connection: close\r\n\r\n")


def post_ask(url: str, content, **params) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", content=content, params=params, timeout=120,
                      headers={"content-type": "application/json"})


# --- questions -------------------------------------------------------------------------

def test_a_megabyte_body_without_content_length_is_413(app_url):
    """A chunked upload declares no length: the limit is counted as the bytes arrive."""
    def chunks():
        yield b'{"question": "'
        for _ in range(64):
            yield b"x" * (16 * 1024)
        yield b'"}'
    r = post_ask(app_url, chunks())
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "too_large")


@pytest.mark.parametrize("body", [
    b"",  # 0 bytes: no JSON at all
    b"null", b"[]", b'"hukou"', b"{", b'{"question": "hukou"',
    b'{"question": NaN}', b'{"question": Infinity}',
    b'{"question": "hukou", "k": 1e400}',  # a float JSON can hold and no int can
    b'{"question": "hukou", "k": true}',  # lax parsing would read it as k=1
    b'{"question": "hukou", "k": "5"}',
    b'{"question": "hukou", "k": 99999999999999999999999999999}',
    b'{"question": {"$ne": null}}',
    b'{"question": ["hukou"]}',
    b'{"question": "hukou", "filters": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    b"[" * 30_000 + b"]" * 30_000,  # 60 kB of nesting, under the body limit
    b'{"question": "hukou", "filters": {"origins": [' + b'"x",' * 1000 + b'"x"]}}',
], ids=lambda b: repr(b[:40]))
def test_malformed_json_bodies_are_400(app_url, body):
    assert_error(post_ask(app_url, body), 400, "invalid_input")
    assert_error(post_ask(app_url, body, stream="true"), 400, "invalid_input")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", ""])
def test_a_body_that_is_not_declared_json_is_400(app_url, content_type):
    r = httpx.post(f"{app_url}/api/ask", content=b'question=hukou',
                   headers={"content-type": content_type})
    assert_error(r, 400, "invalid_input")


@pytest.mark.parametrize("question", [
    "\u200b\u200b\u200b",  # zero-width spaces only: not blank to str.strip()
    "\ufeffhukou",  # a byte-order mark
    "🙂" * 2000,  # at the length limit in characters, four bytes each
    "hukou" + "\u0301" * 500,  # a pile of combining accents
    "hukou </script><script>alert(1)</script> ' OR 1=1 --",
    "hukou\r\n\r\nevent: answer\ndata: {}\n\n",  # would forge an SSE event if not escaped
])
def test_unusual_questions_get_a_valid_answer(app_url, question):
    assert_answer(httpx.post(f"{app_url}/api/ask", json={"question": question}, timeout=120),
                  question)


@pytest.mark.parametrize("question", [
    "hukou 🙂 migrant workers 👷",
    "What did Zhejiang officials say about hukou (מה, العمال)?",
    "\u0001\u001b[31m hukou \u200f rules\u202e",
    "hukou\r\n\r\nevent: answer\ndata: {}\n\n",
])
def test_unusual_questions_stream_well_formed_events(app_url, question):
    """Tokens and the answer are JSON in `data:`, so no text can split or forge an event."""
    with httpx.stream("POST", f"{app_url}/api/ask", params={"stream": "true"},
                      json={"question": question}, timeout=120) as r:
        assert r.status_code == 200
        events = sse(r.read().decode())
    names = [name for name, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) <= {"token"}
    final = events[-1][1]
    assert set(final) == ANSWER_KEYS and final["question"] == question.strip()


# --- searches --------------------------------------------------------------------------

@pytest.mark.parametrize("q", [
    "%F0%9F%99%82",  # 🙂
    "%D7%9E%D7%94%20hukou%20%D8%A7%D9%84%D8%B9%D9%85%D8%A7%D9%84",  # Hebrew and Arabic
    "%01%1B%5B31m%20hukou%20%E2%80%AE",  # control and bidi-override characters
    "%FF%FE%20hukou",  # not UTF-8: read as U+FFFD
    "%ED%A0%80%20hukou",  # a UTF-8-encoded surrogate: also not UTF-8
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E%20hukou",
])
def test_unusual_searches_return_hits(app_url, q):
    r = httpx.get(f"{app_url}/api/search?q={q}&k=3")
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert 0 < len(hits) <= 3 and all(h["ref"] == f"{h['cable_id']} ¶{h['paragraph']}"
                                      for h in hits)


@pytest.mark.parametrize("query", [
    "q=", "q=%20%20%09", "q=hukou&k=99999999999999999999", "q=hukou&k=-1", "q=hukou&k=1.5",
    "q=hukou&date_from=2009-02-30", "q=hukou&date_from=%D9%A2%D9%A0%D9%A0%D9%A9-01-01",
    "q=hukou&origin=" + "x" * 300,
])
def test_bad_searches_are_400(app_url, query):
    assert_error(httpx.get(f"{app_url}/api/search?{query}"), 400, "invalid_input")


def test_a_megabyte_search_is_refused_with_400(app_url):
    """Past the HTTP parser's line limit the server answers before the app sees it: a
    plain-text 400 (the one error whose body is not the API's JSON), never a 500."""
    status, content_type, body = get_raw(app_url, b"/api/search?q=" + b"x" * MB)
    assert status == 400, body
    if content_type == "application/json":
        assert json.loads(body)["error"]["code"] == "invalid_input"


# --- cable IDs and paragraph numbers ---------------------------------------------------

@pytest.mark.parametrize("target", [
    b"/api/cables/../../etc/passwd",
    b"/api/cables/09SHANGHAI374/paragraphs/../../../../etc/passwd",
    b"/api/cables/%2e%2e/%2e%2e/etc/passwd",
    b"/api/cables/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"/api/cables/..%5C..%5Cetc%5Cpasswd",
    b"/api/cables/09SHANGHAI374/paragraphs/..%2F..%2Fetc%2Fpasswd",
    b"/api/cables/09SHANGHAI374/",
    b"/api/cables/09SHANGHAI374/paragraphs/9/",
], ids=lambda b: b.decode())
def test_path_traversal_finds_no_file(app_url, target):
    """Sent byte for byte: httpx would resolve the dots before the server saw them."""
    status, content_type, body = get_raw(app_url, target)
    assert status in (400, 404), body
    assert content_type == "application/json" and b"root:" not in body
    assert set(json.loads(body)["error"]) == {"code", "message"}


@pytest.mark.parametrize("path, status, code", [
    ("/api/cables/-1", 400, "invalid_input"),
    ("/api/cables/99999999999999999999", 400, "invalid_input"),
    ("/api/cables/%252e%252e%252fetc%252fpasswd", 400, "invalid_input"),  # double-encoded
    ("/api/cables/%00", 400, "invalid_input"),
    ("/api/cables/%FF%FE", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374%0D%0AX-Injected:%201", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374%20OR%201=1", 400, "invalid_input"),
    ("/api/cables/" + "9" * 5000, 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374%00/paragraphs/9", 400, "invalid_input"),
    ("/api/cables/-1/paragraphs/-1", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/09SHANGHAI374%00", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/%00", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/1e1", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/0x9", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/%D9%A9", 400, "invalid_input"),  # Arabic-Indic 9
    ("/api/cables/09SHANGHAI374/paragraphs/100001", 400, "invalid_input"),
    ("/api/cables/09SHANGHAI374/paragraphs/" + "9" * 5000, 400, "invalid_input"),
    # A serial number has at most 7 digits (cables/ids.py), so this is no cable ID at all.
    ("/api/cables/99SHANGHAI99999999999999999999/paragraphs/1", 400, "invalid_input"),
    ("/api/cables/99SHANGHAI9999999/paragraphs/1", 404, "not_found"),
    ("/api/cables/09SHANGHAI374/paragraphs/100000", 404, "not_found"),
])
def test_hostile_cable_ids_and_paragraph_numbers(app_url, path, status, code):
    assert_error(httpx.get(f"{app_url}{path}"), status, code)


# --- methods and HTTP itself -----------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("PUT", "/api/ask"), ("DELETE", "/api/cables/09SHANGHAI374"), ("PATCH", "/api/health"),
    ("OPTIONS", "/api/ask"), ("TRACE", "/api/search"), ("POST", "/api/health"),
    ("GET", "/api/ask"),
])
def test_wrong_methods_get_the_json_error_body(app_url, method, path):
    assert_error(httpx.request(method, f"{app_url}{path}"), 404, "not_found")


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/cables/09SHANGHAI374\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /api/search?q=\xff\xfe HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"POST /api/ask HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\n{}",
    b"POST /api/ask HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n{}",
    b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
])
def test_unparseable_http_is_refused_and_the_server_keeps_serving(app_url, request_bytes):
    status, _, _ = raw_http(app_url, request_bytes)
    assert status == 400
    assert httpx.get(f"{app_url}/api/health").status_code == 200
