"""The chat UI (Gradio Blocks): a conversation with streamed answers and citation chips,
a search tab with facets, a collection tab to add cables, and the cable reader beside them.

Follow-ups: the chat's own messages are the conversation (web.render.turns), so a question
is answered in the context of the earlier ones and shows the question as it was answered.

A chip is a link `#cite/09SHANGHAI374/9` inside a chat message. The page script (JS below)
catches its click, hands the ref to a hidden textbox and clicks a hidden button; the
button's event renders the whole cable on the right with the cited paragraph highlighted,
and the script scrolls that paragraph into view whenever the reader's content changes.
The reader's references and "cited by" cables are chips without a paragraph
(`#cite/07BEIJING1760/`): clicking one opens that cable the same way.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path

import gradio as gr

from cables.errors import PilcrowError
from cables.records import Filters
from qa import phrases
from web.collections import ACCEPTED, IndexJobs, JobState, Upload
from web.render import answer_html, cable_html, draft_html, dropped_html, search_html, turns

EXAMPLES = (
    "How did Zhejiang's new policy change hukou rules for migrant workers?",
    "How were Guangxi authorities and NGOs preparing for migrant workers after Chinese New Year?",
    "Why is trafficking in persons hard to talk about in South China?",
    "What do labor NGOs do for migrant workers?",
)

READER_EMPTY = ('<div class="preader-empty">Click a citation such as '
                '<span class="pcite">09SHANGHAI374 ¶9</span> to read the whole cable here.</div>')

CSS = """
.pcite { display:inline-block; padding:0 .45em; margin:0 .1em; border-radius:.8em;
  background:#e8eefc; color:#1d3f8f !important; border:1px solid #b9c8f0; font-size:.85em;
  font-weight:600; text-decoration:none !important; white-space:nowrap; cursor:pointer; }
