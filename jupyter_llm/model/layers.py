"""Custom Keras layers of the language model.

Only one is needed: :class:`CausalSelfAttention`, the attention of each GRU
hidden state over the hidden states at or before it.
"""

from __future__ import annotations

import math

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
from keras import ops

from ..errors import invalid


@keras.saving.register_keras_serializable(package="jupyter_llm")
class CausalSelfAttention(keras.layers.Layer):
    """Scaled dot-product attention of step ``t`` over steps ``t-W+1 .. t``.

    With hidden states ``h`` of shape ``(batch_size, T, units)``::

        q_t = h_t W_q,  k_s = h_s W_k                       # (B, T, attention_dim)
        e_ts = q_t . k_s / sqrt(attention_dim)  for t-W < s <= t, else -inf
        alpha_t = softmax_s(e_ts)                            # (B, T, T), rows sum to 1
        a_t = sum_s alpha_ts h_s                             # (B, T, units)

    The values are the hidden states themselves, so the model's output layer
    sees ``[h_t; a_t]``: what the GRU carries and what it looked back at.

    Args:
        attention_dim: size of the query and key projections.
        window: the span W, in steps, that each position attends over
            (itself included). ``None`` attends over every earlier step.

    Call arguments:
        inputs: hidden states, ``(batch_size, T, units)``.
        return_attention_scores: also return the weights ``(batch_size, T, T)``.

    Example:
    >>> layer = CausalSelfAttention(attention_dim=8, window=4)
    >>> context, weights = layer(keras.random.normal((2, 5, 16)), return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, attention_dim: int, window: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(attention_dim, bool) or not isinstance(attention_dim, int) or attention_dim < 1:
            raise invalid("attention_dim", "a positive integer", attention_dim)
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
            raise invalid("window", "a positive integer or None", window)
        self.attention_dim = attention_dim
        self.window = window
        self.scale = 1.0 / math.sqrt(attention_dim)

    def build(self, input_shape):
        units = input_shape[-1]
        self.query_kernel = self.add_weight(
            shape=(units, self.attention_dim), name="query_kernel", initializer="glorot_uniform"
        )
        self.key_kernel = self.add_weight(
            shape=(units, self.attention_dim), name="key_kernel", initializer="glorot_uniform"
        )

    def queries(self, hidden):
        """``h W_q``: ``(..., units) -> (..., attention_dim)``."""
        return ops.matmul(hidden, self.query_kernel)

    def keys(self, hidden):
        """``h W_k``: ``(..., units) -> (..., attention_dim)``."""
        return ops.matmul(hidden, self.key_kernel)

    def call(self, inputs, return_attention_scores: bool = False):
        q = self.queries(inputs)  # (B, T, d)
        k = self.keys(inputs)  # (B, T, d)
        scores = ops.einsum("btd,bsd->bts", q, k) * self.scale  # (B, T, T)
        t = ops.shape(inputs)[1]
        row = ops.expand_dims(ops.arange(t), 1)  # (T, 1): query position
        col = ops.expand_dims(ops.arange(t), 0)  # (1, T): key position
        allowed = col <= row
        if self.window is not None:
            allowed = ops.logical_and(allowed, row - col < self.window)
        scores = ops.where(allowed[None], scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)  # (B, T, T)
        weights = ops.where(allowed[None], weights, ops.zeros_like(weights))
        context = ops.einsum("bts,bsu->btu", weights, inputs)  # (B, T, units)
        if return_attention_scores:
            return context, weights
        return context

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {"attention_dim": self.attention_dim, "window": self.window}
        return {**super().get_config(), **config}
