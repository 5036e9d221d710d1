"""What makes a training step faster on a CPU without changing what is learned? Trials side by side, one run.

    python bench/train_trials.py                         # small and medium, about 15 minutes on 2 cores
    python bench/train_trials.py --sizes small --steps 20 --rounds 1   # a smoke test
    python bench/train_trials.py --json bench/results/train_trials.json

Every trial trains the same model (``build_model`` of the size, the corpus's
characters, Adam with clipping, the default ``seq_len`` and batch) on the same
random windows for ``--steps`` steps after ``--warmup`` steps, in a process of its
own (thread settings only take effect before TensorFlow starts). The trials run
in rounds, in a different order each round, so a neighbour's burst of load does
not favour one of them; the median step time over all rounds counts. Printed:
characters a second and the ratio to the baseline (the step ``jl.train`` takes
today: Keras ``fit``, no XLA, TensorFlow's default threads).

Trials:

* ``baseline``: as ``jl.train`` trains.
* ``xla``: ``compile(jit_compile=True)``, the whole step compiled by XLA.
* ``intra2-inter1`` and ``intra1-inter1``: TensorFlow's thread pools set by hand.
* ``unroll``: the GRU unrolled over the window (a fused graph, no while loop).
* ``bf16``: the ``mixed_bfloat16`` policy (fast only where the CPU has AVX-512 BF16 or AMX).
* ``in-memory batches``: the batches made before timing, so the input pipeline costs
  nothing (an upper bound on what a faster pipeline could give).
* ``no autotune`` and ``one pipeline thread``: the input pipeline as it is, with
  tf.data's autotuning off, or with a private pool of one thread (tf.data options),
  so that it competes less with the step for the two cores.

Printed besides: the first step's time (tracing included), which unrolling raises.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"

TRIALS = ["baseline", "xla", "intra2-inter1", "intra1-inter1", "unroll", "bf16", "in-memory batches", "no autotune",
          "one pipeline thread"]


def _child(trial: str, size: str, steps: int, warmup: int) -> dict[str, Any]:
    """Run one trial in this process; returns its step times."""
    if trial.startswith("intra"):
        intra, inter = (int(part[5:]) for part in trial.split("-"))
    sys.path.insert(0, str(ROOT))
    from jupyter_llm import _tf  # noqa: F401
    import keras
    import numpy as np
    import tensorflow as tf

    if trial.startswith("intra"):
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    if trial == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    from jupyter_llm.config import ModelConfig
    from jupyter_llm.model.backbone import build_model
    from jupyter_llm.text.tokenizers import CharTokenizer
    from jupyter_llm.training.data import random_windows

    text = CORPUS.read_text(encoding="utf-8")
    tok = CharTokenizer.fit(text)
    ids = tok.encode(text)
    config = ModelConfig.from_size(size, vocab_size=tok.vocab_size, seed=0)
    model = build_model(config)
    if trial == "unroll":
        for layer in model.layers:
            if isinstance(layer, keras.layers.GRU):
                layer.unroll = True
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=trial == "xla")
    total = steps + warmup
    batches = random_windows(ids, config.seq_len, config.batch_size, total, 0)
    if trial == "in-memory batches":
        made = list(batches)  # every batch made before timing
        batches = tf.data.Dataset.from_tensor_slices((np.stack([x for x, _ in made]), np.stack([y for _, y in made])))
    elif trial in ("no autotune", "one pipeline thread"):
        options = tf.data.Options()
        if trial == "no autotune":
            options.autotune.enabled = False
        else:
            options.threading.private_threadpool_size = 1
        batches = batches.with_options(options)
    times: list[float] = []
    losses: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t)
            losses.append(float(logs["loss"]) if logs and "loss" in logs else float("nan"))

    model.fit(batches, epochs=1, steps_per_epoch=total, callbacks=[Clock()], verbose=0)
    chars = config.seq_len * config.batch_size
    return {"trial": trial, "size": size, "step_s": times[warmup:], "first_step_s": times[0], "chars_per_step": chars,
            "last_loss": float(np.mean(losses[-5:])), "load": os.getloadavg()[0]}


def _run_child(trial: str, size: str, steps: int, warmup: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", trial, "--sizes", size, "--steps", str(steps),
                          "--warmup", str(warmup)], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"trial": trial, "size": size, "error": (out.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium")
    parser.add_argument("--trials", default=",".join(TRIALS))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.sizes, args.steps, args.warmup)))
        return
    trials = args.trials.split(",")
    results: list[dict[str, Any]] = []
    start_load = os.getloadavg()[0]
    for size in args.sizes.split(","):
        for r in range(args.rounds):
            order = trials if r % 2 == 0 else trials[::-1]
            for trial in order:
                res = _run_child(trial, size, args.steps, args.warmup)
                results.append(res)
                print(f"  {size} round {r + 1} {trial}: "
                      + (res["error"] if "error" in res else f"median step {1000 * statistics.median(res['step_s']):.0f} ms"),
                      flush=True)
    print(f"\nload average {start_load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(f"{'size':<7} {'trial':<18} {'chars/s':>9} {'vs baseline':>11} {'loss after':>10} {'first step':>10}")
    for size in args.sizes.split(","):
        def rate(trial: str) -> float | None:
            steps = [s for res in results if res["size"] == size and res["trial"] == trial and "error" not in res
                     for s in res["step_s"]]
            chars = next((res["chars_per_step"] for res in results if res["size"] == size and "chars_per_step" in res), 0)
            return chars / statistics.median(steps) if steps else None

        base = rate("baseline")
        for trial in trials:
            value = rate(trial)
            losses = [res["last_loss"] for res in results if res["size"] == size and res["trial"] == trial
                      and "last_loss" in res]
            errors = [res["error"] for res in results if res["size"] == size and res["trial"] == trial and "error" in res]
            if value is None:
                print(f"{size:<7} {trial:<18} {'failed':>9}  {errors[0] if errors else ''}")
                continue
            ratio = f"{value / base:.2f}x" if base else "-"
            first = statistics.median(res["first_step_s"] for res in results if res["size"] == size
                                      and res["trial"] == trial and "first_step_s" in res)
            print(f"{size:<7} {trial:<18} {value:>9,.0f} {ratio:>11} {statistics.mean(losses):>10.3f} {first:>9.1f}s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results, "load_start": start_load}, indent=1))


if __name__ == "__main__":
    main()
