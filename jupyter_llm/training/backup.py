"""Fault tolerance: back up a run every few steps, and resume from the backup after a lost worker.

The backup is one file, ``backup.npz`` in the backup folder, replaced atomically:
the model's weights, the optimizer's variables (its step count, Adam's moments)
and the run's place (epoch, step, the epochs' history, early stopping's count).
It is written every ``backup_every`` steps (when an epoch's length is known, as
it always is with several workers) and at the end of every epoch, by the
chief only (the weights are the same on every worker), and removed when the run
ends. A run that finds a backup at its start resumes from it, part-way through
an epoch if need be: restarted after a lost worker, every worker loads the same
backup, and the run finishes with the steps it planned, as Keras's
``BackupAndRestore`` does for whole epochs. The file holds arrays and one JSON
string; it is read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
import numpy as np

from ..errors import DataError

FILE = "backup.npz"
FORMAT = 1


class Backup(keras.callbacks.Callback):
    """Writes the backup (chief only); placed after the run's control so that an epoch's record is in it."""

    def __init__(self, folder: Path, every: int, control: Any, *, write: bool) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.every = int(every)
        self.control = control
        self.write = write
        self.resumed: list[dict[str, int]] = []

    def on_train_batch_end(self, batch, logs=None):
        c = self.control
        if self.every and c.step % self.every == 0 and c.reason is None and c.steps is not None and c.step < c.steps:
            self.save(c.epoch - 1, c.step)

    def on_epoch_end(self, epoch, logs=None):
        c = self.control
        if c.reason is None or c.reason == "early_stopping":
            self.save(epoch + 1, 0)

    def save(self, epoch: int, step: int) -> None:
        """Back up after ``step`` steps of epoch ``epoch + 1`` (``step`` 0: after ``epoch`` whole epochs)."""
        if not self.write:
            return
        c = self.control
        model = c.lm.model
        state = {"format": FORMAT, "epoch": epoch, "step": step, "history": c.history, "best_val": c.best_val,
                 "wait": c.wait, "tokens_seen": c.tokens_seen, "resumed": self.resumed,
                 "iterations": int(model.optimizer.iterations.numpy())}
        arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
        arrays.update({f"o{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)})
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / (FILE + ".tmp.npz")
        np.savez(tmp, state=np.array(json.dumps(state)), **arrays)
        os.replace(tmp, self.folder / FILE)

    def remove(self) -> None:
        if self.write:
            shutil.rmtree(self.folder, ignore_errors=True)


def load(folder: Path | None) -> dict[str, Any] | None:
    """The backup in ``folder`` (its state, ``weights`` and ``optimizer`` arrays), or None."""
    if folder is None or not (Path(folder) / FILE).is_file():
        return None
    path = Path(folder) / FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            state = json.loads(str(data["state"]))
            weights = [data[f"w{i}"] for i in range(sum(k.startswith("w") for k in data.files))]
            optimizer = [data[f"o{i}"] for i in range(sum(k.startswith("o") for k in data.files))]
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"The backup {path} cannot be read ({e}). Expected a backup written by jupyter_llm; "
                        "remove the folder to start the run afresh.") from None
    if state.get("format") != FORMAT:
        raise DataError(f"The backup {path} has format {state.get('format')!r}. Expected format {FORMAT}; "
                        "remove the folder to start the run afresh.")
    return {**state, "weights": weights, "optimizer": optimizer}


def restore(model: Any, backup: dict[str, Any], strategy: Any = None) -> None:
    """Put the backup's weights and optimizer state into ``model`` (compiled, under ``strategy``)."""
    from contextlib import nullcontext

    weights = model.get_weights()
    if len(weights) != len(backup["weights"]) or any(a.shape != b.shape for a, b in zip(weights, backup["weights"])):
        raise DataError("The backup does not fit this model (a different text, tokenizer or size). Expected the "
                        "same run as the one backed up; remove the backup folder to start afresh.")
    with strategy.scope() if strategy is not None else nullcontext():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    model.set_weights(backup["weights"])
    variables = model.optimizer.variables
    if len(variables) != len(backup["optimizer"]):
        raise DataError("The backup's optimizer state does not fit this run. Expected the same run as the one "
                        "backed up; remove the backup folder to start afresh.")
    for variable, value in zip(variables, backup["optimizer"]):
        variable.assign(value)