.pcite:hover { background:#1d3f8f; color:#fff !important; }
.pref-out { font-size:.85em; color:#6b7280; margin:0 .3em; white-space:nowrap; }
.panswer .pbody, .pabstain .pbody { line-height:1.6; }
.pevidence, .pabstain ol { margin-top:.6em; }
.plabel { font-size:.8em; font-weight:700; letter-spacing:.04em; text-transform:uppercase;
  color:#6b7280; margin:.6em 0 .2em; }
.pev { margin:.35em 0; }
.pev .ptext { font-size:.9em; color:#374151; border-left:3px solid #d1d5db; padding-left:.6em;
  margin-top:.2em; }
.pev mark { background:#fff3b0; padding:0 .1em; }
.pmeta { font-size:.8em; color:#6b7280; }
.pfooter { font-size:.75em; color:#9ca3af; margin-top:.6em; }
.pabstain { border-left:4px solid #d97706; background:#fffbeb; padding:.5em .8em;
  border-radius:.3em; color:#1f2937; }
.pabstain .ptitle { font-weight:700; color:#b45309; }
.pdraft { color:#6b7280; font-style:italic; }
.perror { color:#b91c1c; }
.pcable-id { font-size:1.3em; font-weight:700; margin-bottom:.3em; }
.pheader { font-size:.85em; margin-bottom:.8em; border-collapse:collapse; width:auto;
  border:none !important; }
.pheader tr, .pheader th, .pheader td { border:none !important; background:none !important;
  padding:.1em .8em .1em 0 !important; text-align:left; vertical-align:top; font-size:1em; }
.pheader th { color:#6b7280; font-weight:600; }
.ppara { padding:.35em .5em; margin:.2em 0; border-radius:.3em; line-height:1.5; }
.ppara .pnum { font-weight:700; color:#6b7280; margin-right:.3em; }
.ppara.pcited { background:#fff3b0; border-left:4px solid #d97706; }
.preader-empty { color:#6b7280; padding:1em; }
.pstandalone { font-size:.8em; color:#6b7280; font-style:italic; margin-bottom:.4em; }
.pcopy { color:#1d3f8f !important; cursor:pointer; }
.pfacets { margin-bottom:.6em; }
.pfacet { font-size:.8em; margin:.15em 0; }
.pfname { font-weight:700; color:#6b7280; text-transform:uppercase; margin-right:.4em; }
.pfval { display:inline-block; background:#f3f4f6; border-radius:.6em; padding:0 .45em; margin:.1em; }
.pbar { height:.8em; background:#e5e7eb; border-radius:.4em; overflow:hidden; margin:.4em 0; }
.pbar > div { height:100%; background:#1d3f8f; }
.pskipped { font-size:.85em; color:#92400e; }
.pempty { color:#6b7280; padding:.5em; }
"""

# Runs once when the page loads (Gradio's `js=`): chip clicks and scrolling the reader.
JS = """
() => {
  document.addEventListener("click", (event) => {
    const copy = event.target.closest && event.target.closest("a.pcopy");
    if (copy) {
      event.preventDefault();
      event.stopPropagation();
      const b64 = copy.getAttribute("href").slice("#copy/".length);
      const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      window.pilcrowCopied = text;
      const fallback = () => {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      };
      (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject())
        .catch(fallback).finally(() => { copy.textContent = "Copied"; });
      return;
    }
    const chip = event.target.closest && event.target.closest("a[href^='#cite/']");
    if (!chip) return;
    event.preventDefault();
    event.stopPropagation();
    window.pilcrowCite = chip.getAttribute("href").slice("#cite/".length);
    const button = document.getElementById("pilcrow-cite-btn");
    (button.tagName === "BUTTON" ? button : button.querySelector("button")).click();
  }, true);
  const scrollToCited = () => {
    const cited = document.getElementById("pcited");
    if (cited && cited.dataset.shown !== "1") {
      cited.dataset.shown = "1";
      cited.scrollIntoView({block: "center", behavior: "smooth"});
    }
  };
  // The newest answer stays in view, even after a chip click scrolled the page elsewhere.
  let answers = 0;
  const keepNewestInView = () => {
    const all = document.querySelectorAll("#pilcrow-chat .panswer, #pilcrow-chat .pabstain, #pilcrow-chat .perror");
    if (all.length > answers) {
      answers = all.length;
      all[all.length - 1].scrollIntoView({block: "start"});
    }
  };
  new MutationObserver(() => { scrollToCited(); keepNewestInView(); })
    .observe(document.body, {childList: true, subtree: true});
}
"""


def about_markdown(info: dict) -> str:
    # collection() counts the cables of each origin, most first.
    listed = ", ".join(f"{o} ({n})" for o, n in info["origin_counts"].items())
    span = f"{info.get('date_from', '')[:10]} to {info.get('date_to', '')[:10]}"
    return (f"**{info.get('cables', 0):,} cables**, {info.get('paragraphs', 0):,} paragraphs, "
            f"{info.get('chunks', 0):,} indexed chunks.\n\n**Dates:** {span}\n\n"
            f"**Origins:** {escape(listed)}")


def _error_html(exc: Exception) -> str:
    return f'<div class="perror">{escape(str(exc))}</div>'


def _answer_messages(answer) -> list[dict]:
    messages = [{"role": "assistant", "content": answer_html(answer)}]
    if not answer.abstained:
        messages.append({"role": "assistant", "content": dropped_html(answer),
                         "metadata": {"title": f"What the verifier dropped ({len(answer.dropped)})",
                                      "status": "done"}})
    return messages


def _example_text(evt: gr.SelectData) -> str:
    return evt.value["text"]


GENERATOR_LABELS = {
    "extractive": "extractive: quotes the best sentences (most accurate, fastest)",
    "transformers": "transformers: the local model picks the sentences to quote "
                    "(slower; fewer facts than extractive in our tests)",
    "llama-cpp": "llama-cpp: the local GGUF model writes; the checker keeps what the cables back",
    "openai": "openai: your OpenAI-compatible server writes; the checker keeps what the cables back",
}


def generator_label(name: str) -> str:
    """What the generator menu says about `name`: how it answers, in a few honest words."""
    return GENERATOR_LABELS.get(name, name)


def progress_html(state: JobState) -> str:
    """The indexing job's progress bar and line, then each file's skipped records."""
    bar = f'<div class="pbar"><div style="width:{100 * state.fraction:.1f}%"></div></div>'
    skipped = "".join(
        f"<li><b>{escape(f.name)}</b>: {len(f.skipped)} skipped<ul>"
        + "".join(f"<li>{escape(r)}</li>" for r in f.skipped[:20]) + "</ul></li>"
        for f in state.skipped)
    files = ", ".join(escape(f) for f in state.files[:10]) + (" …" if len(state.files) > 10 else "")
    return (f'<div class="pprogress" data-status="{state.status}">{bar}'
            f'<div class="pline">{escape(state.line())}</div>'
            f'<div class="pmeta">{len(state.files)} files: {files}</div>'
            + (f'<ul class="pskipped">{skipped}</ul>' if skipped else "") + "</div>")


def build_ui(assistant: Callable, default_generator: str, default_k: int,
             jobs: IndexJobs | None = None) -> gr.Blocks:
    """The page over `assistant()`, which returns the open Assistant or raises why not;
    `jobs` adds the Collection tab's upload and indexing."""
    try:
        info, generators = assistant().collection(), assistant().generators()
        problem = ""
    except PilcrowError as exc:
        info, generators, problem = {}, [default_generator], str(exc)

    def filters_of(origins, date_from, date_to, classifications, tags) -> Filters:
        return Filters(origins=tuple(origins or ()), date_from=(date_from or "").strip(),
                       date_to=(date_to or "").strip(),
                       classifications=tuple(classifications or ()), tags=tuple(tags or ()))

    def respond(message: str, history: list, generator: str, k: float, origins: list,
                date_from: str, date_to: str, classifications: list, tags: list) -> Iterator:
        earlier = turns(history)
        history = list(history or []) + [{"role": "user", "content": escape(message or "")}]
        searching = {"role": "assistant", "content": draft_html("Searching the cables…")}
        yield history + [searching], ""
        filters = filters_of(origins, date_from, date_to, classifications, tags)
        draft = ""
        try:
            for item in assistant().stream(message or "", filters, generator=generator, k=int(k),
                                           history=earlier):
                if isinstance(item, str):
                    draft += item
                    yield history + [{"role": "assistant", "content": draft_html(draft)}], ""
                else:
                    yield history + _answer_messages(item), ""
        except PilcrowError as exc:
            yield history + [{"role": "assistant", "content": _error_html(exc)}], ""

    def show_cable(ref: str) -> str:
        """The reader for `09SHANGHAI374/9` (a citation) or `07BEIJING1760/` (a reference)."""
        cable_id, _, n = (ref or "").partition("/")
        try:
            cable = assistant().cable(cable_id)
            return cable_html(cable, int(n) if n.isdigit() else None,
                              assistant().references(cable.id), assistant().referenced_by(cable.id))
        except PilcrowError as exc:
            return _error_html(exc)

    def model_status_text(generator: str) -> tuple[str, gr.Timer]:
        """The chosen generator's model state; polling stops once nothing is loading."""
        try:
            states = assistant().model_states()
        except PilcrowError:
            states = {}
        state = states.get(generator, "not used")
        text = "" if state == "not used" else f"Local model: **{state}**"
        return text, gr.Timer(active=any(s in ("loading", "not loaded") for s in states.values()))

    def search(query: str, k: float, origins: list, date_from: str, date_to: str,
               classifications: list, tags: list) -> str:
        try:
            filters = filters_of(origins, date_from, date_to, classifications, tags)
            current = assistant()  # one index for the hits and their facets, even mid-swap
            hits = current.search(query or "", k=int(k), filters=filters)
            return search_html(query, hits, current.facets(hits), phrases(query or ""))
        except PilcrowError as exc:
            return _error_html(exc)

    def start_indexing(files: list | None):
        try:
            if not files:
                raise PilcrowError(f"choose cable files ({', '.join(ACCEPTED)}) first")
            job_id = jobs.start([Upload(Path(f).name, path=f) for f in files])
        except PilcrowError as exc:
            return "", _error_html(exc), gr.Timer(active=False)
        return job_id, progress_html(jobs.state(job_id)), gr.Timer(active=True)

    def poll(job_id: str):
        if not job_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        state = jobs.state(job_id)
        running = state.status in ("queued", "running")
        about = gr.skip()
        if not running:
            try:
                about = about_markdown(assistant().collection())
            except PilcrowError as exc:
                about = f"Index not ready: {exc}"
        return progress_html(state), about, about, gr.Timer(active=running)

    with gr.Blocks(title="Pilcrow: ask the cables", fill_width=True,
                   analytics_enabled=False) as blocks:
        with gr.Sidebar(open=True, width=300):
            gr.Markdown("### Answering")
            generator = gr.Dropdown([(generator_label(g), g) for g in generators],
                                    value=default_generator, label="Generator",
                                    info="every answer is checked against the cables it cites")
            model_status = gr.Markdown(elem_id="pilcrow-model-state")
            model_poll = gr.Timer(2.0)
            k = gr.Slider(1, 20, value=default_k, step=1, label="Number of sources")
            gr.Markdown("### Filters")
            origins = gr.Dropdown(info.get("origins", []), multiselect=True,
                                  label="Origin")
            with gr.Row():
                date_from = gr.Textbox("", label="From", placeholder=info.get("date_from", "")[:10]
                                       or "YYYY-MM-DD", max_lines=1, info="2009 = the whole year")
                date_to = gr.Textbox("", label="To", placeholder=info.get("date_to", "")[:10]
                                     or "YYYY-MM-DD", max_lines=1)
            classifications = gr.Dropdown(info.get("classifications", []),
                                          multiselect=True, label="Classification")
            tags = gr.Dropdown(info.get("tags", []), multiselect=True, label="Tags")
            with gr.Accordion("About this collection", open=True):
                about = gr.Markdown(about_markdown(info) if info else f"Index not ready: {problem}",
                                    elem_id="pilcrow-about")
        gr.Markdown("## ¶ Pilcrow\nAsk the cables. Every sentence of an answer cites the "
                    "paragraph it comes from; click a citation to read the cable. Ask a "
                    "follow-up as you would a colleague: it is answered in context.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab("Ask", id="ask"):
                        chatbot = gr.Chatbot(
                            elem_id="pilcrow-chat", height=640, show_label=False,
                            feedback_options=None, buttons=["copy"], autoscroll=True,
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder=("**Ask a question about the cables.**<br>"
                                         "Answers cite paragraphs like `09SHANGHAI374 ¶9`. Try one:"))
                        with gr.Row():
                            question = gr.Textbox(placeholder="Ask about the cables…",
                                                  show_label=False, scale=8, max_lines=4,
                                                  elem_id="pilcrow-question", autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="pilcrow-ask")
                            clear = gr.Button("New chat", scale=1, min_width=80, elem_id="pilcrow-clear")
                    with gr.Tab("Search", id="search"):
                        with gr.Row():
                            query = gr.Textbox(placeholder='Words, or an exact phrase: "84 percent"',
                                               show_label=False, scale=8, max_lines=1,
                                               elem_id="pilcrow-query")
                            find = gr.Button("Search", variant="primary", scale=1,
                                             elem_id="pilcrow-search")
                        hits_k = gr.Slider(5, 100, value=20, step=5, label="Paragraphs")
                        results = gr.HTML('<div class="pempty">Search the paragraphs of every '
                                          "cable; the sidebar's filters apply.</div>",
                                          elem_id="pilcrow-results")
                    if jobs is not None:
                        with gr.Tab("Collection", id="collection"):
                            gr.Markdown("Add cables: `.txt`, `.csv` or `.csv.gz` (cables.csv), "
                                        "`.html` (WikiLeaks pages), `.jsonl`, or a `.zip` of "
                                        "them. They are indexed in the background; questions "
                                        "are answered from the current index until the new one "
                                        "is ready.")
                            uploads = gr.File(file_count="multiple", label="Cable files",
                                              file_types=[".txt", ".csv", ".gz", ".html", ".htm",
                                                          ".jsonl", ".zip"],
                                              elem_id="pilcrow-upload")
                            index_button = gr.Button("Index these files", variant="primary",
                                                     elem_id="pilcrow-index")
                            progress = gr.HTML("", elem_id="pilcrow-progress")
                            gr.Markdown("#### What is indexed")
                            indexed = gr.Markdown(about_markdown(info) if info else
                                                  f"Index not ready: {problem}",
                                                  elem_id="pilcrow-indexed")
                            job = gr.Textbox(visible="hidden", elem_id="pilcrow-job")
                            timer = gr.Timer(1.0, active=False)
            with gr.Column(scale=2):
                reader = gr.HTML(READER_EMPTY, elem_id="pilcrow-cable", js_on_load=None,
                                 max_height=700, container=True, padding=True)
        cite_ref = gr.Textbox(visible="hidden", elem_id="pilcrow-cite")
        cite_button = gr.Button("open citation", visible="hidden", elem_id="pilcrow-cite-btn")

        filter_inputs = [origins, date_from, date_to, classifications, tags]
        ask_inputs = [question, chatbot, generator, k, *filter_inputs]
        # The three ways to ask share one queue slot pair: the model drafts one at a time.
        queued = {"concurrency_id": "ask", "concurrency_limit": 2}
        question.submit(respond, ask_inputs, [chatbot, question], api_name="chat", **queued)
        send.click(respond, ask_inputs, [chatbot, question], api_visibility="private", **queued)
        chatbot.example_select(_example_text, None, question, api_visibility="private") \
            .then(respond, ask_inputs, [chatbot, question], api_visibility="private", **queued)
        clear.click(lambda: [], None, chatbot, api_visibility="private")
        for event in (model_poll.tick, generator.change, blocks.load):
            event(model_status_text, generator, [model_status, model_poll],
                  api_visibility="private", show_progress="hidden")
        search_inputs = [query, hits_k, *filter_inputs]
        query.submit(search, search_inputs, results, api_name="search")
        find.click(search, search_inputs, results, api_visibility="private")
        cite_button.click(show_cable, cite_ref, reader, js="(ref) => [window.pilcrowCite]",
                          api_name="cable")
        if jobs is not None:
            index_button.click(start_indexing, uploads, [job, progress, timer], api_name="index")
            polled = [progress, about, indexed, timer]
            timer.tick(poll, job, polled, api_visibility="private")
            job.change(poll, job, polled, api_name="progress")
    return blocks
