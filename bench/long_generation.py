"""Does a token cost more late in a long generation than early in a short one? Side by side, one run.

    python bench/long_generation.py                 # about a minute on 2 cores
    python bench/long_generation.py --quick         # a smoke test
    python bench/long_generation.py --json bench/results/long_generation.json

For each setting (plain sampling; a repetition penalty with top-k and a stop
sequence that never comes, which exercise the seen-token mask and the text
assembler's holdback) it generates 500 tokens (median of ``--repeats`` calls),
then 20,000 tokens in one call, timing the stream's pieces. It prints the cost
per token of the short call, of the long call as a whole and of the long call's
last 2,000 tokens, and their ratios to the short call. Before the chunked
decoder, the last ratio was about 15 (3 ms a token after 50,000 tokens against
0.2 ms at the start), because every step decoded all the ids again and the
penalty rebuilt the whole history.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"

SETTINGS = {
    "plain": dict(),
    "penalty, top-k, stop": dict(repetition_penalty=1.2, top_k=20, stop=["\n\n\n\n\n\n\n\n"]),
}


def _model(size: str):
    import jupyter_llm as jl
    from jupyter_llm.text.tokenizers import CharTokenizer

    text = CORPUS.read_text(encoding="utf-8")[:300_000] if CORPUS.exists() else "To be, or not to be. " * 5000
    return jl.LanguageModel.build(jl.ModelConfig.from_size(size), CharTokenizer.fit(text))


def _timed_stream(lm, tokens: int, options: dict[str, Any]) -> tuple[float, list[tuple[float, int]]]:
    """Seconds of the whole call, and (time, tokens so far) after each piece."""
    from jupyter_llm.generation.generator import Trace

    trace = Trace()
    marks = []
    start = time.perf_counter()
    for _ in lm.stream("ROMEO:", max_tokens=tokens, seed=0, trace=trace, **options):
        marks.append((time.perf_counter() - start, len(trace.token_ids[0])))
    return time.perf_counter() - start, marks


def _tail_cost(marks: list[tuple[float, int]], tail: int) -> float:
    """Seconds per token over the last ``tail`` tokens (from the piece boundary nearest before them)."""
    end_time, end_tokens = marks[-1]
    before = [m for m in marks if m[1] <= end_tokens - tail] or [(0.0, 0)]
    start_time, start_tokens = before[-1]
    return (end_time - start_time) / max(1, end_tokens - start_tokens)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["tiny", "small", "medium"])
    parser.add_argument("--short", type=int, default=500)
    parser.add_argument("--long", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 2,000 tokens, 2 repeats")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.long, args.repeats = 2000, 2
    lm = _model(args.size)
    lm.prepare(wait=True)  # compiled with XLA before anything is timed
    load = [os.getloadavg()[0]]
    rows = []
    for name, options in SETTINGS.items():
        _timed_stream(lm, 50, options)  # compiles this setting's loop
        short = statistics.median(_timed_stream(lm, args.short, options)[0] for _ in range(args.repeats))
        whole, marks = _timed_stream(lm, args.long, options)
        made = marks[-1][1]
        tail = _tail_cost(marks, min(2000, made // 4))
        rows.append({"setting": name, "short_us": 1e6 * short / args.short, "long_us": 1e6 * whole / made,
                     "tail_us": 1e6 * tail, "long_tokens": made})
    load.append(os.getloadavg()[0])
    print(f"{lm!r}; load average {load[0]:.2f} at the start, {load[-1]:.2f} at the end")
    print(f"{'setting':<22} {args.short:>6}-token call  {args.long:>6}-token call  its last 2,000  "
          f"long / short  last / short")
    for r in rows:
        print(f"{r['setting']:<22} {r['short_us']:>11.1f} us  {r['long_us']:>12.1f} us  {r['tail_us']:>10.1f} us  "
              f"{r['long_us'] / r['short_us']:>11.2f}x  {r['tail_us'] / r['short_us']:>11.2f}x")
    result = {"model": repr(lm), "load_average": load, "rows": rows, "short": args.short, "long": args.long}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
