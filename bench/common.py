"""What every engine of ``bench/bench.py`` shares: the spec, the tokens, clocks, memory, sampling.

This module imports numpy and jupyter_llm's tokenizer only (no TensorFlow, no
PyTorch), so each engine's process loads just its own framework.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator

import numpy as np


@dataclass
class Spec:
    """One benchmark run: identical for every engine."""

    # === Data ===
    corpus: str  # path of a UTF-8 text; a char tokenizer is fitted on all of it
    prompt_chars: int = 64  # the prompt is the corpus's first characters

    # === Model (from ModelConfig.from_size(size) and the corpus vocabulary) ===
    size: str = "small"
    vocab_size: int = 0
    embedding_dim: int = 64
    rnn_units: int = 256
    num_layers: int = 1
    attention_dim: int = 64
    window: int = 128
    dropout: float = 0.0
    seq_len: int = 128
    batch_size: int = 64
    learning_rate: float = 3e-3
    clipnorm: float = 1.0

    # === Budget ===
    train_seconds: float = 30.0  # wall-clock training budget, tracing included
    gen_tokens: int = 200  # tokens per row of each timed generation
    warmup_tokens: int = 16  # tokens of the untimed warm-up call before each batch size
    repeats: int = 3  # timed generations per batch size; the median is reported
    batches: tuple[int, ...] = (1, 8)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Spec":
        data = dict(data)
        data["batches"] = tuple(data.get("batches", (1, 8)))
        return cls(**data)


# === Tokens ===


def load_tokens(spec: Spec):
    """The corpus text, its char tokenizer (as ``jl.train`` fits it), ids ``(N,)`` and prompt ids."""
    from jupyter_llm.text.tokenizers import CharTokenizer

    with open(spec.corpus, encoding="utf-8") as f:
        text = f.read()
    tokenizer = CharTokenizer.fit([text])
    ids = tokenizer.encode(text).astype(np.int32)
    prompt = text[: spec.prompt_chars]
    return text, tokenizer, ids, prompt, tokenizer.encode(prompt).astype(np.int32)


def random_batch(ids: np.ndarray, seq_len: int, batch_size: int, rng: np.random.Generator):
    """``(inputs, targets)``, each ``(batch_size, seq_len)`` int64, from windows at random offsets."""
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]  # (B, T + 1)
    return windows[:, :-1].astype(np.int64), windows[:, 1:].astype(np.int64)


# === Sampling (the same rule as jupyter_llm.generation.sampling.Sampler at temperature 1) ===


def sample(logits: np.ndarray, rng: np.random.Generator, banned: int | None = 0) -> np.ndarray:
    """One token per row of ``logits`` ``(B, V)`` by inverse-CDF sampling; ``(B,)`` int32."""
    logits = np.asarray(logits, dtype=np.float64)
    if banned is not None:
        logits = logits.copy()
        logits[:, banned] = -np.inf  # jupyter_llm never samples <unk>
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z)
    cdf = np.cumsum(probs, axis=-1)
    cdf /= cdf[:, -1:]
    u = 1.0 - rng.random(probs.shape[0])[:, None]
    return (cdf < u).sum(axis=-1).astype(np.int32)


# === Memory ===


def memory_mib() -> dict[str, float]:
    """Resident set now and its peak (VmRSS, VmHWM) in MiB."""
    out: dict[str, float] = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":")
                    out["rss" if key == "VmRSS" else "peak"] = int(value.split()[0]) / 1024
    except OSError:  # not Linux: the peak since start only
        import resource
        import sys

        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
        out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    return out


def timed_gc() -> float:
    """Seconds a full ``gc.collect()`` takes: what is left behind by training, freed now, not during generation."""
    import gc

    start = time.perf_counter()
    gc.collect()
    return time.perf_counter() - start


def reset_peak_memory() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs``), so a phase's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# === Clocks ===


class StepClock:
    """Timestamps of training steps; the steady rate leaves out the warm-up steps.

    ``start`` is when the engine's training call began, so ``first_step_s``
    holds everything before the first update: model build, graph tracing, the
    first batch.
    """

    def __init__(self, running_mean: bool = False) -> None:
        self.start = time.perf_counter()
        self.times: list[float] = []
        self.losses: list[float] = []
        self.running_mean = running_mean  # Keras reports the epoch's running mean, not the batch loss

    def tick(self, loss: float | None = None) -> None:
        self.times.append(time.perf_counter())
        if loss is not None:
            self.losses.append(loss)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def summary(self, chars_per_step: int) -> dict[str, Any]:
        n = len(self.times)
        if n == 0:
            return {"steps": 0}
        warmup = min(5, n // 3) if n >= 4 else 1
        out: dict[str, Any] = {
            "steps": n,
            "chars_per_step": chars_per_step,
            "seconds": self.times[-1] - self.start,
            "first_step_s": self.times[0] - self.start,
            "warmup_steps": warmup,
            "overall_chars_per_s": n * chars_per_step / (self.times[-1] - self.start),
        }
        if n > warmup:
            span = self.times[-1] - self.times[warmup - 1]
            out["steady_chars_per_s"] = (n - warmup) * chars_per_step / span
            gaps = np.diff(self.times[warmup - 1 :])
            out["step_ms_median"] = float(np.median(gaps) * 1e3)
            out["step_ms_max"] = float(np.max(gaps) * 1e3)
            out["median_step_chars_per_s"] = chars_per_step / float(np.median(gaps))
        if self.losses:
            losses = np.asarray(self.losses, dtype=np.float64)
            if self.running_mean:  # mean_k = (l_1 + ... + l_k) / k  =>  l_k = k mean_k - (k - 1) mean_(k-1)
                k = np.arange(1, len(losses) + 1)
                losses = k * losses - np.concatenate([[0.0], (k[:-1]) * losses[:-1]])
            out["loss_first"] = float(losses[0])
            out["loss_last10"] = float(np.mean(losses[-10:]))
        return out


GenerateFn = Callable[[int, int, int], Iterator[int]]
"""``fn(n, max_tokens, seed)`` yields, after each step, how many new tokens (all rows) it made."""


def time_call(fn: GenerateFn, n: int, max_tokens: int, seed: int) -> dict[str, float]:
    """One generation: time to the first token, total time, tokens/s (prefill included)."""
    start = time.perf_counter()
    first = None
    made = 0
    for count in fn(n, max_tokens, seed):
        if first is None and count:
            first = time.perf_counter()
        made += count
    end = time.perf_counter()
    first = first if first is not None else end
    return {
        "ttft_s": first - start,
        "total_s": end - start,
        "tokens": made,
        "tokens_per_s": made / (end - start),
        "decode_tokens_per_s": (made - n) / (end - first) if end > first else float("nan"),
    }


def time_generation(fn: GenerateFn, spec: Spec, log: Callable[[str], None]) -> dict[str, Any]:
    """First call (cold), then per batch size a warm-up call and ``spec.repeats`` timed calls."""
    result: dict[str, Any] = {}
    first = time_call(fn, 1, spec.warmup_tokens, spec.seed)
    result["first_call"] = first
    log(f"first call: time to first token {first['ttft_s'] * 1e3:.0f} ms")
    for b in spec.batches:
        time_call(fn, b, spec.warmup_tokens, spec.seed)
        runs = [time_call(fn, b, spec.gen_tokens, spec.seed + r) for r in range(spec.repeats)]
        median = statistics.median(r["total_s"] for r in runs)
        best = min(runs, key=lambda r: abs(r["total_s"] - median))
        expected = b * spec.gen_tokens
        if any(r["tokens"] != expected for r in runs):
            raise RuntimeError(f"batch {b}: made {[r['tokens'] for r in runs]} tokens, expected {expected}")
        result[f"batch_{b}"] = {**best, "runs_total_s": [r["total_s"] for r in runs]}
        log(f"batch {b}: {best['tokens_per_s']:.0f} tokens/s, time to first token {best['ttft_s'] * 1e3:.1f} ms")
    return result


def loadavg() -> float | None:
    """The 1-minute load average: other work competing for the cores."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def threads() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
