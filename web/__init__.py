"""Pilcrow's web edge: one FastAPI app with the HTTP API under /api and the chat UI at /.

    >>> app = create_app(Settings.from_env(index_dir="var/index", generator="extractive"))  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=7860)   # doctest: +SKIP

(the second line is what `python app.py` does; it serves until stopped, so it is not run
as a test, and the first needs a built index).
"""
from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from cables.errors import IndexMismatchError, IndexNotFoundError
from qa import Assistant, Settings
from web.api import BodyLimit, create_api, install_error_handlers
from web.collections import IndexJobs
from web.ui import CSS, JS, build_ui

__all__ = ["create_app"]

# System fonts: the default theme fetches Google Fonts, which an offline newsroom lacks.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "monospace"])


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """Serve `assistant` (or the index `settings` names); `settings.api_token` guards /api
    when set.

    An index that cannot be opened does not stop the server: the API answers 503 with the
    reason (and how to rebuild), and the chat page shows it. Cables added from the UI or
    `POST /api/collections/jobs` are indexed into the same folder in the background; when
    the build is published the server opens the new index (a question already running
    finishes on the old one).
    """
    served: dict = {"assistant": assistant, "problem": None}

    def reopen() -> None:
        try:
            served["assistant"] = Assistant(
                served["assistant"].settings if served["assistant"] else settings)
        except (IndexNotFoundError, IndexMismatchError) as exc:
            served["problem"] = exc

    if assistant is None:
        reopen()

    def current() -> Assistant:
        if served["assistant"] is None:
            raise served["problem"]
        return served["assistant"]

    index_dir = assistant.settings.index_dir if assistant else settings.index_dir
    jobs = IndexJobs(index_dir, on_published=reopen)

    app = FastAPI(title="Pilcrow", version="1.0",
                  description="Ask questions of US diplomatic cables; every claim cites "
                              "a paragraph, e.g. `09SHANGHAI374 ¶9`.")
    install_error_handlers(app)
    token = settings.api_token.get_secret_value() if settings.api_token else None
    app.include_router(create_api(current, token, settings.generator, jobs))
    app.add_middleware(BodyLimit)
    blocks = build_ui(current, settings.generator, settings.k, jobs)
    return gr.mount_gradio_app(app, blocks, path="/", css=CSS, js=JS, footer_links=["api"],
                               theme=THEME)
