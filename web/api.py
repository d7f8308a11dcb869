"""The HTTP API: the chat's Assistant as JSON under /api.

Every error is `{"error": {"code", "message"}}`: 400 for input the caller can fix (FastAPI's
422 included), 401 without the bearer token when one is set, 404 for an unknown cable or
paragraph, 413 for an oversized body, 503 while the index cannot be opened, a generator
backend fails or the model queue is full (with Retry-After). Anything
unexpected is logged and answered 500 with the same body, never a traceback.
"""
from __future__ import annotations

import hmac
import json
import logging
import threading
from dataclasses import asdict, dataclass
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field
from starlette.exceptions import HTTPException

from cables.errors import InvalidInputError, NotFoundError, PilcrowError
from cables.ids import citation
from cables.records import Cable, Filters, Paragraph
from cables.references import Reference
from qa import Answer, Hit, Turn
from qa.export import CitedCable, export_answer, export_references
from web.collections import IndexJobs, Upload

log = logging.getLogger("pilcrow.api")

MAX_BODY_BYTES = 64 * 1024  # a question, filters and a few options fit many times over
MAX_API_UPLOAD_BYTES = 128 * 1024 * 1024  # cable files sent to the API (held in memory)
UPLOAD_PATH = "/api/collections/jobs"
CSL_JSON = "application/vnd.citationstyles.csl+json"  # CSL-JSON's registered media type
MODEL_SLOTS = 4  # asks running or queued for the model; the model drafts one at a time

DATE_HELP = "A year (2009 = the whole year), a month (2009-05) or a day (2009-05-31); empty for no bound."


def plain_text(value: str) -> str:
    """Refuse what JSON or a URL can carry but no cable search means: NUL, lone surrogates.

    >>> plain_text("hukou 🙂")
    'hukou 🙂'
    >>> plain_text("\\ud800")
    Traceback (most recent call last):
    ValueError: text must be valid Unicode (no lone surrogates)
    """
    if "\0" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(plain_text)]
Name = Annotated[Text, Field(max_length=200)]
Names = Annotated[list[Name], Query(max_length=100)]
# Checked by the Assistant, whose message says what a date may be (a pattern would not).
Date = Annotated[Text, Query(max_length=10, examples=["2009"], description=DATE_HELP)]
CableId = Annotated[str, Path(min_length=1, max_length=64, examples=["09SHANGHAI374"])]
ParagraphNumber = Annotated[int, Path(ge=0, le=100_000, examples=[9])]
Format = Annotated[Literal["json", "markdown", "chicago", "csl-json", "bibtex"], Query(
    description="json: the Answer; markdown: the answer with footnoted references; chicago, "
                "csl-json, bibtex: its cited cables' references (not with stream=true)")]

_CODES = {400: "invalid_input", 401: "unauthorized", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 500: "internal", 503: "unavailable"}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_input"])
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    origins: list[Name] = Field(default=[], max_length=100)
    date_from: Text = Field("", max_length=10, examples=["2009"], description=DATE_HELP)
    date_to: Text = Field("", max_length=10, examples=["2009-12-31"], description=DATE_HELP)
    classifications: list[Name] = Field(default=[], max_length=100)
    tags: list[Name] = Field(default=[], max_length=100)
    references_to: list[Name] = Field(default=[], max_length=100, examples=[["07BEIJING1760"]],
                                      description="Only cables that cite one of these.")

    def to_filters(self) -> Filters:
        return Filters(origins=tuple(self.origins), date_from=self.date_from,
                       date_to=self.date_to, classifications=tuple(self.classifications),
                       tags=tuple(self.tags), references_to=tuple(self.references_to))


