"""Build the Keras model from a :class:`~jupyter_llm.ModelConfig`.

``Embedding -> GRU x N -> CausalSelfAttention -> [h_t; a_t] -> Dense(vocab)``

The GRUs keep Keras's defaults (tanh, sigmoid, ``reset_after=True``, no
recurrent dropout, not unrolled) so that on a GPU Keras runs them with cuDNN.
"""

from __future__ import annotations

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras

from ..config import ModelConfig
from .layers import CausalSelfAttention


def build_model(config: ModelConfig) -> keras.Model:
    """The training model: token ids ``(batch_size, T)`` -> logits ``(batch_size, T, vocab_size)``."""
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(config.vocab_size, config.embedding_dim, name="embedding")(tokens)
    for i in range(config.num_layers):
        x, _ = keras.layers.GRU(
            config.rnn_units, return_sequences=True, return_state=True, name=f"gru_{i}"
        )(x)  # (B, T, units)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    context = CausalSelfAttention(
        config.attention_dim, window=config.window, name="attention"
    )(x)  # (B, T, units)
    features = keras.layers.Concatenate(name="h_and_a")([x, context])  # (B, T, 2 * units)
    logits = keras.layers.Dense(config.vocab_size, name="logits")(features)  # (B, T, vocab)
    return keras.Model(tokens, logits, name="gru_attention_lm")
