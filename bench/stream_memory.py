"""Issue #17.5: the resident memory of a streamed epoch does not grow with the corpus.

For each corpus size a corpus is written to a temporary folder (never the
checkout; deleted after its run) from a text of ``../shared/corpora`` (tiny
Shakespeare by default): every pass over the text is its lines in a new order
(a seeded shuffle) under a ``== pass N ==`` line, so the corpus never repeats
with a short period. A fresh Python process then streams one epoch over it,
while a thread samples its ``VmRSS`` (``/proc/self/status``) every 50 ms, so
each size's peak is its own.

Two modes:

* ``train`` (the default, the done-when of #17.5): ``jl.train(path, size="tiny",
  epochs=1, streaming=True, validation_split=0, progress=False,
  copy_index=False, ...)``: the char tokenizer fitted by streaming over the whole
  file, then one epoch: every full window of the file read, shuffled in the
  bounded buffer, batched and trained on (``steps_per_epoch`` is not given). The
  model is made cheap (``--model-options``) because on 2 CPU cores the training
  step, not the reading, sets the pace.
* ``pipeline``: the data side of that epoch alone, through the functions
  ``train`` streams with: ``fit_tokenizer("char", src.iter_chunks())`` and every
  batch of ``jupyter_llm.training.data.streaming_windows`` iterated once, no model.

Each run reports VmRSS at the start (TensorFlow and jupyter_llm imported), its
peak while the tokenizer is fitted (train mode: fitted and the model built and
compiled), its peak during the epoch, at the end, and its ``VmHWM`` (the
kernel's high-water mark of the process's resident memory: the peak compared;
``ru_maxrss`` is in the JSON too, but on Linux a child inherits its parent's);
then the same-run difference between the largest and the smallest corpus's
peaks. It exits 1 when that difference is over ``--max-growth-mb`` (300), or
when an epoch did not read the whole file.

$ python bench/stream_memory.py                          # 50M and 2G, train mode (about 75 min on 2 cores)
$ python bench/stream_memory.py --quick                  # 5M and 200M
$ python bench/stream_memory.py --mode pipeline --sizes 50M,2G --json out.json
$ python bench/stream_memory.py --cap-mb 1500            # a run whose VmRSS passes 1,500 MB is stopped (fails)

Sizes are binary: ``50M`` is 50 MiB, ``2G`` is 2 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}
MB = 2**20

#: The model of train mode: the tiny size made cheaper still, because 2 CPU cores train far slower than
#: they read. The attention is a full (batch, seq_len, seq_len) product, so seq_len stays moderate; a wide
#: batch makes the GRU's step-by-step loop run fewer times per token.
CHEAP_MODEL = {"embedding_dim": 8, "rnn_units": 8, "attention_dim": 8, "attention_window": 8,
               "seq_len": 64, "batch_size": 512, "seed": 0}

#: Windows and batches of pipeline mode: it has no model, and tf.data's generator costs about 70 us a window
#: whatever its length, so long windows read a corpus fastest (2 GiB in about 3 minutes).
PIPELINE_WINDOWS = {"seq_len": 1024, "batch_size": 256}

#: Exit status when the largest corpus's peak is over the smallest's by more than allowed, or an epoch stopped short.
FAILED = 1


# === Corpora ===


def parse_sizes(text: str) -> list[int]:
    """``"50M,2G"`` -> ``[52428800, 2147483648]`` bytes (binary units K, M, G; none: bytes)."""
    sizes = []
    for item in text.split(","):
        item = item.strip().upper().removesuffix("B")
        unit = item[-1:] if item[-1:] in UNITS and item[-1:] else ""
        number = item[: len(item) - len(unit)]
        try:
            value = float(number) * UNITS[unit]
        except ValueError:
            raise SystemExit(f"--sizes: expected sizes such as 50M,2G; received {text!r}") from None
        if value < 1:
            raise SystemExit(f"--sizes: expected positive sizes; received {text!r}")
        sizes.append(int(value))
    return sizes


def human(nbytes: float) -> str:
    """``52428800`` -> ``"50 MiB"``."""
    for unit, scale in (("GiB", 2**30), ("MiB", MB), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.4g} {unit}"
    return f"{int(nbytes)} B"


def write_corpus(path: str | os.PathLike, nbytes: int, source: str | os.PathLike = DEFAULT_SOURCE,
                 seed: int = 0) -> dict[str, int]:
    """Write about ``nbytes`` of text to ``path`` from ``source``'s lines; ``{"bytes", "chars", "passes"}``.

    Each pass is ``== pass N ==`` and then all of the source's lines in a new seeded order; the last pass
    stops at the line that brings the file to ``nbytes`` (so the file may be a line longer). Text only,
    written in pieces: memory stays at a few times the source's size.
    """
    text = Path(source).read_text("utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    encoded = [line.encode("utf-8") for line in lines]
    byte_len = np.array([len(b) for b in encoded], np.int64)
    char_len = np.array([len(s) for s in lines], np.int64)
    rng = np.random.default_rng(seed)
    written = chars = passes = 0
    with open(path, "wb") as f:
        while written < nbytes:
            header = f"== pass {passes} ==\n"
            order = rng.permutation(len(encoded))
            ends = np.cumsum(byte_len[order]) + len(header)
            take = len(order) if written + ends[-1] <= nbytes else int(np.searchsorted(ends, nbytes - written)) + 1
            take = min(take, len(order))
            f.write(header.encode("utf-8"))
            f.write(b"".join([encoded[i] for i in order[:take]]))
            written += int(ends[take - 1])
            chars += len(header) + int(char_len[order[:take]].sum())
            passes += 1
    return {"bytes": written, "chars": chars, "passes": passes}


# === Resident memory ===


def vm_status_mb(field: str = "VmRSS") -> float:
    """A memory line of ``/proc/self/status``, MiB: ``VmRSS`` (resident now) or ``VmHWM`` (its peak)."""
    key = field.encode() + b":"
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} line in /proc/self/status (Linux only)")


def vm_rss_mb() -> float:
    """This process's resident memory now, MiB."""
    return vm_status_mb("VmRSS")


