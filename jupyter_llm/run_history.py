"""Run history: every training run's settings, data summary, loss curve and result, kept in the store (#16).

``jl.train`` writes one record per run, whether it finished, was stopped or
diverged, to ``$JUPYTER_LLM_HOME/runs/<id>.json`` (one small JSON file, written
atomically; never the text itself, only its size and fingerprint). Runs are kept
apart from the models: a model trained and never saved still has its run, and
deleting a model keeps its runs unless asked otherwise.

>>> import jupyter_llm as jl
>>> jl.runs()                         # doctest: +SKIP  (a DataFrame, one row per run, oldest first)
>>> jl.runs(model="poems").iloc[-1].curve   # doctest: +SKIP

A record (``version`` 1)::

    id, started, ended, seconds     when (UTC, ISO 8601) and how long
    status                          why it stopped: "completed", "early_stopping", "time_limit",
                                    "stopped" (the Stop button or stop_event), "interrupted" (Ctrl-C),
                                    "diverged", "nan", or "failed" (an error ended it)
    model, base                     the name it was saved under (None: not saved), the model it started from
    settings                        the training options and the ModelConfig
    data                            description, fingerprint ("sha256:..." of the text; None when streamed),
                                    bytes, train_tokens, validation
    curve                           {"step": [...], "elapsed": [...], "loss": [...]} (global steps, at most
                                    MAX_POINTS, evenly thinned) and "epochs": [{epoch, step, loss, val_loss,
                                    elapsed}]
    result                          the run's metrics (loss, val_loss, val_bits_per_char, ...)

This module imports neither TensorFlow nor pandas (:func:`runs` imports pandas when called).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterable

from . import store
from .errors import invalid

FORMAT = "jupyter_llm.run"
VERSION = 1
#: The most points of a curve kept per run: reaching it, every other point is dropped, so the points stay evenly
#: spaced; the last step's point is always kept.
MAX_POINTS = 1000
_NUMBERS = frozenset({"epochs", "train_tokens", "loss", "val_loss", "val_bits_per_char", "seconds"})
COLUMNS = ("id", "started", "status", "model", "base", "data", "fingerprint", "size", "tokenizer", "epochs",
           "train_tokens", "loss", "val_loss", "val_bits_per_char", "seconds", "curve", "settings")


def runs_dir() -> Path:
    """Where run records live: ``$JUPYTER_LLM_HOME/runs``."""
    return store.home() / "runs"


# === Recording ===


def new_id(now: _dt.datetime | None = None) -> str:
    """A run id that sorts by time: ``20261202-162530-1a2b3c``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


class Curve:
    """A loss curve collected from training's progress events, thinned to at most :data:`MAX_POINTS`.

    A progress subscriber: pass it to ``on_progress`` or append it to an EventBus.
    """

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        self.max_points = max_points
        self.step: list[int] = []
        self.elapsed: list[float] = []
        self.loss: list[float] = []
        self.epochs: list[dict[str, Any]] = []
        self._stride = 1  # keep one step event in this many
        self._seen = 0
        self._steps_before = 0  # global steps of the epochs already ended
        self._last_step = 0
        self._last: tuple[int, float, float | None] | None = None  # the latest step event's point

    def __call__(self, event: Any) -> None:
        if event.kind == "step" and event.loss is not None:
            self._last_step = self._steps_before + event.step
            self._last = (self._last_step, round(event.elapsed, 3), _num(event.loss))
            self._seen += 1
            if (self._seen - 1) % self._stride == 0:  # on the grid: every stride-th step event
                self._add(*self._last)
        elif event.kind == "epoch_end":
            self._steps_before = self._last_step
            self.epochs.append({"epoch": event.epoch, "step": self._last_step, "loss": _num(event.loss),
                                "val_loss": _num(event.val_loss), "elapsed": round(event.elapsed, 3)})

    def _add(self, step: int, elapsed: float, loss: float | None) -> None:
        self.step.append(step)
        self.elapsed.append(elapsed)
        self.loss.append(loss)
        if len(self.step) >= self.max_points:  # keep every other point: the grid's stride doubles
            self.step, self.elapsed, self.loss = self.step[::2], self.elapsed[::2], self.loss[::2]
            self._stride *= 2

    def to_dict(self) -> dict[str, Any]:
        """The curve: its points on the grid, then the last step's if it is not one of them."""
        step, elapsed, loss = list(self.step), list(self.elapsed), list(self.loss)
        if self._last is not None and (not step or step[-1] != self._last[0]):
            step.append(self._last[0])
            elapsed.append(self._last[1])
            loss.append(self._last[2])
        return {"step": step, "elapsed": elapsed, "loss": loss, "epochs": [dict(e) for e in self.epochs]}


