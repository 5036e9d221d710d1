"""Side by side: jupyter_llm vs a PyTorch peer vs naive Keras generation, on one machine.

    python bench/bench.py                                  # a few minutes on 2 cores
    python bench/bench.py --quick --engines jupyter_llm,naive   # smoke test, no PyTorch needed
    python bench/bench.py --size tiny --train-seconds 60 --json bench/results/tiny.json

Each engine trains the same architecture (sizes from ``ModelConfig.from_size``
and the corpus's character vocabulary) for the same wall-clock budget on the
same kind of batches, then generates from the same prompt:

* ``jupyter_llm``: ``jl.train`` and ``LanguageModel.stream`` (incremental decoding);
* ``torch``: the model in PyTorch (``bench/torch_peer.py``), Adam + clipping,
  incremental decoding with the GRU state and a key/value ring, written lean
  (``LeanDecoder``: weights laid out once, in-place ring, sampling in torch);
  the plain ``nn.GRU``-step loop is timed too, as the "nn.GRU-step loop" rows;
* ``naive``: the same Keras model trained with a plain ``model.fit`` and
  generating by running the whole prefix again for every token.

Every engine runs in its own process, so its peak memory is its own. The table
shows absolute figures and the ratios jupyter_llm / peer; ``--json`` keeps all
the numbers. PyTorch is optional (``pip install torch==2.13.0``). On a machine
shared with other work, PyTorch's spinning OpenMP threads slow it down many
times over; ``--torch-omp-passive`` runs it with ``OMP_WAIT_POLICY=PASSIVE``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from jupyter_llm.config import SIZES, ModelConfig

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "tinyshakespeare.txt"
ENGINES = ("jupyter_llm", "torch", "naive")
TITLES = {"jupyter_llm": "jupyter_llm", "torch": "PyTorch", "naive": "naive Keras"}
TORCH_MISSING = "PyTorch not installed: pip install torch==2.13.0 (skipping the PyTorch column)"


# === The rows of the table: (label, path in an engine's result, scale, format, higher is better) ===

ROWS: list[tuple[str, tuple[str, ...], float, str, bool | None]] = [
    ("training chars/s, steady", ("train", "steady_chars_per_s"), 1, "{:,.0f}", True),
    ("training chars/s, median step", ("train", "median_step_chars_per_s"), 1, "{:,.0f}", True),
    ("training chars/s, whole run", ("train", "overall_chars_per_s"), 1, "{:,.0f}", True),
    ("time to first training step, s", ("train", "first_step_s"), 1, "{:.2f}", False),
    ("gc.collect() after training, s", ("train", "gc_after_s"), 1, "{:.2f}", False),
    ("generation tokens/s, batch 1", ("generate", "batch_1", "tokens_per_s"), 1, "{:,.0f}", True),
    ("generation tokens/s, batch 8", ("generate", "batch_8", "tokens_per_s"), 1, "{:,.0f}", True),
    ("time to first token, batch 1, ms", ("generate", "batch_1", "ttft_s"), 1e3, "{:.1f}", False),
    ("time to first token, batch 8, ms", ("generate", "batch_8", "ttft_s"), 1e3, "{:.1f}", False),
    ("time to first token, first call, ms", ("generate", "first_call", "ttft_s"), 1e3, "{:.0f}", False),
    # PyTorch only: its plain module loop (nn.GRU on one step, numpy sampling) beside the lean decoder above.
    ("nn.GRU-step loop tokens/s, batch 1", ("generate_nn_gru_step", "batch_1", "tokens_per_s"), 1, "{:,.0f}", None),
    ("nn.GRU-step loop tokens/s, batch 8", ("generate_nn_gru_step", "batch_8", "tokens_per_s"), 1, "{:,.0f}", None),
    ("memory after import, MiB", ("memory", "after_import", "rss"), 1, "{:,.0f}", False),
    ("peak memory, training, MiB", ("memory", "train", "peak"), 1, "{:,.0f}", False),
    ("peak memory, generation, MiB", ("memory", "generate", "peak"), 1, "{:,.0f}", False),
    ("peak memory, process, MiB", ("memory", "process_peak"), 1, "{:,.0f}", False),
    ("framework import, s", ("import_s",), 1, "{:.1f}", False),
    ("training steps in the budget", ("train", "steps"), 1, "{:,.0f}", None),
    ("training loss, mean of last 10 steps", ("train", "loss_last10"), 1, "{:.3f}", None),
    ("parameters", ("parameters",), 1, "{:,.0f}", None),
    ("load average at engine start", ("loadavg", "start"), 1, "{:.2f}", None),
    ("load average at engine end", ("loadavg", "end"), 1, "{:.2f}", None),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="UTF-8 text (default: tiny Shakespeare)")
    parser.add_argument("--size", default="small", choices=sorted(SIZES), help="a jupyter_llm size (default small)")
    parser.add_argument("--train-seconds", type=float, default=None,
                        help="training budget per engine (default 30)")
    parser.add_argument("--gen-tokens", type=int, default=None,
                        help="tokens per row of each timed generation (default 200)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed generations per batch size; the median counts (default 3)")
    parser.add_argument("--prompt-chars", type=int, default=64,
                        help="the prompt: this many characters of the corpus's start")
    parser.add_argument("--seq-len", type=int, default=None, help="training window (default: the size's)")
    parser.add_argument("--batch-size", type=int, default=None, help="training batch (default: the size's)")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, from {', '.join(ENGINES)}")
    parser.add_argument("--json", default=None, help="write every number to this file")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 5 s of training, short generations")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every engine this many times, in alternating order (A B, B A, ...); the table "
                             "shows each figure's median over the rounds and each ratio's median and range")
    parser.add_argument("--torch-omp-passive", action="store_true",
                        help="run PyTorch with OMP_WAIT_POLICY=PASSIVE: its OpenMP threads sleep instead of "
                             "spinning, which saves it when other work shares the cores")
    parser.add_argument("--parity", action="store_true",
                        help="also check that the PyTorch peer computes the Keras model's logits (needs torch)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spec", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.spec, args.out)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        parser.error(f"Invalid value for argument --engines. Expected names from {ENGINES}. "
                     f"Received: {args.engines}")
    for name, minimum in (("train_seconds", 0.5), ("gen_tokens", 2), ("repeats", 1), ("prompt_chars", 1),
                          ("seq_len", 2), ("batch_size", 1), ("rounds", 1)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            option = "--" + name.replace("_", "-")
            parser.error(f"Invalid value for argument {option}. Expected a number >= {minimum}. Received: {value}")
    if not Path(args.corpus).is_file():
        parser.error(f"Invalid value for argument --corpus. Expected a text file. Received: {args.corpus}")
    torch_ok = importlib.util.find_spec("torch") is not None
    if "torch" in engines and not torch_ok:
        print(TORCH_MISSING, flush=True)
        engines.remove("torch")

    spec = make_spec(args)
    machine = machine_facts()
    print(describe(machine, spec, engines), flush=True)

    results: dict[str, Any] = {}
    if args.parity:
        if torch_ok:
            results["parity"] = run_engine("parity", spec, args.torch_omp_passive)
        else:
            print(TORCH_MISSING.replace("the PyTorch column", "the parity check"), flush=True)
    rounds: list[dict[str, Any]] = []
    for r in range(args.rounds):
        order = engines if r % 2 == 0 else engines[::-1]  # neither engine always runs first
        if args.rounds > 1:
            print(f"\n=== round {r + 1} of {args.rounds}: {', '.join(order)} ===", flush=True)
        this: dict[str, Any] = {}
        for engine in order:
            load = _loadavg()
            if load and load[0] > machine["cores_usable"]:
                print(f"\nnote: the machine is busy (load average {load[0]} on {machine['cores_usable']} cores); "
                      "the figures will be noisy, PyTorch's the most (see --torch-omp-passive).", flush=True)
            this[engine] = run_engine(engine, spec, args.torch_omp_passive and engine == "torch")
        rounds.append(this)
    results.update(rounds[0] if len(rounds) == 1 else {e: median_result([r[e] for r in rounds]) for e in engines})
    machine["loadavg_end"] = _loadavg()

    print()
    print(table(results, engines))
    if len(rounds) > 1:
        print()
        print(round_ratios_table(rounds, engines))
    if "parity" in results:
        print()
        print(parity_line(results["parity"]))
    if args.json:
        report = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "machine": machine,
                  "spec": spec.to_dict(), "torch_omp_passive": args.torch_omp_passive,
                  "engines": {e: results[e] for e in engines}, "ratios": ratios(results, engines),
                  "parity": results.get("parity")}
        if len(rounds) > 1:
            report["rounds"] = rounds
            report["ratios_by_round"] = [ratios(r, engines) for r in rounds]
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0 if all("error" not in results[e] for e in engines) else 1


def make_spec(args: argparse.Namespace):
    sys.path.insert(0, str(HERE))
    from common import Spec, load_tokens

    quick = args.quick
    config = ModelConfig.from_size(args.size)
    spec = Spec(
        corpus=str(Path(args.corpus).resolve()), prompt_chars=args.prompt_chars, size=args.size,
        embedding_dim=config.embedding_dim, rnn_units=config.rnn_units, num_layers=config.num_layers,
        attention_dim=config.attention_dim, dropout=config.dropout,
        seq_len=args.seq_len or config.seq_len, batch_size=args.batch_size or config.batch_size,
        learning_rate=config.learning_rate, clipnorm=config.clipnorm,
        train_seconds=args.train_seconds if args.train_seconds is not None else (5.0 if quick else 30.0),
        gen_tokens=args.gen_tokens if args.gen_tokens is not None else (32 if quick else 200),
        repeats=args.repeats if args.repeats is not None else (1 if quick else 3),
        warmup_tokens=4 if quick else 16,
    )
    spec.window = config.attention_window or spec.seq_len
    _, tokenizer, _, _, prompt_ids = load_tokens(spec)
    spec.vocab_size = tokenizer.vocab_size
    spec.prompt_chars = len(prompt_ids)
    return spec


# === Running an engine in its own process ===


def run_engine(engine: str, spec, omp_passive: bool = False) -> dict[str, Any]:
    """Run ``engine`` in a fresh interpreter and return its result (or ``{"error": ...}``)."""
    print(f"\n--- {TITLES.get(engine, engine)} ---", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec.to_dict()), encoding="utf-8")
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
        if omp_passive:
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        start = time.perf_counter()
        # stderr (framework logs, tracebacks) is shown only when the engine fails.
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", engine,
                               "--spec", str(spec_path), "--out", str(out_path)],
                              env=env, stderr=subprocess.PIPE, text=True, errors="replace")
        wall = time.perf_counter() - start
        if out_path.is_file():
            result = json.loads(out_path.read_text(encoding="utf-8"))
        else:
            result = {"error": f"the {engine} process exited with status {proc.returncode} and no result"}
    result["process_s"] = wall
    if "error" in result:
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        print(f"{tail}\n{engine} failed: {result['error']}", flush=True)
    return result


def worker(engine: str, spec_path: str, out_path: str) -> int:
    """In the engine's own process: run it and write its result as JSON."""
    start = time.perf_counter()
    sys.path.insert(0, str(HERE))

    def log(message: str) -> None:
        print(f"[{engine} {time.perf_counter() - start:6.1f} s] {message}", flush=True)

    from common import Spec, loadavg, memory_mib

    load_start = loadavg()
    spec = Spec.from_dict(json.loads(Path(spec_path).read_text(encoding="utf-8")))
    try:
        t = time.perf_counter()
        if engine == "jupyter_llm" or engine == "naive":
            import keras  # noqa: F401  (timed: the framework's import cost)
            import tensorflow  # noqa: F401

            import keras_engines as module
        else:
            import torch  # noqa: F401

            import torch_peer as module
        import_s = time.perf_counter() - t
        log(f"imported in {import_s:.1f} s")
        if engine == "parity":
            result = module.check_parity(spec, log)
        elif engine == "jupyter_llm":
            result = module.run_jupyter_llm(spec, log)
        elif engine == "naive":
            result = module.run_naive(spec, log)
        else:
            result = module.run(spec, log)
        result["import_s"] = import_s
        phases = result.get("memory")
        if phases:
            phases["process_peak"] = max(m.get("peak", 0.0) for m in phases.values())
    except Exception as e:  # reported in the table, not a crash of the whole benchmark
        traceback.print_exc()
        result = {"error": f"{type(e).__name__}: {e}"}
    result["memory_end"] = memory_mib()
    result["loadavg"] = {"start": load_start, "end": loadavg()}
    Path(out_path).write_text(json.dumps(result, default=float), encoding="utf-8")
    return 0 if "error" not in result else 1


