"""Shared fixtures. Models load from PyPI packages; the tests never touch the network."""
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# The fast tier (`make check`, under 90 s on 2 cores): parsing, metrics, RRF, citation
# logic, settings, HTTP on the sample index, and every package's doctests. Every other test
# module is marked `slow` (models, the whole corpus, fuzzing, subprocess kills, browsers):
# `make test` and CI run them too. A test in a fast module can still be marked slow itself.
FAST_MODULES = frozenset({
    "test_cables", "test_chunks", "test_cite", "test_cli", "test_eval_questions", "test_extractive",
    "test_generate", "test_header_vectors", "test_http", "test_http_hostile", "test_http_references",
    "test_ids", "test_metrics", "test_parse_property", "test_references", "test_rrf", "test_settings",
    "test_corpus_cables",
})


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.parent.name == "tests" and item.path.stem not in FAST_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def sample_index_dir() -> Path:
    """An index of the sample corpus (data/cables) in var/test-index, kept between sessions.

    Updated, not rebuilt, each session: `build_index` re-embeds only the cables whose parse
    changed (usually none: a few seconds instead of minutes) and rebuilds from scratch when
    the index format or the model changed. Tests only read it.
    """
    from embeddings.store import build_index

    root = Path(__file__).resolve().parent.parent
    index_dir = root / "var" / "test-index"
    build_index([root / "data" / "cables"], index_dir, prune=True, progress=False)
    return index_dir


@pytest.fixture(scope="module")
def hukou_hits():
    """¶9, ¶3 and ¶1 of 09SHANGHAI374 as retrieved for a question about hukou in Zhejiang."""
    from cables.reader import read_cables
    from qa.types import Hit

    cable = next(c for c in read_cables(Path(__file__).resolve().parent.parent / "data" / "cables")
                 if c.id == "09SHANGHAI374")
    return [Hit(cable.id, n, cable.paragraph(n).text, 0.03, cable.date, cable.origin, cable.subject,
                cable.classification, similarity=s) for n, s in ((9, 0.51), (3, 0.50), (1, 0.43))]


# --- the running app: tests/test_http.py, test_ui_browser.py, test_gradio_client.py ---

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serving(app):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def serve():
    """`with serve(app) as url:` serves a FastAPI app on a free loopback port in a thread."""
    return _serving


@pytest.fixture(scope="session")
def app_url(sample_index_dir, tmp_path_factory):
    """`python app.py` itself, on a free loopback port, over the sample index (extractive)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILCROW_")}
    root = Path(__file__).resolve().parent.parent
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--index",
                                 str(sample_index_dir), "--generator", "extractive"],
                                cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        assert proc.poll() is None, f"app.py exited {proc.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"app.py did not answer:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(30)
