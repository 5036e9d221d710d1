"""Choosing the next token inside the compiled decoding loop (TensorFlow ops).

The same rule as :class:`jupyter_llm.generation.sampling.Sampler`, the numpy
reference it is tested against: banned tokens (``<unk>``) never, the
repetition penalty on every token seen so far, then (unless greedy) the
temperature, top-k, top-p and inverse-CDF sampling with one uniform draw per
row. The draws come from the caller (a seeded numpy generator, consumed in
order), so a seed gives the same text however the steps are split into calls.

The arithmetic is in float64, like the reference: a temperature near 0 then
tends to greedy instead of overflowing.

Which filters run is fixed when the loop is compiled (:class:`Filters`): a
filter that is off costs nothing, and a vocabulary is sorted only when top-k
or top-p asks for it.
"""

from __future__ import annotations

from typing import NamedTuple

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import tensorflow as tf

from .sampling import SamplingOptions


class Filters(NamedTuple):
    """The parts of the rule that are compiled in (one compiled loop per combination in use)."""

    greedy: bool
    top_k: bool
    top_p: bool
    penalty: bool

    @classmethod
    def of(cls, options: SamplingOptions, vocab_size: int) -> "Filters":
        greedy = options.greedy
        top_k = options.top_k is not None and options.top_k < vocab_size  # k >= V keeps every token: no sort
        return cls(greedy, not greedy and top_k, not greedy and options.top_p is not None,
                   options.repetition_penalty != 1.0)


class Knobs(NamedTuple):
    """The values of the rule, passed at run time (so a new temperature compiles nothing)."""

    temperature: tf.Tensor  # () float64
    top_k: tf.Tensor  # () int32, >= 1
    top_p: tf.Tensor  # () float64
    penalty: tf.Tensor  # () float64

    @classmethod
    def of(cls, options: SamplingOptions, vocab_size: int) -> "Knobs":
        return cls(tf.constant(options.temperature, tf.float64),
                   tf.constant(min(options.top_k or vocab_size, vocab_size), tf.int32),
                   tf.constant(options.top_p if options.top_p is not None else 1.0, tf.float64),
                   tf.constant(options.repetition_penalty, tf.float64))

    @staticmethod
    def signature() -> list[tf.TensorSpec]:
        return [tf.TensorSpec([], tf.float64), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float64),
                tf.TensorSpec([], tf.float64)]


def process(logits, seen, banned, knobs: Knobs, filters: Filters):
    """Logits ``(B, V)`` float32 -> the filtered float64 logits the token is drawn from."""
    neg_inf = tf.constant(-float("inf"), tf.float64)
    logits = tf.where(banned[None, :], neg_inf, tf.cast(logits, tf.float64))
    if filters.penalty:  # CTRL's penalty: divide positive logits of seen tokens, multiply negative ones
        p = knobs.penalty
        logits = tf.where(seen, tf.where(logits > 0, logits / p, logits * p), logits)
    if filters.greedy:
        return logits
    logits = (logits - tf.reduce_max(logits, axis=-1, keepdims=True)) / knobs.temperature
    if filters.top_k or filters.top_p:
        ordered = tf.sort(logits, axis=-1, direction="DESCENDING")
        if filters.top_k:  # keep the k largest (and any tied with the k-th)
            kth = tf.gather(ordered, knobs.top_k - 1, axis=-1)[:, None]
            logits = tf.where(logits < kth, neg_inf, logits)
            ordered = tf.where(ordered < kth, neg_inf, ordered)
        if filters.top_p:  # the smallest set of most likely tokens whose probability reaches p
            probs = tf.nn.softmax(ordered, axis=-1)
            kept = tf.cumsum(probs, axis=-1) - probs < knobs.top_p  # the token that crosses p is kept
            floor = tf.reduce_min(tf.where(kept, ordered, float("inf")), axis=-1, keepdims=True)
            logits = tf.where(logits < floor, neg_inf, logits)
    return logits


def pick(logits, uniform, filters: Filters):
    """The next token of each row ``(B,)`` int32; ``uniform`` ``(B,)`` float64 in (0, 1]."""
    if filters.greedy:
        return tf.argmax(logits, axis=-1, output_type=tf.int32)
    probs = tf.nn.softmax(logits, axis=-1)
    cdf = tf.cumsum(probs, axis=-1)
    cdf = cdf / cdf[:, -1:]
    # The first token whose CDF reaches u; it always has p > 0, because u > 0.
    below = tf.cast(cdf < uniform[:, None], tf.int32)
    return tf.minimum(tf.reduce_sum(below, axis=-1), tf.shape(logits)[-1] - 1)
