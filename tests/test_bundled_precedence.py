"""A bundled model and a user's model of the same name: the bundled one unless the user asks."""

from __future__ import annotations

import numpy as np
import pytest
from magics_support import copy_of, error_of, ip, outputs, run, session, shell  # noqa: F401

import jupyter_llm as jl
from jupyter_llm import LanguageModel, store


def _distinct_copy(lm, scale: float) -> LanguageModel:
    """A model like ``lm`` with different weights, so the two can be told apart."""
    from jupyter_llm.model.backbone import build_model

    model = build_model(lm.config)
    model.set_weights([w * scale for w in lm.model.get_weights()])
    return LanguageModel(model, lm.tokenizer, lm.config, dict(lm.metadata))


@pytest.fixture
def two_shakespeares(tmp_path, monkeypatch, tiny_lm):
    """A bundled 'shakespeare' and the user's own 'shakespeare' with other weights."""
    bundled = tmp_path / "bundled"
    bundled.mkdir(exist_ok=True)
    monkeypatch.setattr(store, "bundled_dir", lambda: bundled)
    copy_of(tiny_lm).save(bundled / "shakespeare")
    with pytest.warns(UserWarning, match=r"a bundled model has that name too.*prefer='user'"):
        _distinct_copy(tiny_lm, 0.5).save("shakespeare")
    return bundled


def _weights(lm):
    return lm.model.get_weights()[0]


def test_a_name_means_the_bundled_model_unless_asked(two_shakespeares, tiny_lm):
    bundled = jl.load("shakespeare")
    mine = jl.load("shakespeare", prefer="user")
    np.testing.assert_allclose(_weights(bundled), _weights(tiny_lm))
    np.testing.assert_allclose(_weights(mine), 0.5 * _weights(tiny_lm))
    assert store.is_bundled("shakespeare") and not store.is_bundled("shakespeare", prefer="user")
    # both are listed, each marked
    listed = [(m.name, m.bundled) for m in jl.list_models()]
    assert listed == [("shakespeare", False), ("shakespeare", True)]


def test_prefer_user_falls_back_to_bundled_and_checks_its_value(two_shakespeares):
    jl.delete_model("shakespeare")  # deletes the user's copy; the bundled one stays
    assert (two_shakespeares / "shakespeare" / "manifest.json").is_file()
    assert store.is_bundled("shakespeare", prefer="user")
    jl.load("shakespeare", prefer="user")  # only the bundled one exists: that one
    with pytest.raises(jl.InvalidArgumentError, match="read-only"):
        jl.delete_model("shakespeare")
    with pytest.raises(jl.InvalidArgumentError, match="Expected 'bundled' or 'user'"):
        jl.load("shakespeare", prefer="mine")


def test_magics_use_the_bundled_model_unless_configured(ip, two_shakespeares, tiny_lm):
    result = run(ip, "%generate -m shakespeare -n 3 --seed 0 To")
    assert result.error_in_exec is None
    assert outputs(ip)[-1]["metadata"]["jupyter_llm"]["model"] == "shakespeare"
    np.testing.assert_allclose(_weights(session(ip).resolve("shakespeare").model), _weights(tiny_lm))
    assert session(ip).resolve("shakespeare").origin == "bundled"
    run(ip, "%config JupyterLLM.prefer_user_models = True")
    chosen = session(ip).resolve("shakespeare")
    assert chosen.origin == "saved"
    np.testing.assert_allclose(_weights(chosen.model), 0.5 * _weights(tiny_lm))
    run(ip, "%llm load shakespeare -o mine")
    np.testing.assert_allclose(_weights(ip.user_ns["mine"]), 0.5 * _weights(tiny_lm))


def test_kernel_channel_prefers_bundled_and_can_ask_for_the_store(two_shakespeares, tiny_lm):
    from jupyter_llm.kernel.models import ModelRegistry

    models = ModelRegistry(lambda: {})
    np.testing.assert_allclose(_weights(models.get("shakespeare")), _weights(tiny_lm))
    np.testing.assert_allclose(_weights(models.get("shakespeare", source="store")), 0.5 * _weights(tiny_lm))
    np.testing.assert_allclose(_weights(models.get("shakespeare", source="bundled")), _weights(tiny_lm))
