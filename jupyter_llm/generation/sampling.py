"""Choosing the next token from logits: greedy, temperature, top-k, top-p, repetition penalty.

Everything here is numpy over ``(batch_size, vocab_size)`` logits, so it needs no
model and is tested with fake logits over a tiny vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import invalid


#: The range of ``repetition_penalty``: a logit divided or multiplied by more than this much
#: leaves a distribution where every seen (or every unseen) token is all but impossible.
MIN_PENALTY, MAX_PENALTY = 0.01, 100.0


@dataclass
class SamplingOptions:
    """Decoding options shared by ``generate``, ``stream`` and every surface."""

    max_tokens: int = 200
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    n: int = 1
    greedy: bool = False
    beam: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        elif self.stop is None:
            self.stop = []
        elif isinstance(self.stop, (list, tuple)):
            self.stop = list(self.stop)
        else:
            raise invalid("stop", "a non-empty string or a list of them", self.stop)
        _check_int("max_tokens", self.max_tokens, minimum=0)
        _check_int("n", self.n, minimum=1)
        if not _is_number(self.temperature) or self.temperature <= 0:
            raise invalid(
                "temperature",
                "a number > 0 (for greedy decoding, the most likely token each step, pass greedy=True)",
                self.temperature,
            )
        if self.top_k is not None:
            _check_int("top_k", self.top_k, minimum=1)
        if self.top_p is not None and (not _is_number(self.top_p) or not 0 < self.top_p <= 1):
            raise invalid("top_p", "a number in (0, 1]", self.top_p)
        if not _is_number(self.repetition_penalty) or not (MIN_PENALTY <= self.repetition_penalty <= MAX_PENALTY):
            raise invalid("repetition_penalty", f"a number from {MIN_PENALTY:g} to {MAX_PENALTY:g} "
                          "(1.0 means no penalty; above 1 discourages repeats)", self.repetition_penalty)
        for s in self.stop:
            if not isinstance(s, str) or not s:
                raise invalid("stop", "a non-empty string or a list of them", s)
        if self.seed is not None:
            _check_int("seed", self.seed, minimum=0)
        if self.beam is not None:
            _check_int("beam", self.beam, minimum=1)
            if self.n > self.beam:
                raise invalid("n", f"at most beam={self.beam} with beam search", self.n)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:  # not np.isfinite: it raises TypeError on an int past 64 bits
        return math.isfinite(float(value))
    except OverflowError:  # an int past the largest float
        return False


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise invalid(name, expected, value)


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
