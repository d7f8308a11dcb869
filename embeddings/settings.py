"""The index's own settings, read from `PILCROW_*` environment variables.

They live here, below `qa`, because building and opening an index needs them too;
`qa.Settings` extends this class with the question-answering settings, so each variable
has one definition.

>>> IndexSettings(index_dir="var/mine").index_dir
'var/mine'
"""
from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cables.errors import ConfigError

ENV_PREFIX = "PILCROW_"


class IndexSettings(BaseSettings):
    """Where the index is and which embedding model reads it. Validation errors become
    `ConfigError` through `load()`; constructing directly raises pydantic's own."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid",
                                      validate_by_name=True, validate_default=True,
                                      env_ignore_empty=True)

    # The variable predates the settings model: PILCROW_INDEX, not PILCROW_INDEX_DIR.
    index_dir: str = Field(
        "var/index", min_length=1, validation_alias="PILCROW_INDEX",
        description="index folder", json_schema_extra={"flag": "--index"})
    embed_model: str = Field(
        "", description="embedding model: a packaged name or a sentence-transformers folder; "
        "empty = the one the index was built with, else `all-MiniLM-L6-v2`",
        json_schema_extra={"flag": "--model (build)"})
    embed_backend: str = Field(
        "", pattern=r"^(|torch|openvino|auto)$", description="what runs the embedding model: "
        "`torch` \\| `openvino` (int8, ~4x faster) \\| `auto` (the fastest that passes its "
        "check); empty = the index's, else torch; questions use the index's",
        json_schema_extra={"flag": "--backend (build)"})
    model_cache: str = Field(
        "var/models", min_length=1, description="where a GGUF converted for transformers, "
        "and the int8 embedding model, are kept (second start: 0.3 s)")

    @classmethod
    def load(cls, **overrides: object):
        """Defaults, then `PILCROW_*` variables, then the non-None `overrides`; a value out
        of range is a `ConfigError` naming the variable.

        >>> IndexSettings.load(index_dir=None).index_dir == IndexSettings().index_dir
        True
        """
        try:
            return cls(**{name: v for name, v in overrides.items() if v is not None})
        except ValidationError as e:
            raise ConfigError(describe(cls, e)) from None

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable of field `name`.

        >>> IndexSettings.env_name("index_dir"), IndexSettings.env_name("embed_model")
        ('PILCROW_INDEX', 'PILCROW_EMBED_MODEL')
        """
        return cls.model_fields[name].validation_alias or ENV_PREFIX + name.upper()


def describe(cls: type[IndexSettings], error: ValidationError, env: bool = True) -> str:
    """The problems in one line, each naming the setting's variable ('PILCROW_K=0: Input
    should be greater than or equal to 1'), or its field name when not `env`."""
    by_env = {cls.env_name(n).lower(): n for n in cls.model_fields}
    parts = []
    for err in error.errors():
        where = str(err["loc"][0]) if err["loc"] else ""
        name = by_env.get(where.lower(), where)
        label = (f"unknown setting {name!r}" if name not in cls.model_fields
                 else cls.env_name(name) if env else name)
        given = err.get("input")
        shown = f"={given!r}" if isinstance(given, (str, int, float)) and len(str(given)) < 80 else ""
        parts.append(f"{label}{shown}: {err['msg']}")
    return "; ".join(parts)
