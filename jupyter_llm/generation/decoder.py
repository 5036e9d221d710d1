"""Incremental decoding: read the prompt once, then one step per token.

The decoder carries, for each sequence of the batch:

* the state of every GRU layer, ``(batch_size, units)``;
* a ring buffer of the last W keys ``(batch_size, W, attention_dim)`` and
  values (hidden states) ``(batch_size, W, units)`` of the attention.

A step therefore costs the same whatever the length of the text so far: the
prefix is never run again. The prompt itself is read in one parallel call
(:meth:`Decoder.prefill`) that fills the states and the cache.

Sampling runs many steps per call (:meth:`Decoder.run`): one compiled
``tf.while_loop`` over the GRU cells, the attention ring and the sampler
(:mod:`.graph_sampling`), compiled with XLA where it can be, so the cost of a
call into TensorFlow is paid once per chunk of tokens instead of once per
token. :meth:`Decoder.step` (one token, any rows) serves beam search.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
import numpy as np
import tensorflow as tf

from ..config import ModelConfig
from .graph_sampling import Filters, Knobs, pick, process
from .sampling import SamplingOptions

log = logging.getLogger(__name__)

#: The most steps one call of the decoding loop runs (its compiled buffers hold this many).
CHUNK = 64

#: Set to "0" to run the decoding loop without XLA (it is then about 2-4x slower on a CPU).
XLA_ENV = "JUPYTER_LLM_XLA"


def gru_layers(model: keras.Model) -> list[keras.layers.GRU]:
    """The GRU layers of a model built by :func:`jupyter_llm.model.backbone.build_model`, in order."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.GRU)]


@dataclass
class DecoderState:
    """What a decoder carries from one step to the next (numpy or tf tensors)."""

    states: list  # per GRU layer: (B, units)
    keys: tf.Tensor  # (B, W, attention_dim)
    values: tf.Tensor  # (B, W, units)
    position: int  # absolute position of the next token

    def select(self, rows: np.ndarray) -> "DecoderState":
        """Reorder or repeat the batch rows (beam search, n samples from one prompt)."""
        rows = tf.constant(rows, dtype=tf.int32)
        return DecoderState(
            [tf.gather(s, rows) for s in self.states],
            tf.gather(self.keys, rows),
            tf.gather(self.values, rows),
            self.position,
        )