class CitedIn(BaseModel):
    # An earlier answer's citations may be passed back as they came (with quote and ref).
    model_config = ConfigDict(extra="ignore")
    cable_id: Name = Field(examples=["09SHANGHAI374"])
    paragraph: int = Field(ge=0, le=100_000, strict=True, examples=[9])


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: Text = Field(description="Checked as a question is (see /api/health).")
    citations: list[CitedIn] = Field(default=[], max_length=100)

    def to_turn(self) -> Turn:
        return Turn(self.question, tuple((c.cable_id, c.paragraph) for c in self.citations))


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "How did Zhejiang change its hukou rules for migrants?"}]})
    question: Text = Field(description="Rejected when empty or over-long (see /api/health).")
    filters: FiltersIn | None = None
    generator: Text | None = Field(None, max_length=100, description="See /api/health for names.")
    # strict: JSON `true` or "5" is not a count (lax mode would read them as 1 and 5).
    k: int | None = Field(None, ge=1, le=50, strict=True,
                          description="How many paragraphs to retrieve.")
    history: list[TurnIn] = Field(default=[], max_length=20, description=(
        "Earlier turns, oldest first: each question and its answer's citations (an earlier "
        "answer's JSON fits as it is). A follow-up is answered in their context; the "
        "answer's `standalone` shows the question as answered."))


class FacetOut(BaseModel):
    value: str
    cables: int


class SearchOut(BaseModel):
    query: str
    hits: list[Hit]
    facets: dict[str, list[FacetOut]] = Field(description="origin, year, classification, tag: "
                                               "how many of the hits' cables have each value")


class SkippedOut(BaseModel):
    file: str
    records: list[str] = Field(description="Each skipped record and why.")


class JobOut(BaseModel):
    id: str = Field(examples=["job-1"])
    status: Literal["queued", "running", "done", "failed"]
    stage: str = Field(description="counting, then embedding, while running")
    files: list[str]
    cables_read: int
    cables_total: int
    chunks_done: int
    chunks_per_s: float
    eta_s: float | None
    elapsed_s: float
    fraction: float = Field(ge=0, le=1)
    skipped: list[SkippedOut]
    summary: str = Field(description="The build report, when done.")
    error: str
    progress: str = Field(description="One line, as the UI shows it.")


class CollectionOut(BaseModel):
    cables: int
    paragraphs: int
    chunks: int
    date_from: str
    date_to: str
    origins: list[str]
    origin_counts: dict[str, int]
    classifications: list[str]
    tags: list[str]


@dataclass(frozen=True)
class CableParagraph(Paragraph):
    """A `Paragraph` with the cable it belongs to: what /api/cables/{id}/paragraphs/{n} sends."""

    cable_id: str = ""

    @computed_field(examples=["09SHANGHAI374 ¶9"])
    @property
    def ref(self) -> str:
        return citation(self.cable_id, self.number)


@dataclass(frozen=True)
class CitedReference(Reference):
    """A `Reference` with whether the cable it cites is in this index."""

    indexed: bool = False