def max_rss_mb() -> float:
    """``ru_maxrss``, MiB. On Linux it carries over a fork and exec: a child's is at least its parent's peak
    (a pytest process that has trained models: a GiB or more), which is why the peak compared is VmHWM."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """Samples VmRSS every ``interval`` seconds on a thread; ``mark(name)`` cuts the run into phases.

    ``cap_mb``: the moment VmRSS passes it, the process exits with status 3 (a memory limit that
    TensorFlow's large virtual reservations do not trip, unlike ``RLIMIT_AS``).
    """

    def __init__(self, interval: float = 0.05, cap_mb: float | None = None) -> None:
        self.interval, self.cap_mb = interval, cap_mb
        self.samples: list[float] = []  # MiB, one per interval (about 72,000 an hour: small)
        self.marks: dict[str, tuple[int, float]] = {}  # name -> (index of the next sample, VmRSS then)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> "RssSampler":
        self.samples.append(vm_rss_mb())
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(vm_rss_mb())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = vm_rss_mb()
            self.samples.append(rss)
            if self.cap_mb is not None and rss > self.cap_mb:
                sys.stderr.write(f"VmRSS {rss:.0f} MiB passed the cap of {self.cap_mb:.0f} MiB: stopped.\n")
                sys.stderr.flush()
                os._exit(3)

    def mark(self, name: str) -> float:
        """Record the start of a phase; VmRSS now, MiB."""
        rss = vm_rss_mb()
        self.samples.append(rss)
        self.marks[name] = (len(self.samples), rss)
        return rss

    def peak(self, start: str | None = None, end: str | None = None) -> float:
        """The largest sample between two marks (None: the first sample, the last), MiB."""
        a = self.marks[start][0] - 1 if start else 0
        b = self.marks[end][0] if end else len(self.samples)
        return max(self.samples[a:b])


# === One measurement (in the child process) ===


def expected_steps(n_tokens: int, seq_len: int, batch_size: int) -> int:
    """Batches in one streamed epoch over ``n_tokens``: full windows of ``seq_len + 1`` tokens overlapping by
    one (``(n_tokens - 1) // seq_len``), in full batches (the shuffled stream drops the last, partial one)."""
    return max(0, n_tokens - 1) // seq_len // batch_size


def measure(path: str, mode: str, model_options: dict[str, Any], n_tokens: int, cap_mb: float | None = None,
            trace: str | None = None, trace_every: int = 100, streaming: bool | None = True) -> dict[str, Any]:
    """Stream one epoch over ``path`` in this process; VmRSS by phase (MiB), steps, tokens and seconds.

    ``n_tokens``: the file's characters (the char tokenizer's tokens), to check the epoch read it all.
    ``trace``: append ``step  seconds  VmRSS MiB`` to this file every ``trace_every`` steps (written as
    it goes: a run stopped part-way leaves its curve). ``streaming``: train's argument (None: streamed when
    the file is over the threshold, ``JUPYTER_LLM_STREAM_THRESHOLD``).
    """
    import tensorflow as tf  # noqa: F401  (imported before "start", as a notebook has it)

    import jupyter_llm as jl

    seq_len, batch_size = int(model_options["seq_len"]), int(model_options["batch_size"])
    counts = {"steps": 0, "first_loss": None, "last_loss": None}
    log = open(trace, "a", encoding="utf-8") if trace else None

    def traced(step: int) -> None:
        if log is not None and step % trace_every == 0:
            log.write(f"{step}\t{time.perf_counter() - t0:.1f}\t{vm_rss_mb():.1f}\n")
            log.flush()

    with RssSampler(cap_mb=cap_mb) as rss:
        rss.mark("start")
        t0 = time.perf_counter()
        if mode == "train":

            def on_progress(event: Any) -> None:  # keeps counters only: a list of events would grow with the corpus
                if event.kind == "train_begin":
                    counts["fit_seconds"] = time.perf_counter() - t0
                    rss.mark("fitted")
                elif event.kind == "step":
                    counts["steps"] = max(counts["steps"], event.step)
                    counts["first_loss"] = counts["first_loss"] or event.loss
                    counts["last_loss"] = event.loss
                    traced(event.step)
                elif event.kind == "train_end":
                    rss.mark("epoch_end")

            lm = jl.train(path, size="tiny", epochs=1, streaming=streaming, validation_split=0, progress=False,
                          copy_index=False, on_progress=on_progress, **model_options)
            tokens_seen = int(lm.metadata["metrics"]["tokens_seen"])
            streamed = lm.metadata["corpus"]["train_tokens"] is None  # None: never encoded whole
            del lm
        elif mode == "pipeline":
            from jupyter_llm.text.sources import TextSource
            from jupyter_llm.text.tokenizers import fit_tokenizer
            from jupyter_llm.training.data import streaming_windows

            src = TextSource.from_any(Path(path))
            tok = fit_tokenizer("char", src.iter_chunks())
            counts["fit_seconds"] = time.perf_counter() - t0
            rss.mark("fitted")
            tokens_seen, streamed = 0, True
            for inputs, _targets in streaming_windows(src, tok, seq_len, batch_size, seed=0):
                counts["steps"] += 1
                traced(counts["steps"])
                tokens_seen += int(inputs.shape[0]) * int(inputs.shape[1])
            rss.mark("epoch_end")
        else:
            raise ValueError(f"mode: expected 'train' or 'pipeline'; received {mode!r}")
        seconds = time.perf_counter() - t0
        import gc

        gc.collect()
        rss.mark("end")
    if log is not None:
        log.close()
    steps_expected = expected_steps(n_tokens, seq_len, batch_size)
    return {
        "mode": mode,
        "streamed": streamed,
        "steps": counts["steps"],
        "steps_expected": steps_expected,
        "read_whole_file": streamed and counts["steps"] == steps_expected,
        "tokens_seen": tokens_seen,
        "tokens": n_tokens,
        "first_loss": counts["first_loss"],
        "last_loss": counts["last_loss"],
        "fit_seconds": round(counts.get("fit_seconds", float("nan")), 2),
        "seconds": round(seconds, 2),
        "rss_start_mb": round(rss.marks["start"][1], 1),
        "peak_fit_mb": round(rss.peak("start", "fitted"), 1),
        "rss_fitted_mb": round(rss.marks["fitted"][1], 1),
        "peak_epoch_mb": round(rss.peak("fitted", "epoch_end"), 1),
        "rss_end_mb": round(rss.marks["end"][1], 1),
        "peak_sampled_mb": round(rss.peak(), 1),
        # The kernel's high-water mark (its per-thread counters lag by a few pages: never below a sample).
        "peak_mb": round(max(vm_status_mb("VmHWM"), rss.peak()), 1),
        "ru_maxrss_mb": round(max_rss_mb(), 1),
        "samples": len(rss.samples),
    }


def run_child(path: str | os.PathLike, mode: str, model_options: dict[str, Any], n_tokens: int, *,
              home: str | os.PathLike, cap_mb: float | None = None, timeout: float | None = None,
              env: dict[str, str] | None = None, trace: str | None = None,
              streaming: bool | None = True) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter (its peaks its own); its result.

    ``home``: the child's ``JUPYTER_LLM_HOME`` (the run history goes there, not to the user's store).
    """
    with tempfile.NamedTemporaryFile("r", suffix=".json", dir=home, delete=False) as out:
        out_path = out.name
    child_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "JUPYTER_LLM_HOME": str(home),
                 "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                 **(env or {})}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), "--mode", mode,
               "--model-options", json.dumps(model_options), "--tokens", str(n_tokens), "--out", out_path]
    if cap_mb is not None:
        command += ["--cap-mb", str(cap_mb)]
    if trace is not None:
        command += ["--trace", trace]
    if streaming is None:
        command += ["--streaming", "auto"]
    try:
        done = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            why = "passed the memory cap" if done.returncode == 3 else f"exited with status {done.returncode}"
            raise RuntimeError(f"the measurement of {path} {why}:\n{done.stderr[-3000:]}")
        return json.loads(Path(out_path).read_text("utf-8"))
    finally:
        Path(out_path).unlink(missing_ok=True)


# === The benchmark (in the parent) ===


def run(sizes: list[int], mode: str, model_options: dict[str, Any], *, source: str | os.PathLike = DEFAULT_SOURCE,
        tmp: str | None = None, cap_mb: float | None = None, env: dict[str, str] | None = None,
        echo: bool = True, trace: str | None = None, streaming: bool | None = True) -> list[dict[str, Any]]:
    """Write each corpus, measure one epoch over it in a fresh process, delete it; one row per size.

    ``trace``: a path prefix; each size's VmRSS curve goes to ``{trace}-{size}.tsv`` (see :func:`measure`).
    """
    rows = []
    with tempfile.TemporaryDirectory(prefix="jl-stream-memory-", dir=tmp) as folder:
        home = Path(folder) / "home"
        home.mkdir()
        for size in sizes:
            path = Path(folder) / f"corpus-{size}.txt"
            t0 = time.perf_counter()
            written = write_corpus(path, size, source)
            write_seconds = time.perf_counter() - t0
            if echo:
                print(f"  {human(written['bytes'])} written in {write_seconds:.1f} s; measuring ...", flush=True)
            try:
                result = run_child(path, mode, model_options, written["chars"], home=home, cap_mb=cap_mb, env=env,
                                   trace=f"{trace}-{human(size).replace(' ', '')}.tsv" if trace else None,
                                   streaming=streaming)
            finally:
                path.unlink(missing_ok=True)
            rows.append({"size": size, "bytes": written["bytes"], **result})
            if echo:
                print("  " + row_text(rows[-1]), flush=True)
    return rows


def summary(rows: list[dict[str, Any]], max_growth_mb: float) -> dict[str, Any]:
    """The same-run growth of the peak, from the smallest corpus to the largest, and whether it passes."""
    small, large = min(rows, key=lambda r: r["bytes"]), max(rows, key=lambda r: r["bytes"])
    growth = large["peak_mb"] - small["peak_mb"]
    return {
        "growth_mb": round(growth, 1),
        "epoch_peak_growth_mb": round(large["peak_epoch_mb"] - small["peak_epoch_mb"], 1),
        "largest_corpus_over_peak": round(large["bytes"] / MB / large["peak_mb"], 3),
        "max_growth_mb": max_growth_mb,
        "all_read_whole_file": all(r["read_whole_file"] for r in rows),
        "passed": growth <= max_growth_mb and all(r["read_whole_file"] for r in rows),
    }


HEADER = ("corpus", "steps (expected)", "tokens seen", "fit s", "epoch s", "start", "fit peak", "after fit",
          "epoch peak", "end", "VmHWM", "corpus/VmHWM")


def row_text(r: dict[str, Any]) -> str:
    cells = row_cells(r)
    return ", ".join(f"{h}: {c}" for h, c in zip(HEADER, cells))


def row_cells(r: dict[str, Any]) -> list[str]:
    return [human(r["bytes"]), f"{r['steps']:,} ({r['steps_expected']:,})", f"{r['tokens_seen']:,}",
            f"{r['fit_seconds']:.1f}", f"{r['seconds'] - r['fit_seconds']:.1f}",
            *(f"{r[k]:,.0f}" for k in ("rss_start_mb", "peak_fit_mb", "rss_fitted_mb", "peak_epoch_mb",
                                          "rss_end_mb", "peak_mb")),
            f"{r['bytes'] / MB / r['peak_mb']:.3g}"]


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows (memory in MiB)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """The CPU model, core count and load averages (1, 5, 15 minutes) now."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50M,2G", help="corpus sizes, binary units (default 50M,2G)")
    parser.add_argument("--quick", action="store_true", help="sizes 5M,200M")
    parser.add_argument("--mode", choices=("train", "pipeline"), default="train")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="the text the corpora are made of")
    parser.add_argument("--model-options", default=None,
                        help=f"ModelConfig fields as JSON (default {json.dumps(CHEAP_MODEL)})")
    parser.add_argument("--max-growth-mb", type=float, default=300.0)
    parser.add_argument("--cap-mb", type=float, default=None, help="stop a run whose VmRSS passes this (MiB)")
    parser.add_argument("--tmp", default=None, help="folder for the corpora (default: the system's temp folder)")
    parser.add_argument("--json", default=None, help="write the rows and the summary here")
    parser.add_argument("--trace", default=None,
                        help="path prefix: each size's VmRSS every 100 steps to PREFIX-SIZE.tsv, as it goes")
    # === The child process ===
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--streaming", choices=("on", "auto"), default="on", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    defaults = CHEAP_MODEL if args.mode == "train" else {**CHEAP_MODEL, **PIPELINE_WINDOWS}
    options = {**defaults, **json.loads(args.model_options)} if args.model_options else dict(defaults)

    if args.child:
        result = measure(args.child, args.mode, options, args.tokens, cap_mb=args.cap_mb, trace=args.trace,
                         streaming=True if args.streaming == "on" else None)
        Path(args.out).write_text(json.dumps(result), "utf-8")
        return 0

    sizes = parse_sizes("5M,200M" if args.quick else args.sizes)
    before = machine()
    print(f"stream_memory: mode {args.mode}, sizes {', '.join(human(s) for s in sizes)}, model {json.dumps(options)}")
    print(f"machine: {before['cpu']}, {before['cores']} cores, load {before['load']}", flush=True)
    rows = run(sizes, args.mode, options, source=args.source, tmp=args.tmp, cap_mb=args.cap_mb, trace=args.trace)
    result = summary(rows, args.max_growth_mb)
    after = machine()
    print()
    print(table(rows))
    print()
    print(f"peak growth (VmHWM, largest - smallest corpus): {result['growth_mb']:+.1f} MiB "
          f"(epoch peak {result['epoch_peak_growth_mb']:+.1f} MiB); allowed {args.max_growth_mb:.0f} MiB")
    print(f"largest corpus / its peak resident memory: {result['largest_corpus_over_peak']:.2f}x")
    print(f"every epoch read the whole file: {result['all_read_whole_file']}")
    print(f"load average before {before['load']}, after {after['load']}")
    print("PASS" if result["passed"] else "FAIL")
    if args.json:
        Path(args.json).write_text(json.dumps({"command": sys.argv, "mode": args.mode, "model": options,
                                               "machine": {**before, "load_after": after["load"]},
                                               "rows": rows, "summary": result}, indent=1), "utf-8")
    return 0 if result["passed"] else FAILED


if __name__ == "__main__":
    sys.exit(main())
