"""How fast each size preset trains on this machine: measured once per process.

A measurement is a real ``jl.train`` of a few steps on a sample of the user's
text (or on synthetic text): the throughput is timed from the end of the first
step (which traces the model, once) for about a second and a half. The parameter
count of every preset comes from building it (no training). A preset that has
not been measured gets a throughput *scaled* from a measured one by the ratio
of their parameter counts, and says so.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

#: A measurement times steps after the first (which traces the model) for about
#: this many seconds, and at least MIN_TIMED_STEPS of them, at most MAX_STEPS in all.
MEASURE_SECONDS = 1.5
MIN_TIMED_STEPS = 3
MAX_STEPS = 200
#: Characters of the user's text a measurement trains on.
SAMPLE_CHARS = 100_000


@dataclass(frozen=True)
class SpeedEstimate:
    """The parameter count and training throughput of one size preset."""

    size: str
    parameters: int
    tokens_per_second: float | None
    measured: bool  # True: timed on this machine; False: scaled from a measured preset
    basis: str  # "measured", or "scaled from small"
    chars_per_token: float | None = None

    def seconds_per_epoch(self, tokens: float | None) -> float | None:
        """Seconds to train on ``tokens`` tokens at this throughput."""
        if tokens is None or not self.tokens_per_second:
            return None
        return tokens / self.tokens_per_second


_measured: dict[tuple, SpeedEstimate] = {}  # (size, seq_len, batch_size, tokenizer, sample) -> measured
_parameters: dict[tuple, dict[str, int]] = {}  # (seq_len, batch_size, tokenizer, sample) -> size -> count
_lock = threading.Lock()


def synthetic_text(chars: int = 60_000, seed: int = 0) -> str:
    """Word-like text of random letters: trains every tokenizer."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    words = []
    total = 0
    while total < chars:
        w = "".join(rng.choice(letters, size=int(rng.integers(1, 9))))
        words.append(w)
        total += len(w) + 1
    lines = [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
    return "\n".join(lines)


def sample_key(sample: str | None) -> str:
    if sample is None:
        return "synthetic"
    return hashlib.sha1(sample.encode("utf-8", "replace")).hexdigest()[:12]


def is_measured(size: str, seq_len: int, batch_size: int, tokenizer: str, sample: str | None) -> bool:
    with _lock:
        return (size, seq_len, batch_size, tokenizer, sample_key(sample)) in _measured


def measure(size: str, *, seq_len: int, batch_size: int, tokenizer: str = "char", sample: str | None = None,
            sizes: tuple[str, ...] | None = None, stop_event: threading.Event | None = None) -> dict[str, SpeedEstimate]:
    """Time ``size`` on this machine (once per process) and estimate every preset in ``sizes``.

    Returns ``{size: SpeedEstimate}``: measured for every preset timed so far
    with these settings, scaled from the measured preset of the nearest size
    for the others. Stopping through ``stop_event`` ends the measurement after
    the current step.
    """
    import jupyter_llm as jl

    sizes = tuple(sizes or jl.SIZES)
    key = (seq_len, batch_size, tokenizer, sample_key(sample))
    if not is_measured(size, seq_len, batch_size, tokenizer, sample):
        steps: list[tuple[int, float]] = []
        enough = threading.Event()

        def on_progress(event: Any) -> None:
            if event.kind == "step":
                steps.append((event.step, event.elapsed))
                timed = len(steps) - 1
                if (timed >= MIN_TIMED_STEPS and steps[-1][1] - steps[0][1] >= MEASURE_SECONDS) or (
                        stop_event is not None and stop_event.is_set()):
                    enough.set()

        text = sample if sample is not None else synthetic_text()
        lm = jl.train(text, tokenizer=tokenizer, size=size, seq_len=seq_len, batch_size=batch_size, epochs=1,
                      steps_per_epoch=MAX_STEPS, validation_split=0, progress=False, sample_tokens=0,
                      on_progress=on_progress, stop_event=enough)
        chars_per_token = (lm.metadata.get("corpus") or {}).get("chars_per_token")
        with _lock:
            params = dict(_parameters.get(key, {}))
        params[size] = lm.num_parameters
        for other in jl.SIZES:
            if other not in params:
                config = jl.ModelConfig.from_size(other, seq_len=seq_len, batch_size=batch_size)
                params[other] = jl.LanguageModel.build(config, lm.tokenizer).num_parameters
        with _lock:
            _parameters[key] = params
            if len(steps) > MIN_TIMED_STEPS and steps[-1][1] > steps[0][1]:
                (s0, t0), (s1, t1) = steps[0], steps[-1]
                tps = (s1 - s0) * seq_len * batch_size / (t1 - t0)
                _measured[(size, *key)] = SpeedEstimate(size, params[size], tps, True, "measured", chars_per_token)
    return estimates_for(sizes, key)


def estimates_for(sizes: tuple[str, ...], key: tuple) -> dict[str, SpeedEstimate]:
    """What is known for ``key``: measured presets as they are, the others scaled from the nearest measured one."""
    with _lock:
        params = _parameters.get(key, {})
        measured = {s: _measured[(s, *key)] for s in params if (s, *key) in _measured}
    out: dict[str, SpeedEstimate] = {}
    for size in sizes:
        if size in measured:
            out[size] = measured[size]
        elif size in params and measured:
            base = min(measured.values(), key=lambda m: abs(math.log(m.parameters / params[size])))
            scaled = base.tokens_per_second * base.parameters / params[size]
            out[size] = SpeedEstimate(size, params[size], scaled, False, f"scaled from {base.size}",
                                      base.chars_per_token)
        elif size in params:
            out[size] = SpeedEstimate(size, params[size], None, False, "not measured")
    return out