def _num(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def save_run(record: dict[str, Any]) -> Path:
    """Write one run record atomically; returns its path."""
    folder = runs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['id']}.json"
    data = json.dumps({"format": FORMAT, "version": VERSION, **record}, ensure_ascii=False, indent=1,
                      default=_json_default).encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{record['id']}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


# === Reading ===


def load_runs() -> list[dict[str, Any]]:
    """Every readable run record, oldest first. A file that is not a run record is skipped, not an error."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("format") == FORMAT and record.get("id") == path.stem:
            records.append(record)
    records.sort(key=lambda r: (str(r.get("started", "")), r["id"]))
    return records


def select(records: Iterable[dict[str, Any]], model: str | None = None, data: str | None = None,
           status: str | None = None) -> list[dict[str, Any]]:
    """The records of runs that saved ``model``, read text of fingerprint ``data``, ended with ``status``."""
    out = []
    for r in records:
        if model is not None and r.get("model") != model:
            continue
        if data is not None and (r.get("data") or {}).get("fingerprint") != data:
            continue
        if status is not None and r.get("status") != status:
            continue
        out.append(r)
    return out


def runs(model: str | None = None, data: str | None = None, status: str | None = None):
    """The training runs in the store, as a pandas DataFrame, one row per run, oldest first.

    Args:
        model: only the runs that saved a model under this name.
        data: only the runs on the text of this fingerprint (``"sha256:..."``,
            as in ``lm.metadata["corpus"]["fingerprint"]``).
        status: only the runs that ended so (``"completed"``, ``"interrupted"``, ...).

    Columns: ``id``, ``started``, ``status``, ``model``, ``base``, ``data`` (a
    description of the text), ``fingerprint``, ``size``, ``tokenizer``,
    ``epochs`` (completed), ``train_tokens``, ``loss``, ``val_loss``,
    ``val_bits_per_char``, ``seconds``, ``curve`` (a dict: ``step``,
    ``elapsed``, ``loss`` lists and ``epochs``) and ``settings`` (a dict).
    """
    for name, value in (("model", model), ("data", data), ("status", status)):
        if value is not None and not isinstance(value, str):
            raise invalid(name, "a str or None", value)
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - pandas is in the notebook and test extras
        raise ImportError("jl.runs() returns a pandas DataFrame: pip install pandas") from e
    rows = [row_of(r) for r in select(load_runs(), model=model, data=data, status=status)]
    # Numbers as floats (a missing one is NaN); everything else as objects, so a run not saved has model None.
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype="float64" if c in _NUMBERS else object)
                         for c in COLUMNS})


def row_of(record: dict[str, Any]) -> dict[str, Any]:
    """One run record as a flat row (see :func:`runs` for the columns)."""
    data = record.get("data") or {}
    result = record.get("result") or {}
    settings = record.get("settings") or {}
    return {
        "id": record["id"],
        "started": record.get("started"),
        "status": record.get("status"),
        "model": record.get("model"),
        "base": record.get("base"),
        "data": data.get("description"),
        "fingerprint": data.get("fingerprint"),
        "size": settings.get("size"),
        "tokenizer": settings.get("tokenizer"),
        "epochs": result.get("epochs_completed"),
        "train_tokens": data.get("train_tokens"),
        "loss": result.get("loss"),
        "val_loss": result.get("val_loss"),
        "val_bits_per_char": result.get("val_bits_per_char"),
        "seconds": record.get("seconds"),
        "curve": record.get("curve") or {"step": [], "elapsed": [], "loss": [], "epochs": []},
        "settings": settings,
    }


def delete_runs(model: str | None = None, ids: Iterable[str] | None = None) -> int:
    """Delete the runs that saved ``model``, or those of the given ``ids``; returns how many were deleted."""
    if model is None and ids is None:
        raise invalid("model", "a model name or ids of runs to delete", None)
    wanted = set(ids or ())
    deleted = 0
    for r in load_runs():
        if r["id"] in wanted or (model is not None and r.get("model") == model):
            path = runs_dir() / f"{r['id']}.json"
            try:
                path.unlink()
                deleted += 1
            except FileNotFoundError:
                pass
    return deleted


def delete_model(path_or_name: str | os.PathLike, runs: str = "keep") -> None:
    """Delete a saved model (a name in the user's store or a model folder); bundled models are read-only.

    ``runs``: ``"keep"`` (default) leaves the model's training runs in the run
    history (they are the record of what was tried); ``"delete"`` deletes them too.
    """
    if runs not in ("keep", "delete"):
        raise invalid("runs", "one of 'keep', 'delete'", runs)
    store.delete_model(path_or_name)
    if runs == "delete" and store.is_name(path_or_name):
        delete_runs(model=str(path_or_name))
