"""One frozen `Settings` object, the only reader of Pilcrow's environment.

Every field has a `PILCROW_*` variable (the field name in capitals; `index_dir` is
`PILCROW_INDEX`); values are validated, so `PILCROW_K=0` fails at start-up with the variable
named. `Settings.from_env(**overrides)` lets explicit values win and ignores `None`
overrides, so a CLI can pass its unset flags:

>>> Settings.from_env(k=5, generator=None).k
5

The README's configuration table is generated from this class: `python -m qa settings
--write README.md` (a test fails when they differ).
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr, ValidationError

from cables.errors import InvalidInputError
from embeddings.settings import IndexSettings, describe

MAX_K = 50  # paragraphs one answer may list; more drown the generator and the reader


def _none_if_empty(value: object) -> object:
    return None if value == "" else value


# An empty variable means "no token", as it did before settings were validated.
Secret = Annotated[SecretStr | None, BeforeValidator(_none_if_empty)]
_FRACTION = {"ge": 0.0, "le": 1.0}


class Settings(IndexSettings):
    """Everything that shapes an answer, plus the secrets and caches that do not."""

    generator: str = Field(
        "extractive", min_length=1, description="`extractive` \\| `transformers` \\| "
        "`llama-cpp` \\| `openai`; extractive by default: on the test split it beat the local "
        "model on facts and matched its citation precision (README, Evaluation)", json_schema_extra={"flag": "--generator"})
    model: str = Field(
        "", description="generator model: a transformers folder or a `.gguf` file; empty = "
        "the bundled SmolLM2 GGUF", json_schema_extra={"flag": "--model"})
    grounding: str = Field(
        "choose", pattern=r"^(choose|copy|free)$", description="how the transformers generator "
        "drafts: `choose` = the model ranks the sources' best sentences and the likeliest are "
        "quoted; `copy` = constrained decoding that can only copy them; `free` = it writes and "
        "the verifier drops what the sources do not back")
    threads: int = Field(
        1, ge=1, le=256, description="torch threads in the process; 1 because on 2 shared "
        "cores 2 threads fell to 0.5 tokens/s where 1 gave 4")
    k: int = Field(8, ge=1, le=MAX_K, description="paragraphs given to the generator and "
                   "listed in the answer", json_schema_extra={"flag": "--k"})
    candidates: int = Field(50, ge=1, le=10_000, description="candidates from each retriever "
                            "before fusion")
    # RRF scores rank r as 1 / (rrf_k + r); below 1 the first place of either list would
    # outweigh every agreement between the two, which is what fusion is for.
    rrf_k: int = Field(60, ge=1, le=10_000, description="reciprocal rank fusion constant")
    abstain_threshold: float | None = Field(
        None, **_FRACTION, description="abstain when the judge's probability that the "
        "retrieved paragraphs answer the question is below this; unset = the threshold "
        "fitted with the judge on the dev questions (`qa/judge.json`)")
    support_threshold: float = Field(
        0.55, **_FRACTION, description="drop a draft sentence whose support score is below "
        "this; 0.55 drops most of SmolLM2's distortions and keeps close paraphrases")
    max_new_tokens: int = Field(200, ge=1, le=4096, description="longest draft a model may "
                                "write, in tokens")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy, deterministic")
    openai_base_url: str = Field(
        "", pattern=r"^(https?://\S+)?$", description="OpenAI-compatible endpoint (llama.cpp "
        "server, Ollama, vLLM), e.g. `http://127.0.0.1:8080/v1`")
    openai_model: str = Field("", description="model name sent to it")
    openai_api_key: Secret = Field(None, description="bearer token sent to it, when set")
    max_question_chars: int = Field(2000, ge=1, le=1_000_000, description="longer questions "
                                    "are refused (400)")
    api_token: Secret = Field(None, description="bearer token required on `/api/*` when set")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then `PILCROW_*` variables, then the non-None `overrides`; a bad value
        is a `ConfigError` naming its variable."""
        return cls.load(**overrides)

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (`None` values are ignored), validated; a bad
        value is the caller's `InvalidInputError`. The environment is not read again."""
        values = {**self.model_dump(), **{n: v for n, v in changes.items() if v is not None}}
        try:
            return type(self).model_validate(values)
        except ValidationError as e:
            raise InvalidInputError(describe(type(self), e, env=False)) from None

    def hash(self) -> str:
        """Short stable hash of everything that can change an answer (not caches or secrets).

        >>> Settings().hash() == Settings().hash() != Settings(k=3).hash()
        True
        """
        d = self.model_dump(exclude=UNHASHED)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


UNHASHED = {"model_cache", "threads", "api_token", "openai_api_key"}


def markdown_table(cls: type[IndexSettings] = Settings) -> str:
    """The README's configuration table, one row per setting.

    >>> markdown_table().splitlines()[2]
    '| `--index` | `PILCROW_INDEX` | `var/index` | index folder |'
    """
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for name, field in cls.model_fields.items():
        flag = (field.json_schema_extra or {}).get("flag", "")
        default = "" if field.default in ("", None) else f"`{field.default}`"
        rows.append(f"| {f'`{flag}`' if flag else ''} | `{cls.env_name(name)}` | {default} "
                    f"| {field.description} |")
    return "\n".join(rows)


BEGIN = "<!-- settings table: generated by `python -m qa settings --write README.md` -->"
END = "<!-- end of settings table -->"


def replace_table(text: str, table: str) -> str:
    """`text` with the part between the table's markers replaced by `table`."""
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise InvalidInputError(f"no settings table markers ({BEGIN} ... {END})")
    return pattern.sub(lambda _: f"{BEGIN}\n{table}\n{END}", text)
