"""Keras layers of the intent and slot network (imports Keras: load this module lazily).

* :class:`CharCNN`: a word's letters -> one vector (its spelling, for words never seen).
* :class:`AttentionPooling`: a sequence -> one vector, and the weight of each position.
* :class:`IntentSlotNetwork`: the whole joint model.
"""

from __future__ import annotations

from typing import Any

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
from keras import layers, ops


class CharCNN(layers.Layer):
    """A convolution over the characters of each word, max-pooled to one vector per word.

    Input: char ids ``(batch_size, T, L)`` (0 is padding). Output:
    ``(batch_size, T, filters)``; a word of padding only gets zeros.

    >>> tuple(CharCNN(num_chars=50, char_dim=8, filters=16)(ops.ones((2, 5, 7), "int32")).shape)
    (2, 5, 16)
    """

    def __init__(self, num_chars: int, char_dim: int = 32, filters: int = 96, kernel_size: int = 3,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_chars = num_chars
        self.char_dim = char_dim
        self.filters = filters
        self.kernel_size = kernel_size
        self.embedding = layers.Embedding(num_chars, char_dim, name="char_embedding")
        self.conv = layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name="char_conv")

    def build(self, input_shape) -> None:
        self.embedding.build((None, None))
        self.conv.build((None, None, self.char_dim))

    def call(self, chars):
        shape = ops.shape(chars)  # (B, T, L)
        flat = ops.reshape(chars, (-1, shape[2]))  # (B*T, L)
        x = self.conv(self.embedding(flat))  # (B*T, L, filters)
        present = ops.expand_dims(ops.cast(ops.not_equal(flat, 0), x.dtype), -1)  # (B*T, L, 1)
        # ReLU outputs are >= 0, so zeroing the padding before the max leaves the max unchanged.
        pooled = ops.max(x * present, axis=1)  # (B*T, filters)
        return ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.filters)

    def get_config(self) -> dict[str, Any]:
        config = {"num_chars": self.num_chars, "char_dim": self.char_dim, "filters": self.filters,
                  "kernel_size": self.kernel_size}
        return {**super().get_config(), **config}


class AttentionPooling(layers.Layer):
    """Additive attention that pools a sequence into one vector.

    ``score_t = v . tanh(W h_t + b)``, ``a = softmax(score)`` over the unmasked
    positions, ``context = sum_t a_t h_t``.

    Inputs: ``(batch_size, T, dim)`` and a boolean mask ``(batch_size, T)``.
    Returns ``context (batch_size, dim)`` and ``weights (batch_size, T)`` (rows sum to 1).

    >>> ctx, w = AttentionPooling(8)(ops.ones((2, 5, 4)), mask=ops.ones((2, 5), "bool"))
    >>> tuple(ctx.shape), tuple(w.shape)
    ((2, 4), (2, 5))
    """

    def __init__(self, units: int = 128, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"Invalid value for argument units. Expected a positive integer. Received: units={units!r}")
        self.units = units

    def build(self, input_shape) -> None:
        dim = input_shape[-1]
        self.kernel = self.add_weight(shape=(dim, self.units), name="kernel", initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")
        self.score = self.add_weight(shape=(self.units,), name="score", initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)  # (B, T, units)
        scores = ops.sum(hidden * self.score, axis=-1)  # (B, T)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)  # (B, T)
        context = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)  # (B, dim)
        return context, weights

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


class IntentSlotNetwork(keras.Model):
    """The joint model: word and char features -> BiGRU -> intent and slot heads.

    Inputs: word ids ``(batch_size, T)`` (0 is padding, 1 unknown) and char ids
    ``(batch_size, T, L)``. Returns intent logits ``(batch_size, num_intents)``,
    slot logits ``(batch_size, T, num_tags)`` and the intent attention
    ``(batch_size, T)``.
    """

    def __init__(self, num_words: int, num_chars: int, num_intents: int, num_tags: int,
                 word_dim: int = 128, char_dim: int = 32, char_filters: int = 96, char_kernel: int = 3,
                 rnn_units: int = 160, attention_dim: int = 128, dropout: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # === Config ===
        self.num_words, self.num_chars = num_words, num_chars
        self.num_intents, self.num_tags = num_intents, num_tags
        self.word_dim, self.char_dim, self.char_filters, self.char_kernel = word_dim, char_dim, char_filters, char_kernel
        self.rnn_units, self.attention_dim, self.dropout_rate = rnn_units, attention_dim, dropout

        # === Layers ===
        self.word_embedding = layers.Embedding(num_words, word_dim, name="word_embedding")
        self.char_cnn = CharCNN(num_chars, char_dim, char_filters, char_kernel, name="char_cnn")
        self.input_dropout = layers.Dropout(dropout)
        self.encoder = layers.Bidirectional(layers.GRU(rnn_units, return_sequences=True), name="encoder")
        self.encoder_dropout = layers.Dropout(dropout)
        self.attention = AttentionPooling(attention_dim, name="intent_attention")
        self.intent_head = layers.Dense(num_intents, name="intent")
        self.slot_hidden = layers.Dense(rnn_units, activation="relu", name="slot_hidden")
        self.slot_head = layers.Dense(num_tags, name="slots")

    def call(self, inputs, training=False):
        words, chars = inputs
        mask = ops.not_equal(words, 0)  # (B, T)
        x = ops.concatenate([self.word_embedding(words), self.char_cnn(chars)], axis=-1)  # (B, T, word+char)
        x = self.input_dropout(x, training=training)
        h = self.encoder(x, mask=mask, training=training)  # (B, T, 2*units)
        h = self.encoder_dropout(h, training=training)
        context, weights = self.attention(h, mask=mask)  # (B, 2*units), (B, T)
        intent_logits = self.intent_head(context)  # (B, num_intents)
        # Each token sees its own state and the utterance's context (what the intent attended to).
        tiled = ops.broadcast_to(ops.expand_dims(context, 1), ops.shape(h))  # (B, T, 2*units)
        slot_logits = self.slot_head(self.slot_hidden(ops.concatenate([h, tiled], axis=-1)))  # (B, T, num_tags)
        return intent_logits, slot_logits, weights

    def get_config(self) -> dict[str, Any]:
        config = {
            "num_words": self.num_words, "num_chars": self.num_chars, "num_intents": self.num_intents,
            "num_tags": self.num_tags, "word_dim": self.word_dim, "char_dim": self.char_dim,
            "char_filters": self.char_filters, "char_kernel": self.char_kernel, "rnn_units": self.rnn_units,
            "attention_dim": self.attention_dim, "dropout": self.dropout_rate,
        }
        return {**super().get_config(), **config}