@dataclass(frozen=True)
class CableWithReferences(Cable):
    """A `Cable` whose references are data, with the indexed cables that cite it: what
    /api/cables/{id} sends."""

    references: tuple[CitedReference, ...]
    referenced_by: tuple[str, ...] = ()


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])
    index: str = Field(description="The index folder.")
    manifest: dict[str, Any] = Field(description="The index's manifest.json: format, model, "
                                     "counts, corpus hash, generation.")
    embedding_model: str
    generator: str = Field(description="The default generator.")
    generator_model: str
    model_states: dict[str, str] = Field(
        description="generator -> its local model: loading | ready | not loaded | not used | "
        "failed: why (models load in the background at server start)",
        examples=[{"extractive": "not used", "transformers": "loading"}])
    generators: list[str] = Field(description="Generators that can run here.")
    unavailable_generators: dict[str, str] = Field(description="name -> what to install")
    settings_hash: str


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": _CODES.get(status, "error"), "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _status_of(exc: PilcrowError) -> int:
    if isinstance(exc, InvalidInputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    # The index, the server's set-up (ConfigError: a missing model, an endpoint not set) or
    # a generator backend failed: the request was fine and the message names the fix.
    return 503


def _validation_message(exc: RequestValidationError) -> str:
    """'body.k: Input should be less than or equal to 50', without echoing the input."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Translate every error at this edge into the one JSON error body."""

    async def pilcrow(request: Request, exc: PilcrowError) -> JSONResponse:
        status = _status_of(exc)
        if status == 503:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return error_response(status, str(exc))

    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc))

    async def http(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    async def anything(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return error_response(500, "internal error; see the server log")

    app.add_exception_handler(PilcrowError, pilcrow)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, anything)


class BodyLimit:
    """ASGI middleware: refuse /api request bodies over `limit` bytes with 413.

    Not Starlette's own `max_body_size` (APIRouter or FastAPI): for a declared
    Content-Length over the limit it answers a plain-text "Content Too Large" itself,
    before any exception handler, so the API's JSON error body would be lost.

    The body is read here in full (it is small by then) and replayed, so a chunked upload
    without Content-Length is caught too, before FastAPI parses anything. Cable uploads
    (`POST /api/collections/jobs`) may be up to `upload_limit`.
    """

    def __init__(self, app, limit: int = MAX_BODY_BYTES, upload_limit: int = MAX_API_UPLOAD_BYTES):
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return await self.app(scope, receive, send)
        limit = self.upload_limit if scope["path"] == UPLOAD_PATH else self.limit
        too_large = error_response(413, f"request body over {limit} bytes")
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            return await too_large(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await too_large(scope, receive, send)
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


def _token_check(token: str | None) -> Callable:
    bearer = HTTPBearer(auto_error=False, description="Set when the server has PILCROW_API_TOKEN.")

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        if token is None:
            return
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


def _exported(text: str, fmt: str) -> Response:
    """An export as the media type its readers expect (CSL-JSON is JSON)."""
    media = CSL_JSON if fmt == "csl-json" else "text/plain; charset=utf-8"
    return Response(text, media_type=media)


def _sse(event: str, data: object) -> str:
    """One server-sent event; data is JSON so a token with newlines stays one event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _events(items: Iterable, on_close: Callable[[], None]) -> Iterator[str]:
    try:
        for item in items:
            yield _sse("token", item) if isinstance(item, str) else _sse("answer", item.to_dict())
    except PilcrowError as exc:
        status = _status_of(exc)
        yield _sse("error", {"error": {"code": _CODES[status], "message": str(exc)}})
    except Exception:
        log.exception("unexpected error while streaming an answer")
        yield _sse("error", {"error": {"code": "internal", "message": "internal error"}})
    finally:
        on_close()


def _nothing() -> None:
    """What an ask that needs no model slot gives back."""


_ERRORS = {s: {"model": ErrorOut} for s in (400, 401, 404, 413, 500, 503)}



class ModelGate:
    """Bounds the requests that run or wait for a model generator; the rest get 503.

    The generator runs one draft at a time, so without a bound every extra client would
    park a worker thread (and its request) until the server ran out of both.
    """

    def __init__(self, slots: int = MODEL_SLOTS, retry_after_s: int = 10):
        self._slots, self.retry_after_s = threading.BoundedSemaphore(slots), retry_after_s

    def enter(self) -> Callable[[], None]:
        """Take a slot or raise 503; returns what gives the slot back."""
        if not self._slots.acquire(blocking=False):
            raise HTTPException(503, "the answer model is busy; retry shortly",
                                headers={"Retry-After": str(self.retry_after_s)})
        return self._slots.release


def create_api(assistant: Callable, token: str | None, default_generator: str,
               jobs: IndexJobs | None = None) -> APIRouter:
    """The /api routes over `assistant()`, which returns the open Assistant or raises why not;
    with `jobs`, /api/collections adds cables in the background.

    Asks that need a model (any generator but extractive) pass a `ModelGate`.
    """
    api = APIRouter(prefix="/api", dependencies=[Depends(_token_check(token))], responses=_ERRORS)
    gate = ModelGate()

    @api.post("/ask", response_model=Answer, summary="Answer a question with citations",
              responses={200: {"content": {"text/event-stream": {}, "text/plain": {}, CSL_JSON: {}},
                               "description": "The Answer; with stream=true, server-sent events: "
                               "`token` (a JSON string), then `answer` (the Answer JSON), "
                               "or `error`."}})
    def ask(body: AskIn, stream: bool = Query(False, description="Stream server-sent events."),
            format: Format = "json"):
        if stream and format != "json":
            raise InvalidInputError(f"format={format} is not streamed; ask without stream=true")
        filters = body.filters.to_filters() if body.filters else None
        needs_model = (body.generator or default_generator) != "extractive"
        release = gate.enter() if needs_model else _nothing
        options = {"generator": body.generator, "k": body.k,
                   "history": [t.to_turn() for t in body.history]}
        if not stream:
            try:
                answer = assistant().ask(body.question, filters, **options)
            finally:
                release()
            return answer if format == "json" else _exported(export_answer(answer, format), format)
        try:
            items = assistant().stream(body.question, filters, **options)
            # Pulled here so bad input is a plain 400, not an error event after a 200.
            first = next(items)
        except BaseException:
            release()
            raise
        events = _events(chain([first], items), release)
        # Started here, so its `finally` gives the slot back even if the client leaves
        # before the first byte (closing an unstarted generator would skip it).
        head = next(events)
        return StreamingResponse(chain([head], events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api.get("/search", response_model=SearchOut, summary="Retrieve paragraphs, no generation")
    def search(q: Annotated[Text, Query(max_length=4000)],
               k: Annotated[int, Query(ge=1, le=100)] = 10,
               origin: Names = [], date_from: Date = "", date_to: Date = "",
               classification: Names = [], tag: Names = [], references_to: Names = []):
        filters = Filters(origins=tuple(origin), date_from=date_from, date_to=date_to,
                          classifications=tuple(classification), tags=tuple(tag),
                          references_to=tuple(references_to))
        current = assistant()  # one index for the hits and their facets, even mid-swap
        hits = current.search(q, k=k, filters=filters)
        facets = {name: [FacetOut(value=v, cables=n) for v, n in counts]
                  for name, counts in current.facets(hits).items()}
        return SearchOut(query=q, hits=hits, facets=facets)

    @api.get("/cables/{cable_id}", response_model=CableWithReferences,
             summary="A whole cable, its references and the cables citing it")
    def cable(cable_id: CableId):
        found = assistant().cable(cable_id)
        cited = tuple(CitedReference(**asdict(r), indexed=indexed)
                      for r, indexed in assistant().references(found.id))
        return CableWithReferences(**{**vars(found), "references": cited,
                                      "referenced_by": tuple(assistant().referenced_by(found.id))})

    @api.get("/cables/{cable_id}/cite", response_class=Response,
             summary="A cable's full reference: Chicago note, CSL-JSON or BibTeX",
             responses={200: {"content": {"text/plain": {}, CSL_JSON: {}}}})
    def cite(cable_id: CableId, paragraph: Annotated[int | None, Query(ge=0, le=100_000)] = None,
             format: Annotated[Literal["chicago", "csl-json", "bibtex"], Query()] = "chicago"):
        c = assistant().cable(cable_id)
        if paragraph is not None:
            assistant().paragraph(c.id, paragraph)  # 404 when the cable has no such paragraph
        return _exported(export_references([(CitedCable.of(c), paragraph)], format), format)

    @api.get("/cables/{cable_id}/paragraphs/{n}", response_model=CableParagraph,
             summary="One paragraph, by the cable's own number")
    def paragraph(cable_id: CableId,
                  n: ParagraphNumber):
        p = assistant().paragraph(cable_id, n)
        c = assistant().cable(cable_id).id  # the canonical spelling of the ID
        return CableParagraph(**asdict(p), cable_id=c)

    if jobs is not None:
        @api.post(UPLOAD_PATH.removeprefix("/api"), response_model=JobOut, status_code=202,
                  summary="Upload cable files and index them in the background")
        def add_cables(files: Annotated[list[UploadFile], File(description=(
                "Cable files: .txt, .csv, .csv.gz, .html, .jsonl, or a .zip of them."))]):
            uploads = [Upload(f.filename or "upload", data=f.file.read()) for f in files]
            return jobs.state(jobs.start(uploads)).to_dict()

        @api.get("/collections/jobs/{job_id}", response_model=JobOut,
                 summary="An indexing job's progress: cables, chunks/s, ETA, skipped records")
        def job(job_id: Annotated[str, Path(max_length=64)]):
            return jobs.state(job_id).to_dict()

    @api.get("/collections", response_model=CollectionOut,
             summary="What the index holds: counts, date range, origins, classifications, tags")
    def collection():
        return assistant().collection()

    @api.get("/health", response_model=HealthOut, summary="Status, index manifest, model names")
    def health():
        return {"status": "ok", **assistant().health()}

    # Every standard method: one not listed here would fall through to the Gradio mount
    # at / and get its {"detail": ...} body instead of the API's error body.
    @api.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                            "OPTIONS", "TRACE"], include_in_schema=False)
    def unknown(rest: str, request: Request):
        raise HTTPException(404, f"no API endpoint {request.method} /api/{rest}")

    return api