class Decoder:
    """Prefill and single-step functions over the weights of one Keras model."""

    def __init__(self, model, config: ModelConfig) -> None:
        self.config = config
        self.window = config.window
        self.embedding = model.get_layer("embedding")
        self.grus = gru_layers(model)
        self.attention = model.get_layer("attention")
        self.output_layer = model.get_layer("logits")
        self._prepare_lock = threading.Lock()
        self._prepared = False
        self._loops: dict[tuple, tf.types.experimental.GenericFunction] = {}
        self._loops_lock = threading.Lock()
        self.jit_compile = os.environ.get(XLA_ENV, "1") != "0"
        units, d, w = config.rnn_units, config.attention_dim, self.window
        n = len(self.grus)
        self._prefill = tf.function(
            self._prefill_impl,
            input_signature=[tf.TensorSpec([None, None], tf.int32)],
        )
        self._step = tf.function(
            self._step_impl,
            input_signature=[
                tf.TensorSpec([None], tf.int32),
                [tf.TensorSpec([None, units], tf.float32)] * n,
                tf.TensorSpec([None, w, d], tf.float32),
                tf.TensorSpec([None, w, units], tf.float32),
                tf.TensorSpec([], tf.int32),
            ],
        )

    # === Graph functions ===

    def _prefill_impl(self, tokens):
        x = self.embedding(tokens)  # (B, T, E)
        states = []
        for gru in self.grus:
            x, state = gru(x)  # (B, T, units), (B, units)
            states.append(state)
        context, weights = self.attention(x, return_attention_scores=True)
        logits = self.output_layer(tf.concat([x[:, -1], context[:, -1]], axis=-1))  # (B, V)
        return logits, states, self.attention.keys(x), x, weights

    def _step_impl(self, tokens, states, keys, values, position):
        x = self.embedding(tokens)  # (B, E)
        new_states = []
        for gru, state in zip(self.grus, states):
            x, _ = gru.cell(x, [state])  # (B, units)
            new_states.append(x)
        slot = tf.one_hot(position % self.window, self.window)[None, :, None]  # (1, W, 1)
        keys = keys * (1.0 - slot) + slot * self.attention.keys(x)[:, None, :]
        values = values * (1.0 - slot) + slot * x[:, None, :]
        q = self.attention.queries(x)  # (B, d)
        scores = tf.einsum("bd,bwd->bw", q, keys) * self.attention.scale  # (B, W)
        valid = tf.range(self.window) <= position  # before the ring wraps, later slots are empty
        scores = tf.where(valid[None], scores, -1e9)
        weights = tf.nn.softmax(scores, axis=-1)  # (B, W)
        weights = tf.where(valid[None], weights, 0.0)
        context = tf.einsum("bw,bwu->bu", weights, values)  # (B, units)
        logits = self.output_layer(tf.concat([x, context], axis=-1))  # (B, V)
        return logits, new_states, keys, values, weights

    def _loop_impl(self, filters: Filters, record: bool, logits, states, keys, values, position, seen, uniforms,
                   steps, banned, knobs):
        """``steps`` (<= CHUNK) times: choose each row's token from ``logits``, then feed it."""
        batch = tf.shape(logits)[0]
        tokens = tf.TensorArray(tf.int32, size=CHUNK, element_shape=tf.TensorShape([None]))
        weights = tf.TensorArray(tf.float32, size=CHUNK if record else 1, element_shape=tf.TensorShape([None, None]))
        vocab = tf.shape(logits)[-1]

        def body(i, logits, states, keys, values, seen, tokens, weights):
            token = pick(process(logits, seen, banned, knobs, filters), uniforms[i], filters)
            if filters.penalty:
                seen = tf.logical_or(seen, tf.one_hot(token, vocab, on_value=True, off_value=False, dtype=tf.bool))
            logits, states, keys, values, w = self._step_impl(token, states, keys, values, position + i)
            if record:
                weights = weights.write(i, w)
            return i + 1, logits, states, keys, values, seen, tokens.write(i, token), weights

        _, logits, states, keys, values, seen, tokens, weights = tf.while_loop(
            lambda i, *_: i < steps, body, (tf.constant(0), logits, states, keys, values, seen, tokens, weights))
        stacked = weights.stack() if record else tf.zeros([0, batch, self.window])
        return tokens.stack(), logits, states, keys, values, seen, stacked

    def _loop(self, filters: Filters, record: bool):
        """The compiled decoding loop for one combination of filters (compiled once, on first use)."""
        key = (filters, record, self.jit_compile)
        with self._loops_lock:
            if key not in self._loops:
                units, d, w, n = self.config.rnn_units, self.config.attention_dim, self.window, len(self.grus)
                v = self.config.vocab_size
                signature = [
                    tf.TensorSpec([None, v], tf.float32),
                    [tf.TensorSpec([None, units], tf.float32)] * n,
                    tf.TensorSpec([None, w, d], tf.float32),
                    tf.TensorSpec([None, w, units], tf.float32),
                    tf.TensorSpec([], tf.int32),
                    tf.TensorSpec([None, v], tf.bool),
                    tf.TensorSpec([CHUNK, None], tf.float64),
                    tf.TensorSpec([], tf.int32),
                    tf.TensorSpec([v], tf.bool),
                    Knobs.signature(),
                ]

                def loop(logits, states, keys, values, position, seen, uniforms, steps, banned, knobs):
                    return self._loop_impl(filters, record, logits, states, keys, values, position, seen, uniforms,
                                           steps, banned, Knobs(*knobs))

                self._loops[key] = tf.function(loop, input_signature=signature, jit_compile=self.jit_compile)
            return self._loops[key]

    # === Python API ===

    def run(self, run: "DecodingRun", steps: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Advance ``run`` by ``steps`` (1..CHUNK) tokens per row in one call.

        Returns the chosen tokens ``(steps, B)`` and, if the run records
        attention, each fed token's weights over the ring slots ``(steps, B, W)``.
        """
        uniforms = np.zeros((CHUNK, run.batch), np.float64)
        if not run.filters.greedy:
            uniforms[:steps] = 1.0 - run.rng.random((steps, run.batch))  # in (0, 1], drawn in order
        state = run.state
        args = (run.logits, state.states, state.keys, state.values, tf.constant(state.position, tf.int32), run.seen,
                tf.constant(uniforms), tf.constant(steps, tf.int32), run.banned, list(run.knobs))
        try:
            out = self._loop(run.filters, run.record)(*args)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as e:
            if not self.jit_compile:
                raise
            log.warning("XLA could not compile the decoding loop (%s); running it without XLA.", str(e)[:200])
            self.jit_compile = False
            out = self._loop(run.filters, run.record)(*args)
        tokens, run.logits, states, keys, values, run.seen, weights = out
        run.state = DecoderState(list(states), keys, values, state.position + steps)
        return tokens.numpy()[:steps], (weights.numpy()[:steps] if run.record else None)

    def prepare(self) -> None:
        """Trace (and compile) the graph functions now, once, whichever thread asks first."""
        with self._prepare_lock:
            if self._prepared:
                return
            logits, state, _ = self.prefill(np.zeros((1, 1), np.int32))
            self.step(np.zeros(1, np.int32), state)
            self.run(DecodingRun(self, logits, state, [0], SamplingOptions(seed=0)), 1)  # the default options' loop
            self._prepared = True

    def prefill(self, tokens: np.ndarray) -> tuple[np.ndarray, DecoderState, np.ndarray]:
        """Read a batch of prompts ``(B, T)`` of equal length.

        Returns the logits of the next token ``(B, V)``, the decoder state, and
        the prompt's attention weights ``(B, T, T)``.
        """
        tokens = np.asarray(tokens, dtype=np.int32)
        logits, states, keys, values, weights = self._prefill(tf.constant(tokens))
        t = tokens.shape[1]
        w = self.window
        batch = tokens.shape[0]
        # Place the last min(T, W) positions in their ring slots (position % W).
        ring_k = np.zeros((batch, w, self.config.attention_dim), np.float32)
        ring_v = np.zeros((batch, w, self.config.rnn_units), np.float32)
        positions = np.arange(max(0, t - w), t)
        ring_k[:, positions % w] = keys.numpy()[:, positions]
        ring_v[:, positions % w] = values.numpy()[:, positions]
        state = DecoderState(list(states), tf.constant(ring_k), tf.constant(ring_v), t)
        return logits.numpy(), state, weights.numpy()

    def step(self, tokens: np.ndarray, state: DecoderState) -> tuple[np.ndarray, DecoderState, np.ndarray]:
        """Feed one token per row ``(B,)``.

        Returns the next-token logits ``(B, V)``, the new state and the attention
        weights of this step over the ring slots ``(B, W)``; slot ``s`` holds
        the absolute position ``p`` with ``p % W == s``.
        """
        logits, states, keys, values, weights = self._step(
            tf.constant(np.asarray(tokens, dtype=np.int32)),
            state.states,
            state.keys,
            state.values,
            tf.constant(state.position, tf.int32),
        )
        return logits.numpy(), DecoderState(list(states), keys, values, state.position + 1), weights.numpy()

    def ring_to_absolute(self, ring_weights: np.ndarray, position: int) -> np.ndarray:
        """Map a step's weights over ring slots ``(W,)`` to positions ``0..position``."""
        out = np.zeros(position + 1, np.float32)
        first = max(0, position - self.window + 1)
        absolute = np.arange(first, position + 1)
        out[absolute] = ring_weights[absolute % self.window]
        return out


class DecodingRun:
    """What the decoding loop carries between two calls of :meth:`Decoder.run`, for one generation."""

    def __init__(self, decoder: Decoder, logits: np.ndarray, state: DecoderState, seen_ids, options: SamplingOptions,
                 banned=(), record: bool = False) -> None:
        batch, vocab = logits.shape
        self.batch = batch
        self.filters = Filters.of(options)
        self.knobs = Knobs.of(options, vocab)
        self.record = record
        self.rng = np.random.default_rng(options.seed)
        self.logits = tf.constant(logits, tf.float32)
        self.state = state
        seen = np.zeros((batch, vocab), bool)
        if self.filters.penalty:
            seen[:, np.asarray(seen_ids, np.int64)] = True
        self.seen = tf.constant(seen)
        mask = np.zeros(vocab, bool)
        mask[list(banned)] = True
        self.banned = tf.constant(mask)
