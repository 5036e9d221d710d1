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
from typing import Any

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
import numpy as np
import tensorflow as tf

from .. import _background
from ..config import ModelConfig
from .graph_sampling import Filters, Knobs, pick, process
from .sampling import Sampler, SamplingOptions

log = logging.getLogger(__name__)

#: The most steps one call of the decoding loop runs (its compiled buffers hold this many).
CHUNK = 64

#: Prompt tokens read per call of :meth:`Decoder.prime` (one compiled shape for every prompt length).
BLOCK = 64

#: The graph functions compiled with XLA (the others have a prompt length of their own at each call).
COMPILED = ("prime", "loop")

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
        self._functions: dict[tuple, Any] = {}  # (*what, jit) -> concrete function
        self._functions_lock = threading.Lock()
        self.jit_compile = os.environ.get(XLA_ENV, "1") != "0"
        self._xla_ready: set[tuple] = set()  # what has run compiled by XLA (so is compiled)
        self._compiling = False  # prepare() is compiling with XLA in the background
        self._compiler: threading.Thread | None = None  # ... on this thread

    # === Graph functions ===

    # The layers are called by their ``call``, not as layers: a layer called as a layer computes in its dtype
    # policy's compute dtype (float16 for a model trained under ``mixed_float16``), while the decoder carries
    # float32 state. Called directly, each reads its float32 weights and computes in float32, whatever the
    # policy; under ``float32`` the arithmetic is the same.

    def _embed(self, tokens):
        """The embeddings of ``tokens``, float32."""
        return tf.gather(self.embedding.embeddings, tokens)

    def _logits(self, features):
        return self.output_layer.call(features)

    def _prefill_impl(self, tokens):
        x = self._embed(tokens)  # (B, T, E)
        states = []
        for gru in self.grus:
            x, state = gru(x)  # (B, T, units), (B, units)
            x, state = tf.cast(x, tf.float32), tf.cast(state, tf.float32)  # no-ops under float32
            states.append(state)
        context, weights = self.attention.call(x, return_attention_scores=True)
        logits = self._logits(tf.concat([x[:, -1], context[:, -1]], axis=-1))  # (B, V)
        return logits, states, self.attention.keys(x), x, weights

    def _step_impl(self, tokens, states, keys, values, position):
        x = self._embed(tokens)  # (B, E)
        new_states = []
        for gru, state in zip(self.grus, states):
            input_bias, recurrent_bias = _biases(gru.cell)
            x = _gru_step(gru.cell, _project(gru.cell, x, input_bias), state, recurrent_bias)  # (B, units)
            new_states.append(x)
        # Write this position's key and value into its ring slot (in place under XLA, not a rewrite of the ring).
        slot = position % self.window
        keys = _write_slot(keys, slot, self.attention.keys(x))
        values = _write_slot(values, slot, x)
        valid = tf.range(self.window) <= position  # before the ring wraps, later slots are empty
        weights, context = _attend(self.attention, x, keys, values, valid)
        logits = self._logits(tf.concat([x, context], axis=-1))  # (B, V)
        return logits, new_states, keys, values, weights

    def _prime_impl(self, tokens, states, keys, values, start, count):
        """Read prompt tokens ``start .. start + count - 1`` (a block padded to BLOCK), carrying the state.

        Returns the logits after the block's last real token, the GRU states there,
        and the ring with the block's positions written into their slots.
        """
        x = self._embed(tokens)  # (B, BLOCK, E)
        last = count - 1
        new_states = []
        for gru, state in zip(self.grus, states):
            x, state = _read_block(gru.cell, x, state, count)  # (B, BLOCK, units), (B, units)
            new_states.append(state)
        block_keys = self.attention.keys(x)  # (B, BLOCK, d)
        w = self.window
        end = start + last  # the absolute position of the last real token
        slots = tf.range(w)
        newest = end - tf.math.floormod(end - slots, w)  # the latest position <= end in each slot
        fresh = (newest >= start)[None, :, None]  # written by this block (else the ring keeps its own)
        at = tf.clip_by_value(newest - start, 0, BLOCK - 1)
        keys = tf.where(fresh, tf.gather(block_keys, at, axis=1), keys)
        values = tf.where(fresh, tf.gather(x, at, axis=1), values)
        h = new_states[-1]
        _, context = _attend(self.attention, h, keys, values, newest >= 0)
        logits = self._logits(tf.concat([h, context], axis=-1))
        return logits, new_states, keys, values

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

    def _signature(self, *head) -> list:
        """``head``, then the carried state: GRU states, ring keys, ring values."""
        units, d, w = self.config.rnn_units, self.config.attention_dim, self.window
        return [*head[:1], [tf.TensorSpec([None, units], tf.float32)] * len(self.grus),
                tf.TensorSpec([None, w, d], tf.float32), tf.TensorSpec([None, w, units], tf.float32), *head[1:]]

    def use_xla(self, what: tuple) -> bool:
        """Whether ``what`` runs compiled by XLA now.

        Yes for the prompt reader and the loop, unless XLA is off or
        :meth:`prepare` is compiling them in the background and this one is not
        ready yet: then the plain graph (traced in a fraction of a second) runs
        meanwhile. Outside a preparation, the first call compiles it.
        """
        return self.jit_compile and what[0] in COMPILED and (what in self._xla_ready or not self._compiling)

    def _call(self, what: tuple, args: tuple, jit: bool | None = None):
        """Call the graph function ``what`` (see :meth:`_function`); without XLA if XLA cannot compile it."""
        jit = self.use_xla(what) if jit is None else jit and self.jit_compile
        try:
            out = self._function(what, jit)(*args)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as e:
            if not jit:
                raise
            log.warning("XLA could not compile %s (%s); running without XLA.", what[0], str(e)[:200])
            self.jit_compile = False
            return self._function(what, False)(*args)
        if jit:
            self._xla_ready.add(what)
        return out

    def _function(self, what: tuple, jit: bool):
        """The concrete function of ``("prefill",)``, ``("step",)``, ``("prime",)`` or ``("loop", filters, record)``.

        Traced on first use, whichever thread asks first; with ``jit`` (the
        prompt reader and the loop, see :meth:`use_xla`) compiled by XLA on its
        first call. Calling the concrete function skips tf.function's matching
        of the arguments to its traces, which costs more than a short chunk of steps.
        """
        key = (*what, jit)
        found = self._functions.get(key)
        if found is None:
            with self._functions_lock:
                if key not in self._functions:
                    fn, signature = self._graph(what)
                    traced = tf.function(fn, input_signature=signature, jit_compile=jit, autograph=False)
                    self._functions[key] = traced.get_concrete_function()
                found = self._functions[key]
        return found

    def _graph(self, what: tuple):
        """The Python function of ``what`` and its input signature."""
        scalar = tf.TensorSpec([], tf.int32)
        if what[0] == "prefill":
            return self._prefill_impl, [tf.TensorSpec([None, None], tf.int32)]
        if what[0] == "step":
            return self._step_impl, self._signature(tf.TensorSpec([None], tf.int32), scalar)
        if what[0] == "prime":
            return self._prime_impl, self._signature(tf.TensorSpec([None, BLOCK], tf.int32), scalar, scalar)
        _, filters, record = what
        v = self.config.vocab_size

        def loop(logits, states, keys, values, position, seen, uniforms, steps, banned, knobs):
            return self._loop_impl(filters, record, logits, states, keys, values, position, seen, uniforms, steps,
                                   banned, Knobs(*knobs))

        return loop, self._signature(
            tf.TensorSpec([None, v], tf.float32), scalar, tf.TensorSpec([None, v], tf.bool),
            tf.TensorSpec([CHUNK, None], tf.float64), scalar, tf.TensorSpec([v], tf.bool), Knobs.signature())

    def _empty_state(self, batch: int) -> DecoderState:
        """The state before any token: zero GRU states and an empty ring."""
        c = self.config
        return DecoderState([tf.zeros((batch, c.rnn_units)) for _ in self.grus],
                            tf.zeros((batch, self.window, c.attention_dim)),
                            tf.zeros((batch, self.window, c.rnn_units)), 0)

    # === Python API ===

    def run(self, run: "DecodingRun", steps: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Advance ``run`` by ``steps`` (1..CHUNK, or CHUNK - 1 after :meth:`DecodingRun.pick_first`) tokens per row.

        Returns the chosen tokens ``(steps, B)`` and, if the run records
        attention, each fed token's weights over the ring slots: ``(steps, B, W)``,
        with one more row first, the first token's, in the call after ``pick_first``.
        """
        first = int(run.first_pending)  # the token chosen by pick_first is fed (and its pick forced) first
        total = steps + first
        if not 1 <= steps <= CHUNK - first:
            raise ValueError(f"steps must be in 1..{CHUNK - first}; got {steps}")
        uniforms = np.zeros((CHUNK, run.batch), np.float64)
        if not run.filters.greedy:
            uniforms[:first] = 1.0  # (its logits allow that one token only)
            uniforms[first:total] = 1.0 - run.rng.random((steps, run.batch))  # in (0, 1], drawn in order
        state = run.state
        args = (run.logits, state.states, state.keys, state.values, tf.constant(state.position, tf.int32), run.seen,
                tf.constant(uniforms), tf.constant(total, tf.int32), run.banned, list(run.knobs))
        out = self._call(("loop", run.filters, run.record), args, run.jit)
        tokens, run.logits, states, keys, values, run.seen, weights = out
        run.state = DecoderState(list(states), keys, values, state.position + total)
        run.first_pending = False
        return tokens.numpy()[first:total], (weights.numpy()[:total] if run.record else None)

    def prepare(self, wait: bool = False) -> None:
        """Make the first generation fast, once, whichever thread asks first.

        Traces the prompt reader and the default options' loop as plain graphs
        (a fraction of a second), so a generation can start as soon as this
        returns; then compiles them with XLA on a background thread, the
        generations that start meanwhile running the plain graphs. ``wait``:
        return once that is done too (a benchmark's steady state).
        """
        with self._prepare_lock:
            if not self._prepared:
                self._compiling = self.jit_compile
                self._run_once(jit=False)
                self._prepared = True
                if self._compiling:
                    self._compiler = threading.Thread(target=self._compile, name="jupyter_llm-compile", daemon=True)
                    _background.keep(self._compiler)  # the exit waits for it (see _background)
                    self._compiler.start()
        if wait and self._compiler is not None:
            self._compiler.join()

    def _compile(self) -> None:
        try:
            self._run_once(jit=True)
        except Exception:  # noqa: BLE001 (the generation that needs it meets the error and reports it)
            log.debug("compiling the decoder with XLA failed", exc_info=True)
        finally:
            self._compiling = False

    def _run_once(self, jit: bool) -> None:
        """Run the prompt reader and the default options' loop once, on an empty state.

        The two at the same time (XLA compiles each on one core): the prompt
        reader on a thread of its own, the loop here.
        """
        primer = threading.Thread(target=self.prime, args=(np.zeros((1, 1), np.int32), jit),
                                  name="jupyter_llm-prepare-prime", daemon=True)
        primer.start()
        logits = np.zeros((1, self.config.vocab_size), np.float32)
        run = DecodingRun(self, logits, self._empty_state(1), [0], SamplingOptions(seed=0))
        run.jit = jit
        self.run(run, 1)
        primer.join()

    def prefill(self, tokens: np.ndarray) -> tuple[np.ndarray, DecoderState, np.ndarray]:
        """Read a batch of prompts ``(B, T)`` of equal length.

        Returns the logits of the next token ``(B, V)``, the decoder state, and
        the prompt's attention weights ``(B, T, T)``.
        """
        tokens = np.asarray(tokens, dtype=np.int32)
        logits, states, keys, values, weights = self._call(("prefill",), (tf.constant(tokens),))
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

    def prime(self, tokens: np.ndarray, jit: bool | None = None) -> tuple[tf.Tensor, DecoderState]:
        """Read a batch of prompts ``(B, T)`` of equal length, BLOCK tokens per call.

        The same states and ring as :meth:`prefill`, and the logits of the next
        token ``(B, V)``, without the prompt's attention weights (the whole
        ``(T, T)`` of them is what a long prompt's :meth:`prefill` spends its time on).
        """
        tokens = np.asarray(tokens, dtype=np.int32)
        batch, t = tokens.shape
        empty = self._empty_state(batch)
        states, keys, values, logits = empty.states, empty.keys, empty.values, None
        for start in range(0, t, BLOCK):
            block = np.zeros((batch, BLOCK), np.int32)
            count = min(BLOCK, t - start)
            block[:, :count] = tokens[:, start:start + count]
            logits, states, keys, values = self._call(("prime",), (
                tf.constant(block), states, keys, values, tf.constant(start, tf.int32), tf.constant(count, tf.int32)),
                jit)
        return logits, DecoderState(list(states), keys, values, t)

    def step(self, tokens: np.ndarray, state: DecoderState) -> tuple[np.ndarray, DecoderState, np.ndarray]:
        """Feed one token per row ``(B,)``.

        Returns the next-token logits ``(B, V)``, the new state and the attention
        weights of this step over the ring slots ``(B, W)``; slot ``s`` holds
        the absolute position ``p`` with ``p % W == s``.
        """
        logits, states, keys, values, weights = self._call(("step",), (
            tf.constant(np.asarray(tokens, dtype=np.int32)), state.states, state.keys, state.values,
            tf.constant(state.position, tf.int32)))
        return logits.numpy(), DecoderState(list(states), keys, values, state.position + 1), weights.numpy()

    def ring_to_absolute(self, ring_weights: np.ndarray, position: int) -> np.ndarray:
        """Map a step's weights over ring slots ``(W,)`` to positions ``0..position``."""
        out = np.zeros(position + 1, np.float32)
        first = max(0, position - self.window + 1)
        absolute = np.arange(first, position + 1)
        out[absolute] = ring_weights[absolute % self.window]
        return out


def _biases(cell):
    """A GRU cell's (``reset_after``) input and recurrent biases, ``(3 units,)`` each (0.0 without bias)."""
    return tf.unstack(cell.bias) if cell.use_bias else (0.0, 0.0)


def _project(cell, x, input_bias):
    """The inputs' part of a GRU step, ``x W + b`` ``(..., 3 units)``."""
    projected = tf.matmul(x, cell.kernel) if x.shape.rank == 2 else tf.einsum("bti,ig->btg", x, cell.kernel)
    return projected + input_bias


def _gru_step(cell, projected, h, recurrent_bias):
    """One step of ``keras.layers.GRUCell`` (``reset_after``) from the inputs' projection ``(B, 3 units)``.

    The cell's own arithmetic, written out: called through ``GRUCell.call`` inside
    the compiled loop, the same step cost about 45 us more at ``medium``.
    """
    units = cell.units
    inner = tf.matmul(h, cell.recurrent_kernel) + recurrent_bias
    z = cell.recurrent_activation(projected[:, :units] + inner[:, :units])
    r = cell.recurrent_activation(projected[:, units:2 * units] + inner[:, units:2 * units])
    candidate = cell.activation(projected[:, 2 * units:] + r * inner[:, 2 * units:])
    return z * h + (1 - z) * candidate


def _attend(attention, h, keys, values, valid):
    """The attention of the newest position over the ring: weights ``(B, W)`` and context ``(B, units)``.

    ``h`` ``(B, units)`` is the position's hidden state, ``valid`` ``(W,)`` the
    slots that hold a position. The products are written as a multiply and a
    sum rather than ``einsum``: XLA's CPU backend turns a batched matrix-vector
    ``einsum`` into a loop about three times slower (about 100 us a token at
    ``medium``, half of the step; see docs/benchmarks.md).
    """
    scores = tf.reduce_sum(keys * attention.queries(h)[:, None, :], axis=-1) * attention.scale  # (B, W)
    weights = tf.where(valid[None], tf.nn.softmax(tf.where(valid[None], scores, -1e9), axis=-1), 0.0)
    context = tf.reduce_sum(weights[:, :, None] * values, axis=1)  # (B, units)
    return weights, context


def _read_block(cell, x, state, count):
    """One GRU layer over the first ``count`` steps of a block ``x`` ``(B, BLOCK, in)``, from ``state``.

    The inputs' projections are made for the whole block in one matrix product
    before the recurrence, which is then left with one ``(B, units) x (units, 3 units)``
    product a step (:func:`_gru_step`). Returns the outputs ``(B, BLOCK, units)``
    (zeros after ``count``) and the state after step ``count``.
    """
    input_bias, recurrent_bias = _biases(cell)  # (split once, outside the recurrence)
    projected = tf.transpose(_project(cell, x, input_bias), [1, 0, 2])  # (BLOCK, B, 3u)
    outputs = tf.TensorArray(x.dtype, size=BLOCK, element_shape=state.shape)

    def body(t, h, outputs):
        h = _gru_step(cell, projected[t], h, recurrent_bias)
        return t + 1, h, outputs.write(t, h)

    _, state, outputs = tf.while_loop(lambda t, *_: t < count, body, (tf.constant(0), state, outputs))
    return tf.transpose(outputs.stack(), [1, 0, 2]), state


def _write_slot(ring, slot, row):
    """``ring`` ``(B, W, D)`` with ``ring[:, slot] = row`` (``row``: ``(B, D)``)."""
    rows = tf.range(tf.shape(ring)[0])
    return tf.tensor_scatter_nd_update(ring, tf.stack([rows, tf.fill(tf.shape(rows), slot)], axis=1), row)


class DecodingRun:
    """What the decoding loop carries between two calls of :meth:`Decoder.run`, for one generation."""

    def __init__(self, decoder: Decoder, logits: np.ndarray, state: DecoderState, seen_ids, options: SamplingOptions,
                 banned=(), record: bool = False) -> None:
        batch, vocab = (int(d) for d in logits.shape)
        self.batch = batch
        self.filters = Filters.of(options, vocab)
        self.knobs = Knobs.of(options, vocab)
        self.record = record
        self.rng = np.random.default_rng(options.seed)
        self.logits = tf.constant(logits, tf.float32)
        self.state = state
        self.options, self.seen_ids, self.banned_ids = options, seen_ids, list(banned)
        self.first_pending = False
        self.jit = decoder.use_xla(("loop", self.filters, record))  # one kind of loop for the whole generation
        seen = np.zeros((batch, vocab), bool)
        if self.filters.penalty:
            seen[:, np.asarray(seen_ids, np.int64)] = True
        self.seen = tf.constant(seen)
        mask = np.zeros(vocab, bool)
        mask[list(banned)] = True
        self.banned = tf.constant(mask)

    def pick_first(self) -> np.ndarray:
        """Choose each row's first token ``(B,)`` here, from the prompt's logits, without calling the loop.

        The first text then shows as soon as the prompt is read. The rule is
        the loop's (:class:`~jupyter_llm.generation.sampling.Sampler`, its numpy
        reference) and so is the draw (the run's first uniform per row). The
        next :meth:`Decoder.run` feeds this token first: its logits are set to
        allow it alone, so the loop's own pick of it is certain and draws nothing.
        """
        batch, vocab = (int(d) for d in self.logits.shape)
        sampler = Sampler(self.options, self.banned_ids)
        sampler.rng = self.rng  # the same stream of draws as the loop's, in order
        history = [np.asarray(self.seen_ids, np.int64)] * batch if self.filters.penalty else [()] * batch
        tokens = sampler(self.logits.numpy(), history)
        forced = np.full((batch, vocab), -np.inf, np.float32)
        forced[np.arange(batch), tokens] = 0.0
        self.logits = tf.constant(forced)
        self.first_pending = True
        return tokens
