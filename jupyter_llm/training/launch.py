"""``jl.train(..., workers=N)``: start N local worker processes and train in them.

This is multi-worker training on one machine, to try it and to test it: the
launcher writes each worker's ``TF_CONFIG`` (worker 0, the chief, and N - 1
others, on free local ports), starts ``python -m jupyter_llm.training.worker``
N times, and relays the chief's progress events to the caller's subscribers
(the tqdm bar, ``%llm train``'s progress, a panel). On a cluster the same
training runs with ``strategy="multi-worker"`` in each worker, its
``TF_CONFIG`` set by the cluster (see ``docs/scaling.md``).

**A lost worker.** When a worker dies (killed, out of memory, a crash), the
others cannot go on without it: the launcher stops them all and starts them
again, up to :data:`MAX_RESTARTS` times, and they resume from the run's backup
(:mod:`.backup`, every ``backup_every`` steps), so the run still makes the steps
it planned. A user's mistake (a bad option, too little text) is not retried: it
is raised as the same one-sentence error as in one process. Ctrl-C asks the
workers to stop at the next step, together, and returns the model as it is.

Only text that can be read from another process can be trained on this way:
files (any source on disk) as they are, and text in memory written to a
temporary ``.jsonl`` file first, one document a record.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import shutil
from collections import deque
from pathlib import Path
from typing import Any

from .. import errors, store
from ..errors import JupyterLLMError, invalid
from ..text.sources import TextSource
from .events import EventBus, ProgressEvent, TqdmProgress

#: How many times a run restarts its workers after losing one, before giving up.
MAX_RESTARTS = 3
#: The prefix of a line of a worker's output that carries a progress event or an error (JSON after it).
EVENT, ERROR, SHARD = "@@jupyter-llm-event ", "@@jupyter-llm-error ", "@@jupyter-llm-shard "
#: Seconds a stopped worker gets to exit before it is killed.
GRACE = 10.0

_running: list[subprocess.Popen] = []


def running_workers() -> list[int]:
    """The process ids of the workers of the run in progress (worker 0, the chief, first); [] when none."""
    return [p.pid for p in _running if p.poll() is None]


def train_in_workers(source: Any, workers: int, *, name: str | None, strategy: Any, model: Any, base: Any,
                     on_progress: Any, progress: bool | None, stop_event: threading.Event | None,
                     validation_data: Any, config: Any, tensorboard_dir: Any, checkpoint_dir: Any,
                     backup_dir: Any, options: dict[str, Any]):
    """Train in ``workers`` new local processes; the model the chief saved (see the module's docstring)."""
    _refuse_unsendable(strategy=strategy, model=model, base=base, tokenizer=options.get("tokenizer"))
    if options.get("resume"):
        raise invalid("resume", "False with workers=N (the run resumes from its backup by itself: start it "
                      "again with the same name, checkpoint_dir or backup_dir)", True)
    run_dir = Path(tempfile.mkdtemp(prefix="jupyter-llm-workers-"))
    try:
        kwargs = {k: v for k, v in options.items() if v is not None or k in ("seed",)}
        if config is not None:
            kwargs["config"] = config.to_dict() if hasattr(config, "to_dict") else dict(config)
        for key, value in (("tensorboard_dir", tensorboard_dir), ("checkpoint_dir", checkpoint_dir)):
            if value is not None:
                kwargs[key] = os.fspath(Path(value).resolve())
        if base is not None:
            kwargs["base"] = os.fspath(base)
        kwargs["name"] = name
        kwargs["backup_dir"] = os.fspath(_backup_dir(backup_dir, checkpoint_dir, name, run_dir))
        spec = {"source": _sendable(source, run_dir / "text.jsonl", options, workers),
                "validation_data": (_sendable(validation_data, run_dir / "validation.jsonl", options, 1)
                                    if validation_data is not None else None),
                "kwargs": kwargs, "output": None if name is not None else os.fspath(run_dir / "model"),
                "stop_file": os.fspath(run_dir / "stop")}
        if not isinstance(spec["source"], list) and Path(spec["source"]).parent == run_dir:
            kwargs.pop("column", None)  # the text was taken out of its DataFrame
        group = _Group(workers, spec, run_dir, _bus(on_progress, progress))
        group.run(stop_event)
        from ..model.language_model import LanguageModel

        lm = LanguageModel.load(name if name is not None else run_dir / "model")
        if name is None:
            lm.name = None
        record = lm.metadata.setdefault("distributed", {})
        record["restarts"] = group.restarts
        record["shards"] = [group.shards.get(i) for i in range(workers)]  # what each worker read
        if name is not None:
            lm.save(name, overwrite=True)  # the chief saved before the launcher knew the restarts and shards
        return lm
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _refuse_unsendable(**given: Any) -> None:
    """What cannot travel to another process is refused before any work, in one sentence."""
    if given["strategy"] is not None:
        raise invalid("strategy", "None with workers=N (the workers make their own multi-worker cluster)",
                      given["strategy"])
    if given["model"] is not None:
        raise invalid("model", "None with workers=N (a model in memory cannot be sent to the workers; "
                      "train it further in this process)", type(given["model"]).__name__)
    if given["base"] is not None:
        raise invalid("base", "None with workers=N (fine-tuning runs in one process; train the new model "
                      "on several workers, or fine-tune it here)", given["base"])
    tokenizer = given["tokenizer"]
    if tokenizer is not None and not isinstance(tokenizer, str):
        raise invalid("tokenizer", "'char', 'word' or 'bpe' with workers=N (each worker fits the same one)",
                      type(tokenizer).__name__)


def _sendable(source: Any, spill: Path, options: dict[str, Any], workers: int) -> Any:
    """The source as the workers can read it: paths and globs as given, or the text written to ``spill``."""
    from ..text.shards import documents_of

    given = list(source) if isinstance(source, (list, tuple)) else [source]
    if all(isinstance(s, (str, os.PathLike)) for s in given):
        src = TextSource.from_any(source, encoding=options.get("encoding") or "utf-8")
        if src.on_disk:  # the workers start in this folder: relative paths and globs read the same files
            return [os.fspath(s) for s in given] if isinstance(source, (list, tuple)) else os.fspath(source)
    src = TextSource.from_any(source, column=options.get("column"), encoding=options.get("encoding") or "utf-8")
    documents = list(documents_of(src))
    if len(documents) < workers:  # too few records to deal out: one text file, cut at line starts
        spill = spill.with_suffix(".txt")
        spill.write_text("\n".join(documents), "utf-8")
        return os.fspath(spill)
    with open(spill, "w", encoding="utf-8") as f:  # one document a record: dealt out whole
        for document in documents:
            f.write(json.dumps({"text": document}, ensure_ascii=False) + "\n")
    return os.fspath(spill)


def _backup_dir(backup_dir: Any, checkpoint_dir: Any, name: str | None, run_dir: Path) -> Path:
    """Where the workers back up: as asked; the checkpoints' (or the name's) ``backup``; else the run's folder."""
    if backup_dir is not None:
        return Path(backup_dir).resolve()
    if checkpoint_dir is not None:
        return Path(checkpoint_dir).resolve() / "backup"
    if name is not None:
        return store.home() / "checkpoints" / name / "backup"
    return run_dir / "backup"


def _bus(on_progress: Any, progress: bool | None) -> EventBus:
    subscribers = [] if on_progress is None else ([on_progress] if callable(on_progress) else list(on_progress))
    if progress or (progress is None and not subscribers):
        subscribers.append(TqdmProgress())
    return EventBus(subscribers)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class _Group:
    """The worker processes of one run: started, watched, restarted after a loss, stopped together."""

    def __init__(self, workers: int, spec: dict[str, Any], run_dir: Path, bus: EventBus) -> None:
        self.workers = workers
        self.run_dir = run_dir
        self.bus = bus
        self.restarts = 0
        self.spec_path = run_dir / "spec.json"
        self.spec_path.write_text(json.dumps(spec), "utf-8")
        self.stop_file = Path(spec["stop_file"])
        self.error: dict[str, str] | None = None
        self.tail: dict[int, deque] = {}
        self.shards: dict[int, Any] = {}  # each worker's part of the text, as it reports it at the end

    def run(self, stop_event: threading.Event | None) -> None:
        while True:
            procs = self._start()
            failed = None
            try:
                failed = self._watch(procs, stop_event)
            except KeyboardInterrupt:
                self.stop_file.touch()  # every worker stops at the same step; the chief saves
                failed = self._watch(procs, None)
            finally:
                # After a loss the others resume from the backup: killed at once (a worker's collectives
                # catch SIGTERM, so asking would only cost GRACE seconds).
                self._stop(procs, kill=failed is not None)
            if failed is None:
                return
            if self.error is not None:  # a user's mistake: the same sentence as in one process
                kind = getattr(errors, self.error["type"], JupyterLLMError)
                raise (kind if isinstance(kind, type) and issubclass(kind, Exception) else JupyterLLMError)(
                    self.error["message"])
            index, code = failed
            what = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
            if self.restarts >= MAX_RESTARTS:
                tail = "".join(self.tail.get(index, [])).strip()[-2000:]
                raise JupyterLLMError(
                    f"Worker {index + 1} of {self.workers} was lost ({what}) after {self.restarts} restart(s), "
                    f"so training stopped. Expected workers that keep running; its last output:\n{tail}")
            self.restarts += 1
            self.bus.emit(ProgressEvent("warning", message=(
                f"Worker {index + 1} of {self.workers} was lost ({what}); restarting the {self.workers} workers "
                f"from the last backup (restart {self.restarts} of at most {MAX_RESTARTS}).")))

    def _start(self) -> list[subprocess.Popen]:
        ports = _free_ports(self.workers)
        cluster = {"worker": [f"localhost:{p}" for p in ports]}
        procs = []
        for i in range(self.workers):
            env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
                       PYTHONUNBUFFERED="1")
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "jupyter_llm.training.worker", os.fspath(self.spec_path)], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                encoding="utf-8", errors="replace", start_new_session=True))
        _running[:] = procs
        self.tail = {i: deque(maxlen=40) for i in range(self.workers)}
        self.readers = [threading.Thread(target=self._read, args=(i, p), daemon=True) for i, p in enumerate(procs)]
        for reader in self.readers:
            reader.start()
        return procs

    def _read(self, index: int, proc: subprocess.Popen) -> None:
        """A worker's output: the chief's events go to the subscribers; errors are kept; the rest to its log."""
        with open(self.run_dir / f"worker{index}.log", "a", encoding="utf-8") as log:
            for line in proc.stdout:
                if line.startswith(EVENT):
                    if index == 0:
                        try:
                            self.bus.emit(ProgressEvent(**json.loads(line[len(EVENT):])))
                        except (ValueError, TypeError):
                            pass
                    continue
                if line.startswith(SHARD):
                    try:
                        self.shards[index] = json.loads(line[len(SHARD):])
                    except ValueError:
                        pass
                    continue
                if line.startswith(ERROR):
                    try:
                        self.error = self.error or json.loads(line[len(ERROR):])
                    except ValueError:
                        pass
                    continue
                log.write(line)
                self.tail[index].append(line)

    def _watch(self, procs: list[subprocess.Popen], stop_event: threading.Event | None) -> tuple[int, int] | None:
        """Wait for the workers: None when all finished; ``(index, exit code)`` of the first one lost."""
        while True:
            if stop_event is not None and stop_event.is_set() and not self.stop_file.exists():
                self.stop_file.touch()
            codes = [p.poll() for p in procs]
            for i, code in enumerate(codes):
                if code not in (None, 0):
                    return i, code
            if all(code == 0 for code in codes):
                for reader in self.readers:
                    reader.join(timeout=5)
                return None
            time.sleep(0.1)

    def _stop(self, procs: list[subprocess.Popen], kill: bool = False) -> None:
        """Stop the workers still running: a lost one leaves the others waiting on it."""
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for reader in getattr(self, "readers", []):
            reader.join(timeout=5)
        _running.clear()
