"""The two Keras engines of the benchmark.

* ``jupyter_llm``: ``jl.train`` and ``LanguageModel.stream`` as a user calls them.
* ``naive``: the same Keras model (``build_model``) trained with a plain
  ``model.fit`` on the same tf.data batches and no jupyter_llm callbacks, and
  generating the textbook way: the whole prefix through the model for every
  new token (``model.predict_on_batch``), so step ``i`` costs ``O(prompt + i)``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from common import Spec, StepClock, load_tokens, memory_mib, reset_peak_memory, sample, time_generation, timed_gc

#: Steps per epoch for a time-limited run: more than any budget here reaches.
MANY_STEPS = 10**6

#: Seconds between loading the trained model and the first generation (#13: "loaded at least 2 s earlier").
LOAD_PAUSE_S = 2.0


def _versions_and_threads() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    return {
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "threads": {
            "tf.intra_op (0 = one per core)": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf.inter_op (0 = automatic)": tf.config.threading.get_inter_op_parallelism_threads(),
        },
    }


def _config_overrides(spec: Spec) -> dict[str, Any]:
    return dict(seq_len=spec.seq_len, batch_size=spec.batch_size, attention_window=spec.window,
                learning_rate=spec.learning_rate, clipnorm=spec.clipnorm, dropout=spec.dropout)


# === jupyter_llm ===


def run_jupyter_llm(spec: Spec, log: Callable[[str], None]) -> dict[str, Any]:
    """``jl.train`` for ``spec.train_seconds``, then ``lm.stream`` at each batch size."""
    import jupyter_llm as jl

    result: dict[str, Any] = {"memory": {"after_import": memory_mib()}}
    events: list[Any] = []
    marks: dict[str, float] = {}

    def on_progress(event) -> None:
        if event.kind == "train_begin":  # tokenizer fitted, corpus encoded, model built and compiled
            marks["setup_s"] = clock.elapsed()
        elif event.kind == "step":
            clock.tick(event.loss)
            events.append(event)

    reset_peak_memory()
    clock = StepClock(running_mean=True)
    lm = jl.train(spec.corpus, epochs=1, steps_per_epoch=MANY_STEPS, time_limit=spec.train_seconds,
                  validation_split=0, size=spec.size, seed=spec.seed, progress=False, sample_tokens=0,
                  on_progress=on_progress, **_config_overrides(spec))
    result["train"] = clock.summary(spec.seq_len * spec.batch_size)
    result["train"]["call_s"] = clock.elapsed()  # jl.train from call to return
    result["train"].update(marks)
    result["train"]["reported_tokens_per_s"] = events[-1].tokens_per_second if events else None
    result["memory"]["train"] = memory_mib()
    result["parameters"] = lm.num_parameters
    if lm.config.vocab_size != spec.vocab_size:
        raise RuntimeError(f"jl.train fitted {lm.config.vocab_size} tokens, the benchmark {spec.vocab_size}")
    log(f"trained {result['train']['steps']} steps: {result['train'].get('steady_chars_per_s', 0):,.0f} chars/s")

    _, _, _, prompt, _ = load_tokens(spec)
    result["train"]["gc_after_s"] = timed_gc()
    # The "first call": a model loaded (which prepares its generation in the background) at
    # least LOAD_PAUSE_S before the process's first generation.
    with tempfile.TemporaryDirectory() as folder:
        lm.save(Path(folder) / "bench")
        started = time.perf_counter()
        lm = jl.load(Path(folder) / "bench")
        result["load_s"] = time.perf_counter() - started
    time.sleep(LOAD_PAUSE_S)

    calls = []

    def fn(n: int, max_tokens: int, seed: int) -> Iterator[int]:
        if calls:  # after the first call (as a user meets it), the steady state: compiled with XLA
            lm.prepare(wait=True)  # (the untimed warm-up call of each batch size waits, if anything does)
        calls.append(n)
        for piece in lm.stream(prompt, max_tokens=max_tokens, n=n, seed=seed):
            yield len(piece) if n == 1 else sum(len(p) for p in piece)  # char tokenizer: 1 char = 1 token

    reset_peak_memory()
    result["generate"] = time_generation(fn, spec, log)
    result["memory"]["generate"] = memory_mib()
    result.update(_versions_and_threads())
    result["versions"]["jupyter_llm"] = jl.__version__
    return result


# === Naive Keras ===


def run_naive(spec: Spec, log: Callable[[str], None]) -> dict[str, Any]:
    """Plain ``model.fit`` of the same model, then full-prefix generation."""
    import keras

    from jupyter_llm.config import ModelConfig
    from jupyter_llm.model.backbone import build_model
    from jupyter_llm.training.data import random_windows

    result: dict[str, Any] = {"memory": {"after_import": memory_mib()}}
    _, _, ids, _, prompt_ids = load_tokens(spec)

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.tick(float(logs["loss"]) if logs and "loss" in logs else None)
            if clock.elapsed() >= spec.train_seconds:
                self.model.stop_training = True

    reset_peak_memory()
    clock = StepClock(running_mean=True)
    config = ModelConfig.from_size(spec.size, vocab_size=spec.vocab_size, seed=spec.seed, **_config_overrides(spec))
    model = build_model(config)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batches = random_windows(ids, config.seq_len, config.batch_size, MANY_STEPS, spec.seed)
    model.fit(batches, epochs=1, steps_per_epoch=MANY_STEPS, callbacks=[Clock()], verbose=0)
    result["train"] = clock.summary(spec.seq_len * spec.batch_size)
    result["memory"]["train"] = memory_mib()
    result["parameters"] = int(model.count_params())
    log(f"trained {result['train']['steps']} steps: {result['train'].get('steady_chars_per_s', 0):,.0f} chars/s")

    def fn(n: int, max_tokens: int, seed: int) -> Iterator[int]:
        rng = np.random.default_rng(seed)
        tokens = np.repeat(prompt_ids[None, :], n, axis=0)  # (n, T)
        for _ in range(max_tokens):
            logits = model.predict_on_batch(tokens)[:, -1]  # (n, V): the whole prefix, every token
            new = sample(logits, rng)
            tokens = np.concatenate([tokens, new[:, None]], axis=1)
            yield n

    result["train"]["gc_after_s"] = timed_gc()
    reset_peak_memory()
    result["generate"] = time_generation(fn, spec, log)
    result["memory"]["generate"] = memory_mib()
    result.update(_versions_and_threads())
    return result
