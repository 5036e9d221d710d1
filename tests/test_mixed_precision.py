"""A model trained under Keras's mixed precision policy generates, explains and is saved as float32 weights.

``docs/scaling.md`` (4.3) tells GPU users to set ``mixed_float16`` themselves
before ``jl.train``. The layers of such a model keep computing in float16 after
the policy is set back; generation, whose state is float32, reads the float32
weights directly, so the model that ``train`` returned generates the same text
as the one saved and loaded under ``float32``.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import jupyter_llm as jl

TEXT = (Path(__file__).resolve().parents[1] / "jupyter_llm" / "datasets" / "shakespeare_excerpt.txt").read_text(
    "utf-8")[:20_000]


@pytest.fixture
def mixed_float16(monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_LLM_HOME", str(tmp_path / "home"))
    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def test_a_model_trained_under_mixed_float16_generates_like_its_saved_float32_copy(mixed_float16):
    events = []
    lm = jl.train(TEXT, name="half", size="tiny", epochs=1, steps_per_epoch=6, seed=0, sample_tokens=20,
                  on_progress=events.append, progress=False)
    assert lm.model.get_layer("gru_0").compute_dtype == "float16"
    (sample,) = [e.sample for e in events if e.kind == "sample"]
    assert "(no sample" not in sample and len(sample) >= 20

    under_policy = lm.generate("ROMEO:", max_tokens=40, seed=3)
    streamed = "".join(lm.stream("ROMEO:", max_tokens=40, seed=3))
    keras.mixed_precision.set_global_policy("float32")
    after_policy = lm.generate("ROMEO:", max_tokens=40, seed=3)
    loaded = jl.load("half")
    assert loaded.model.get_layer("gru_0").compute_dtype == "float32"
    assert under_policy == streamed == after_policy == loaded.generate("ROMEO:", max_tokens=40, seed=3)
    assert len(under_policy) == 40

    # The attention weights (the prompt's read by the float16 layers), an explanation and a saliency map.
    text, attention = lm.generate("ROMEO:", max_tokens=10, seed=3, return_attention=True)
    assert text == under_policy[:10]
    _, theirs = loaded.generate("ROMEO:", max_tokens=10, seed=3, return_attention=True)
    assert np.allclose(attention.weights.sum(axis=-1), 1.0, atol=1e-3)
    assert np.allclose(attention.weights, theirs.weights, atol=1e-2)
    assert np.isfinite(lm.explain("ROMEO: what light").summary["bits_per_char"])
    saliency = lm.saliency("ROMEO: what light")
    assert np.all(np.isfinite(saliency.attributions)) and np.isfinite(saliency.logprob)
