"""Settings: the only reader of PILCROW_* variables, validated, and the README's table."""
from pathlib import Path

import pytest

from cables.errors import ConfigError, InvalidInputError
from qa import Settings
from qa.__main__ import main as qa_main
from qa.settings import markdown_table, replace_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_variables_are_read_and_overrides_win(monkeypatch):
    monkeypatch.setenv("PILCROW_INDEX", "/srv/index")
    monkeypatch.setenv("PILCROW_K", "12")
    monkeypatch.setenv("PILCROW_API_TOKEN", "s3cret")
    monkeypatch.setenv("INDEX_DIR", "/not/this")  # only PILCROW_* names are read
    settings = Settings.from_env(k=3, generator=None)
    assert (settings.index_dir, settings.k, settings.generator) == ("/srv/index", 3, "extractive")
    assert settings.api_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("name, value, message", [
    ("PILCROW_K", "many", "PILCROW_K='many': Input should be a valid integer"),
    ("PILCROW_K", "0", "PILCROW_K='0': Input should be greater than or equal to 1"),
    ("PILCROW_RRF_K", "0", "PILCROW_RRF_K='0': Input should be greater than or equal to 1"),
    ("PILCROW_ABSTAIN_THRESHOLD", "-0.1", "PILCROW_ABSTAIN_THRESHOLD='-0.1': Input should be "
     "greater than or equal to 0"),
    ("PILCROW_SUPPORT_THRESHOLD", "1.5", "PILCROW_SUPPORT_THRESHOLD='1.5': Input should be less "
     "than or equal to 1"),
    ("PILCROW_OPENAI_BASE_URL", "localhost:8080", "PILCROW_OPENAI_BASE_URL='localhost:8080': "
     "String should match pattern"),
])
def test_a_bad_variable_is_a_config_error_naming_it(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as e:
        Settings.from_env()
    assert str(e.value).startswith(message)


def test_an_empty_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("PILCROW_INDEX", "")
    monkeypatch.setenv("PILCROW_API_TOKEN", "")
    settings = Settings.from_env()
    assert (settings.index_dir, settings.api_token) == ("var/index", None)


def test_with_validates_and_blames_the_caller():
    settings = Settings()
    assert settings.with_(k=4, generator=None).k == 4
    with pytest.raises(InvalidInputError, match="k=0: Input should be greater than or equal to 1"):
        settings.with_(k=0)
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        Settings.from_env(colour="red")


def test_the_hash_ignores_caches_and_secrets():
    base = Settings()
    assert base.with_(model_cache="/tmp/m", api_token="x", openai_api_key="y").hash() == base.hash()
    assert base.with_(rrf_k=10).hash() != base.hash()


def test_readme_configuration_table_is_the_settings_model():
    assert replace_table(README.read_text(), markdown_table()) == README.read_text(), \
        "README's settings table is stale: run python -m qa settings --write README.md"
    assert markdown_table().count("\n| ") == len(Settings.model_fields)


def test_the_cli_rewrites_a_stale_table(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(replace_table(README.read_text(), "| stale |"))
    assert qa_main(["settings", "--write", str(readme)]) == 0
    assert readme.read_text() == README.read_text()
    assert qa_main(["settings"]) == 0
    assert capsys.readouterr().out.strip() == markdown_table()
