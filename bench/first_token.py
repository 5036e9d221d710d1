"""The wait for a fresh kernel's first ``%%generate`` text, with and without the warm-up (#13).

    python bench/first_token.py                    # four fresh kernels, a minute or two
    python bench/first_token.py --repeat 3         # three rounds, interleaved: medians
    python bench/first_token.py --json bench/results/first_token.json

Each run starts a fresh ``python3`` kernel (``jupyter_client``, the way
JupyterLab does), runs ``%load_ext jupyter_llm``, then (or not) a pause cell
(``time.sleep(5)``: a user reading, typing a prompt), then
``%%generate -n 50 --seed 0`` with a prompt, and reads the kernel's messages as
they come. Times are the kernel's own message timestamps, from the
generate cell's ``execute_input`` (the cell starting) to:

* the first waiting note (``loading TensorFlow…``, the output that replaces a silent ``[*]``);
* the first generated text (the first output of the cell with text in it);
* the cell's end (all 50 tokens).

Side by side, in one run: the warm-up on and off (``JUPYTER_LLM_WARM_UP=0``),
each with the pause (the target: first text within 1.5 s with the warm-up on)
and without it. The model is the bundled default (``shakespeare``); the store is a
temporary folder. docs/benchmarks.md records the runs with their load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from typing import Any

PROMPT = "ROMEO:"
TARGET_S = 1.5

#: (label, warm-up on, pause seconds)
SCENARIOS = (("warm-up on, 5 s pause", True, 5.0), ("warm-up off, 5 s pause", False, 5.0),
             ("warm-up on, no pause", True, 0.0), ("warm-up off, no pause", False, 0.0))


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _when(msg: dict[str, Any]) -> float:
    """A message's kernel-side timestamp, in seconds since the epoch."""
    date = msg["header"]["date"]
    return (date if isinstance(date, datetime) else datetime.fromisoformat(str(date))).timestamp()


def execute(client, code: str, timeout: float = 600) -> list[dict[str, Any]]:
    """Run one cell; its iopub messages, in order, up to its ``idle``."""
    msg_id = client.execute(code)
    messages = []
    deadline = time.monotonic() + timeout
    while True:
        msg = client.get_iopub_msg(timeout=max(1.0, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "error":
            raise RuntimeError(f"the cell {code.splitlines()[0]!r} failed: {msg['content']['evalue']}")
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def timings(messages: list[dict[str, Any]]) -> dict[str, float | None]:
    """Seconds from the cell's ``execute_input`` to its first note, its first text and its end."""
    start = next(_when(m) for m in messages if m["msg_type"] == "execute_input")
    note = text = None
    for m in messages:
        kind = m["msg_type"]
        if kind in ("display_data", "update_display_data"):
            meta = m["content"]["metadata"].get("jupyter_llm", {})
            if meta.get("kind") == "waiting" and note is None:
                note = _when(m) - start
            elif meta.get("kind") == "generation" and m["content"]["data"].get("text/plain") and text is None:
                text = _when(m) - start
        elif kind == "stream" and m["content"]["name"] == "stdout" and text is None:
            text = _when(m) - start
    end = _when(messages[-1]) - start
    return {"first_note_s": note, "first_text_s": text, "cell_s": end}


def scenario(warm_up: bool, pause: float, tokens: int) -> dict[str, Any]:
    """One fresh kernel: %load_ext, the pause, the first %%generate."""
    from jupyter_client import KernelManager

    with tempfile.TemporaryDirectory(prefix="first_token-") as home:
        env = {**os.environ, "JUPYTER_LLM_WARM_UP": "1" if warm_up else "0", "JUPYTER_LLM_HOME": home}
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(env=env, cwd=home)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            load = execute(client, "%load_ext jupyter_llm")
            load_s = _when(load[-1]) - next(_when(m) for m in load if m["msg_type"] == "execute_input")
            if pause:
                execute(client, f"import time; time.sleep({pause})")
            result = timings(execute(client, f"%%generate -n {tokens} --seed 0\n{PROMPT}"))
            result["warm_up_stages_s"] = _warm_up_seconds(client) if warm_up else None
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    return {"load_ext_s": load_s, **result}


def _warm_up_seconds(client) -> dict[str, float]:
    """How long each stage of the kernel's warm-up took (``WarmUp.seconds``)."""
    code = "import json; from jupyter_llm.shell import current_state; print(json.dumps(current_state().warm_up.seconds))"
    out = [m["content"]["text"] for m in execute(client, code) if m["msg_type"] == "stream"]
    return json.loads("".join(out))


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the rounds (None where a round had none)."""
    out: dict[str, Any] = {}
    for key, first in rounds[0].items():
        if isinstance(first, dict):
            out[key] = {k: statistics.median(r[key][k] for r in rounds) for k in first}
        else:
            values = [r[key] for r in rounds if r[key] is not None]
            out[key] = statistics.median(values) if values else None
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=50, help="tokens the cell generates (default 50)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the four kernels, interleaved; medians are shown (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args(argv)

    before = _loadavg()
    rounds: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in SCENARIOS}
    for _ in range(args.repeat):
        for label, warm_up, pause in SCENARIOS:
            rounds[label].append(scenario(warm_up, pause, args.tokens))
            print(f"  {label}: first text {_fmt(rounds[label][-1]['first_text_s'])} s", file=sys.stderr, flush=True)
    after = _loadavg()
    runs = {label: {"warm_up": warm_up, "pause_s": pause, **_medians(rounds[label]), "rounds": rounds[label]}
            for label, warm_up, pause in SCENARIOS}
    report = {"date": datetime.now().astimezone().isoformat(timespec="seconds"), "python": sys.version.split()[0],
              "tokens": args.tokens, "prompt": PROMPT, "repeat": args.repeat, "load_average_before": before, "load_average_after": after,
              "uptime": _uptime(), "target_first_text_s": TARGET_S, "runs": runs}

    print(f"first %%generate -n {args.tokens} of a fresh kernel (seconds from the cell starting; "
          f"median of {args.repeat})")
    print(f"{'':26}{'load_ext':>10}{'first note':>12}{'first text':>12}{'cell':>8}")
    for label, r in runs.items():
        print(f"{label:26}{_fmt(r['load_ext_s']):>10}{_fmt(r['first_note_s']):>12}"
              f"{_fmt(r['first_text_s']):>12}{_fmt(r['cell_s']):>8}")
    paused = runs[SCENARIOS[0][0]]["first_text_s"]
    verdict = "met" if paused is not None and paused <= TARGET_S else "missed"
    print(f"target: first text within {TARGET_S} s with the pause: {verdict}")
    for label, r in runs.items():
        if r["warm_up_stages_s"]:
            stages = ", ".join(f"{k} {v:.2f} s" for k, v in r["warm_up_stages_s"].items())
            print(f"warm-up stages ({label}): {stages}")
    print(f"load average before {before}, after {after}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
