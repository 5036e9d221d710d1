"""Small costs a user feels at once, each measured side by side with a baseline in one run.

    python bench/micro.py            # a few seconds
    python bench/micro.py --quick    # a smoke test: fewer repeats, smaller texts
    python bench/micro.py --json bench/results/micro.json

* ``%load_ext jupyter_llm`` in a fresh interpreter, against starting the IPython
  shell it loads into (the ratio is what loading adds to a kernel's start; it
  must stay well under a second because the extension imports no TensorFlow);
* ``CharTokenizer`` encoding and decoding a text of a million characters,
  against the plain Python way (a dict lookup per character and a join).

The speed claims that used to live in tests as thresholds ("``%load_ext`` under
0.5 s", "a million characters under a second") live here, where a shared and
noisy machine can't make a test fail; docs/benchmarks.md records every run with
its load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent

SHELL_ONLY = """
import time
t = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
print(time.perf_counter() - t)
"""

SHELL_AND_LOAD_EXT = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
t = time.perf_counter()
shell.run_line_magic("load_ext", "jupyter_llm")
seconds = time.perf_counter() - t
assert "tensorflow" not in sys.modules, "%load_ext imported TensorFlow"
print(seconds)
"""


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _in_fresh_python(code: str, home: str) -> float:
    """Seconds printed by ``code`` run in a new interpreter (a private IPython dir, no user config)."""
    # No warm-up thread: it would start importing TensorFlow while the check below looks for it.
    env = {**os.environ, "IPYTHONDIR": home, "TF_CPP_MIN_LOG_LEVEL": "3", "JUPYTER_LLM_WARM_UP": "0"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         env=env, check=True, timeout=300)
    return float(out.stdout.strip().splitlines()[-1])


def load_ext(repeats: int, home: str) -> dict[str, Any]:
    """Median seconds of starting an IPython shell, and of ``%load_ext jupyter_llm`` in it, interleaved."""
    shell, ext = [], []
    for _ in range(repeats):
        shell.append(_in_fresh_python(SHELL_ONLY, home))
        ext.append(_in_fresh_python(SHELL_AND_LOAD_EXT, home))
    return {"shell_start_s": statistics.median(shell), "load_ext_s": statistics.median(ext),
            "ratio": statistics.median(ext) / statistics.median(shell), "repeats": repeats}


def _best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def tokenizer(chars: int, repeats: int) -> dict[str, Any]:
    """Characters per second of CharTokenizer encode+decode vs a dict lookup per character and a join."""
    import numpy as np

    from jupyter_llm import datasets
    from jupyter_llm.text import CharTokenizer

    base = datasets.load("shakespeare")
    text = (base * (chars // len(base) + 1))[:chars]
    tok = CharTokenizer.fit([text])
    stoi = {tok.id_to_token(i): i for i in range(1, tok.vocab_size)}
    itos = [tok.id_to_token(i) for i in range(tok.vocab_size)]

    def ours() -> None:
        assert tok.decode(tok.encode(text)) == text

    def plain() -> None:
        ids = np.fromiter((stoi.get(c, 0) for c in text), dtype=np.int32, count=len(text))
        assert "".join(itos[i] for i in ids.tolist()) == text

    a, b = _best(ours, repeats), _best(plain, repeats)
    return {"chars": chars, "jupyter_llm_chars_per_s": chars / a, "plain_python_chars_per_s": chars / b,
            "ratio": b / a, "repeats": repeats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 repeat, 100k characters")
    parser.add_argument("--json", default=None, help="write every number to this file")
    args = parser.parse_args(argv)
    import tempfile

    start_load = _loadavg()
    with tempfile.TemporaryDirectory() as home:
        results = {
            "load_ext": load_ext(1 if args.quick else 5, home),
            "tokenizer": tokenizer(100_000 if args.quick else 1_000_000, 1 if args.quick else 5),
        }
    results["loadavg"] = {"start": start_load, "end": _loadavg()}
    le, tk = results["load_ext"], results["tokenizer"]
    print(f"load average {start_load} at start, {results['loadavg']['end']} at end")
    print(f"{'':44}{'jupyter_llm':>14}{'baseline':>14}{'ratio':>8}")
    print(f"{'%load_ext jupyter_llm vs IPython start, s':44}{le['load_ext_s']:>14.3f}{le['shell_start_s']:>14.3f}"
          f"{le['ratio']:>8.2f}")
    print(f"{'char tokenizer round trip, Mchars/s':44}{tk['jupyter_llm_chars_per_s'] / 1e6:>14.2f}"
          f"{tk['plain_python_chars_per_s'] / 1e6:>14.2f}{tk['ratio']:>8.2f}")
    print("(ratio: load_ext / IPython start, lower is better; tokenizer: speed-up over plain Python, higher is better)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
