"""Execute the demo notebooks top to bottom with nbclient.

    python scripts/run_demo_notebooks.py                 # full run: writes the outputs into the notebooks
    python scripts/run_demo_notebooks.py 03 05           # only those whose names start so
    python scripts/run_demo_notebooks.py --fast          # CI sizes, outputs thrown away (a smoke run)

A full run is what the committed notebooks show. ``--fast`` sets
``JUPYTER_LLM_DEMO_FAST=1``, which each notebook reads to shrink its epochs and
model sizes; tests/test_demo_notebooks.py runs the notebooks that way in CI.
Models the notebooks save go to a fresh ``JUPYTER_LLM_HOME`` (``$TMPDIR/jupyter_llm_demo``,
emptied first, a stable path for the outputs that show it) unless ``--home``
names one, so a run never touches your own model store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "demo_notebooks"
FAST_ENV = "JUPYTER_LLM_DEMO_FAST"


def execute(path: Path, fast: bool, home: Path, timeout: int = 1800):
    """Run one notebook in a fresh python3 kernel; return it with its outputs."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    # No TF_CPP_MIN_LOG_LEVEL: the outputs show what a user sees (jupyter_llm hides TF's notices itself).
    env = {FAST_ENV: "1" if fast else "0", "JUPYTER_LLM_HOME": str(home)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                                         resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*", help="run only the notebooks whose names start with these")
    parser.add_argument("--fast", action="store_true", help="CI sizes; do not write the outputs back")
    parser.add_argument("--home", type=Path, default=None, help="JUPYTER_LLM_HOME for the run (default: $TMPDIR/jupyter_llm_demo, emptied first)")
    args = parser.parse_args()

    import nbformat

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in args.prefixes)]
    if not paths:
        parser.error("no demo notebook matches")
    home = args.home
    if home is None:
        home = Path(tempfile.gettempdir()) / "jupyter_llm_demo"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir()
    for path in paths:
        start = time.perf_counter()
        print(f"{path.name}: running ({'fast' if args.fast else 'full'})", flush=True)
        notebook = execute(path, args.fast, home)
        if not args.fast:
            nbformat.write(notebook, path)
        print(f"{path.name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