# === Reporting ===


def _get(result: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) else None


def ratios(results: dict[str, Any], engines: list[str]) -> dict[str, dict[str, float]]:
    """``{row label: {"jupyter_llm / PyTorch": x, ...}}`` for every comparable row."""
    out: dict[str, dict[str, float]] = {}
    if "jupyter_llm" not in engines:
        return out
    for label, path, _, _, higher in ROWS:
        if higher is None:
            continue
        ours = _get(results["jupyter_llm"], path)
        for peer in engines:
            theirs = _get(results[peer], path) if peer != "jupyter_llm" else None
            if ours is not None and theirs:
                out.setdefault(label, {})[f"jupyter_llm / {TITLES[peer]}"] = ours / theirs
    return out


def median_result(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One engine's figures over several rounds: each row of the table is its median over the rounds."""
    out: dict[str, Any] = {"rounds": len(results)}
    for _, path, _, _, _ in ROWS:
        values = [v for v in (_get(r, path) for r in results) if v is not None]
        if not values:
            continue
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = statistics.median(values)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        out["error"] = "; ".join(errors)
    return out


def round_ratios_table(rounds: list[dict[str, Any]], engines: list[str]) -> str:
    """For every comparable row: jupyter_llm / peer in each round, their median and range."""
    by_round = [ratios(r, engines) for r in rounds]
    lines = [f"ratios round by round (jupyter_llm / peer; {len(rounds)} rounds, alternating order):"]
    for label, _, _, _, higher in ROWS:
        if higher is None:
            continue
        for pair in sorted({p for r in by_round for p in r.get(label, {})}):
            values = [r[label][pair] for r in by_round if pair in r.get(label, {})]
            lines.append(f"  {label} ({pair}): median {statistics.median(values):.2f}x, "
                         f"range {min(values):.2f}-{max(values):.2f}x; " + ", ".join(f"{v:.2f}" for v in values))
    return "\n".join(lines)


def table(results: dict[str, Any], engines: list[str]) -> str:
    """The figures of every engine side by side, then jupyter_llm / peer for each comparable row."""
    peers = [e for e in engines if e != "jupyter_llm"] if "jupyter_llm" in engines else []
    rows = [["figure", "better", *[TITLES[e] for e in engines], *[f"jl / {TITLES[p]}" for p in peers]]]
    for label, path, scale, fmt, higher in ROWS:
        cells = [label, {True: "higher", False: "lower", None: ""}[higher]]
        cells += ["-" if v is None else fmt.format(v * scale) for v in (_get(results[e], path) for e in engines)]
        for p in peers:
            ours, theirs = _get(results["jupyter_llm"], path), _get(results[p], path)
            cells.append(f"{ours / theirs:.2f}x" if higher is not None and ours is not None and theirs else "")
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if peers:
        lines.append("jl / peer above 1x: jupyter_llm is faster on 'higher' rows, slower or bigger on 'lower' rows.")
    lines += [f"{TITLES[e]} failed: {results[e]['error']}" for e in engines if "error" in results[e]]
    return "\n".join(lines)


def parity_line(parity: dict[str, Any]) -> str:
    if "error" in parity:
        return f"parity check failed: {parity['error']}"
    return (f"parity (same weights in Keras and torch): parameters {parity['keras_parameters']:,} vs "
            f"{parity['torch_parameters']:,}; largest logit difference {parity['max_abs_diff_forward']:.1e} "
            f"(full forward), {parity['max_abs_diff_incremental']:.1e} (torch nn.GRU step vs Keras full), "
            f"{parity.get('max_abs_diff_lean', float('nan')):.1e} (torch lean decoder vs Keras full; <unk> "
            f"{'banned' if parity.get('lean_unk_banned') else 'NOT banned'}), largest logit "
            f"{parity['logit_scale']:.2f}; torch samplers vs the exact distribution (total variation, "
            f"200,000 draws): inverse-CDF {parity.get('sampler_inverse_cdf_tv_distance', float('nan')):.4f}, "
            f"multinomial {parity.get('sampler_multinomial_tv_distance', float('nan')):.4f}, <unk> drawn "
            f"{parity.get('sampler_inverse_cdf_unk_drawn', 0) + parity.get('sampler_multinomial_unk_drawn', 0)} times")


# === Machine facts ===


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as f:
            memory = round(int(next(line for line in f if line.startswith("MemTotal")).split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    tf = _version("tensorflow") or _version("tensorflow-cpu")
    return {
        "cpu": cpu, "cores_usable": cores, "os_cpu_count": os.cpu_count(), "memory_gib": memory,
        "platform": platform.platform(), "python": platform.python_version(),
        "versions": {"jupyter_llm": _version("jupyter_llm"), "tensorflow": tf, "keras": _version("keras"),
                     "torch": _version("torch"), "numpy": _version("numpy")},
        "loadavg_start": _loadavg(),
    }


def describe(machine: dict[str, Any], spec, engines: list[str]) -> str:
    v = machine["versions"]
    return "\n".join([
        f"machine: {machine['cpu']}, {machine['cores_usable']} usable cores, {machine['memory_gib']} GiB, "
        f"load average {machine['loadavg_start']}",
        f"python {machine['python']}, jupyter_llm {v['jupyter_llm']}, tensorflow {v['tensorflow']}, "
        f"keras {v['keras']}, torch {v['torch'] or '(not installed)'}, numpy {v['numpy']}",
        f"model: size {spec.size}, vocab {spec.vocab_size}, embedding {spec.embedding_dim}, "
        f"{spec.num_layers}x GRU({spec.rnn_units}), attention dim {spec.attention_dim}, window {spec.window}",
        f"training: seq_len {spec.seq_len}, batch {spec.batch_size}, {spec.train_seconds:g} s per engine; "
        f"generation: prompt {spec.prompt_chars} tokens, {spec.gen_tokens} tokens per row, "
        f"median of {spec.repeats}, batches {list(spec.batches)}",
        f"engines: {', '.join(TITLES[e] for e in engines)}",
    ])


if __name__ == "__main__":
    sys.exit(main())
