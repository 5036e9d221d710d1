"""Choosing the next token from logits: greedy, temperature, top-k, top-p, repetition penalty.

Everything here is numpy over ``(batch_size, vocab_size)`` logits, so it needs no
model and is tested with fake logits over a tiny vocabulary.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .options import MAX_PENALTY, MIN_PENALTY, SamplingOptions  # noqa: F401 (re-exported)


def apply_repetition_penalty(logits: np.ndarray, history: Sequence[np.ndarray], penalty: float) -> np.ndarray:
    """CTRL's penalty: for tokens already seen, divide positive logits and multiply negative ones."""
    if penalty == 1.0:
        return logits
    logits = logits.copy()
    for row, seen in enumerate(history):
        if len(seen):
            ids = np.unique(seen)
            values = logits[row, ids]
            logits[row, ids] = np.where(values > 0, values / penalty, values * penalty)
    return logits


def filter_top_k(logits: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest logits of each row, set the others to -inf."""
    if k >= logits.shape[-1]:
        return logits
    kth = np.partition(logits, -k, axis=-1)[:, -k][:, None]
    return np.where(logits < kth, -np.inf, logits)


def filter_top_p(logits: np.ndarray, p: float) -> np.ndarray:
    """Nucleus filtering: keep the smallest set of tokens whose probability reaches p."""
    if p >= 1.0:
        return logits
    order = np.argsort(-logits, axis=-1)
    sorted_logits = np.take_along_axis(logits, order, axis=-1)
    probs = softmax(sorted_logits)
    cumulative = np.cumsum(probs, axis=-1)
    drop_sorted = cumulative - probs >= p  # the token that crosses p is kept
    drop = np.zeros_like(drop_sorted)
    np.put_along_axis(drop, order, drop_sorted, axis=-1)
    return np.where(drop, -np.inf, logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - np.max(logits, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - np.max(logits, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


class Sampler:
    """Picks the next token of each row; one instance per generation call."""

    def __init__(self, options: SamplingOptions, banned: Sequence[int] = ()) -> None:
        self.options = options
        self.banned = list(banned)
        self.rng = np.random.default_rng(options.seed)

    def process(self, logits: np.ndarray, history: Sequence[np.ndarray]) -> np.ndarray:
        """Logits ``(B, V)`` after penalties and filters (float64)."""
        o = self.options
        logits = np.asarray(logits, dtype=np.float64)
        if self.banned:
            logits = logits.copy()
            logits[:, self.banned] = -np.inf
        logits = apply_repetition_penalty(logits, history, o.repetition_penalty)
        if o.greedy:
            return logits
        # Shifted by the row's largest logit first, so a temperature near 0 tends to greedy
        # instead of overflowing to inf - inf (softmax does not change).
        with np.errstate(over="ignore", divide="ignore"):
            logits = (logits - np.max(logits, axis=-1, keepdims=True)) / o.temperature
        if o.top_k is not None:
            logits = filter_top_k(logits, o.top_k)
        if o.top_p is not None:
            logits = filter_top_p(logits, o.top_p)
        return logits

    def __call__(self, logits: np.ndarray, history: Sequence[np.ndarray]) -> np.ndarray:
        """The next token of each row, ``(B,)`` int32."""
        logits = self.process(logits, history)
        if self.options.greedy:
            return np.argmax(logits, axis=-1).astype(np.int32)
        probs = softmax(logits)
        # Inverse-CDF sampling with one uniform draw per row: reproducible for a seed.
        # u is in (0, 1]; the first token whose CDF reaches u always has p > 0.
        u = 1.0 - self.rng.random(probs.shape[0])[:, None]
        cdf = np.cumsum(probs, axis=-1)
        cdf /= cdf[:, -1:]
        return (cdf < u).sum(axis=-1).astype(np.int32)
