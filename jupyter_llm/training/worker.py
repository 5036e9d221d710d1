"""One worker of a local multi-worker run: ``python -m jupyter_llm.training.worker SPEC.json``.

Started by :mod:`.launch` with its ``TF_CONFIG`` in the environment. It trains
with ``strategy="multi-worker"`` first thing (before TensorFlow runs anything),
prints each progress event as one JSON line for the launcher, stops with the
others when the launcher's stop file appears, and, as the chief, saves the model
where the launcher reads it. A user's mistake is printed as one JSON line and
ends the process with status 2, which the launcher does not retry.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from .launch import ERROR, EVENT, SHARD


class _StopFile:
    """A ``threading.Event`` look-alike that is set when the launcher's stop file exists."""

    def __init__(self, path: str) -> None:
        self.path = path

    def is_set(self) -> bool:
        return os.path.exists(self.path)


def _print_event(event) -> None:
    sys.stdout.write(EVENT + json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text("utf-8"))
    logging.basicConfig(stream=sys.stdout, format="%(message)s")
    logging.getLogger("jupyter_llm.training").setLevel(logging.INFO)  # what this worker reads, in its log
    import jupyter_llm as jl
    from ..errors import JupyterLLMError

    try:
        lm = jl.train(spec["source"], strategy="multi-worker", validation_data=spec["validation_data"],
                      on_progress=_print_event, progress=False, stop_event=_StopFile(spec["stop_file"]),
                      **spec["kwargs"])
    except JupyterLLMError as e:
        sys.stdout.write(ERROR + json.dumps({"type": type(e).__name__, "message": str(e)}) + "\n")
        sys.stdout.flush()
        return 2
    shard = lm.metadata.get("distributed", {}).get("shard")
    if shard is not None:
        sys.stdout.write(SHARD + json.dumps(shard, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    chief = json.loads(os.environ.get("TF_CONFIG") or "{}").get("task", {}).get("index", 0) == 0
    if spec["output"] is not None and chief:
        lm.save(spec["output"], overwrite=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
