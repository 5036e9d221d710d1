"""The CausalSelfAttention layer and the model builder: Keras contracts."""

import keras
import numpy as np
import pytest

from jupyter_llm import InvalidArgumentError, ModelConfig
from jupyter_llm.model.backbone import build_model
from jupyter_llm.model.layers import CausalSelfAttention


def test_output_shapes_weights_and_causality():
    layer = CausalSelfAttention(attention_dim=8)
    h = np.random.default_rng(0).normal(size=(2, 7, 16)).astype("float32")
    context, weights = layer(h, return_attention_scores=True)
    assert tuple(context.shape) == (2, 7, 16) and tuple(weights.shape) == (2, 7, 7)
    assert len(layer.trainable_weights) == 2
    w = np.asarray(weights)
    assert np.allclose(w.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(w, k=1) == 0)
    # Changing a later step never changes an earlier context.
    h2 = h.copy()
    h2[:, 5:] += 1.0
    c2 = np.asarray(layer(h2))
    assert np.allclose(np.asarray(context)[:, :5], c2[:, :5], atol=1e-6)


def test_window_limits_the_span():
    layer = CausalSelfAttention(attention_dim=4, window=3)
    _, w = layer(np.ones((1, 6, 4), "float32"), return_attention_scores=True)
    w = np.asarray(w)[0]
    assert np.count_nonzero(w[5]) == 3 and np.allclose(w[5, 3:], 1 / 3, atol=1e-6)


def test_get_config_round_trip_and_bad_arguments():
    layer = CausalSelfAttention(attention_dim=5, window=9, name="att")
    clone = CausalSelfAttention.from_config(layer.get_config())
    assert (clone.attention_dim, clone.window, clone.name) == (5, 9, "att")
    with pytest.raises(InvalidArgumentError, match="attention_dim"):
        CausalSelfAttention(attention_dim=0)
    with pytest.raises(InvalidArgumentError, match="window"):
        CausalSelfAttention(attention_dim=4, window=-1)


def test_model_saves_and_reloads_in_keras_safe_mode(tmp_path):
    config = ModelConfig.from_size("tiny", vocab_size=11, num_layers=2, seq_len=8)
    model = build_model(config)
    x = np.arange(16).reshape(2, 8) % 11
    path = tmp_path / "m.keras"
    model.save(path)
    clone = keras.saving.load_model(path, safe_mode=True)
    assert np.allclose(model(x), clone(x), atol=1e-6)
    assert [layer.name for layer in model.layers if "gru" in layer.name] == ["gru_0", "gru_1"]


def test_gru_keeps_the_cudnn_compatible_settings():
    model = build_model(ModelConfig.from_size("tiny", vocab_size=7))
    gru = model.get_layer("gru_0")
    assert gru.activation.__name__ == "tanh" and gru.recurrent_activation.__name__ == "sigmoid"
    assert gru.cell.reset_after and gru.cell.recurrent_dropout == 0 and not gru.unroll and gru.use_bias


@pytest.mark.parametrize("field, value", [("rnn_units", 0), ("num_layers", -1), ("seq_len", 0),
                                          ("embedding_dim", 1.5), ("dropout", 1.0), ("learning_rate", 0)])
def test_config_rejects_non_positive_sizes(field, value):
    with pytest.raises(InvalidArgumentError, match=field):
        ModelConfig(**{field: value})
    with pytest.raises(InvalidArgumentError, match="size"):
        ModelConfig.from_size("huge")
