"""The Keras callbacks of a training run: progress, stops, snapshots, checkpoints, TensorBoard.

:class:`_TrainingControl` turns Keras's hooks into :class:`~jupyter_llm.ProgressEvent`
objects, stops on ``time_limit``, ``stop_event``, early stopping and divergence
(restoring the last good snapshot), and checkpoints each epoch. What is left to
do after ``fit`` (keep the better weights, or raise) is in :mod:`.fit`.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
import numpy as np

from .events import ProgressEvent

#: Snapshot the weights every this many steps, to restore them if the loss turns NaN.
SNAPSHOT_EVERY = 50
#: A loss above this many times max(log(vocab_size), the first step's loss) is a divergence. A new model
#: starts near log(vocab_size), the loss of the uniform guess, and a trained one below it; healthy runs
#: go down from there, so 3x means a model far worse than guessing, and it cannot trip on them.
DIVERGENCE_FACTOR = 3.0
#: Write the training loss to TensorBoard at most every this many steps (and at least ~10 times an epoch).
TENSORBOARD_EVERY = 50


def _all_finite(weights: list[np.ndarray]) -> bool:
    return all(np.isfinite(w).all() for w in weights)


class _TrainingControl(keras.callbacks.Callback):
    """The Keras callback that reports progress and stops, snapshots and checkpoints."""

    def __init__(self, *, lm, bus, epochs, steps, est_steps, tokens_per_step, time_limit, stop_event,
              early_stopping, checkpoint, history, sample_prompt, sample_tokens, val_fn,
              initial_epoch, chars_per_token) -> None:
        super().__init__()
        self.lm = lm
        self.bus = bus
        self.epochs = epochs
        self.steps = steps
        self.est_steps = est_steps
        self.tokens_per_step = tokens_per_step
        self.time_limit = time_limit
        self.stop_event = stop_event
        self.early_stopping = early_stopping
        self.checkpoint = checkpoint
        self.history = history
        self.sample_prompt = sample_prompt
        self.sample_tokens = sample_tokens
        self.val_fn = val_fn
        self.chars_per_token = chars_per_token
        self.val_chars_per_token: float | None = None
        self.reason: str | None = None
        self.cut_short = False  # stop_training was set before the epoch's last step
        self.partial: dict[str, Any] | None = None  # the epoch a stop cut short, if any
        self.best_val = min((h["val_loss"] for h in history if h.get("val_loss") is not None), default=None)
        self.best_weights = None
        self.good_weights = None
        self.good_step = (initial_epoch, 0)
        self.wait = 0
        self.epoch = initial_epoch
        self.step = 0
        self.step_offset = 0  # steps of this epoch made before a restart (a run resumed from a backup)
        self.cluster: Any = None  # with several workers: agree on stops, and only the chief samples
        self.backup: Any = None  # the run's backup.Backup, when it backs up
        self.tokens_seen = 0
        self.start = time.perf_counter()
        self.epoch_start = self.start
        self.elapsed = 0.0
        self.last_loss = None
        # === Divergence ===
        self.start_weights = None  # the weights this run started from
        self.first_loss: float | None = None  # the first step's loss: that of the start weights
        self.bound: float | None = None  # a loss above this is a divergence (see DIVERGENCE_FACTOR)
        self.good_loss: float | None = None  # the training loss when the good snapshot was taken
        self.diverged: str | None = None  # what happened, for the notice: "the loss became NaN", ...
        self.stopped_at = (initial_epoch, 0)
        self.restored_val: float | None = None  # the validation loss of the weights kept after a divergence
        self.notice: str | None = None  # the one sentence that reports a divergence the run survived
        self.keep_saved: str | None = None  # a saved model this diverged run must not replace

    # --- Keras hooks ---

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.good_weights = self.start_weights = self.lm.model.get_weights()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.step = self.step_offset
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step = batch + 1 + self.step_offset
        self.tokens_seen += self.tokens_per_step
        now = time.perf_counter()
        self.elapsed = now - self.start
        loss = float(logs["loss"]) if logs and "loss" in logs else float("nan")
        if not math.isfinite(loss):
            self._stop_diverged("nan", "the loss became NaN")
            return
        if self.first_loss is None:
            self.first_loss = loss
            self.bound = DIVERGENCE_FACTOR * max(math.log(max(2, self.lm.config.vocab_size)), loss)
        elif loss > self.bound:
            self._stop_diverged("diverged", f"the loss grew to {loss:.3g} nats/token, past the bound of "
                                            f"{self.bound:.3g}: {DIVERGENCE_FACTOR:g}x the larger of log(vocab_size) "
                                            "and the first step's loss")
            return
        self.last_loss = loss
        if self.step % SNAPSHOT_EVERY == 0:
            # A finite loss was computed before this step's update: the update itself may have made
            # the weights NaN, so a snapshot is checked before it becomes the one a NaN restores.
            weights = self.lm.model.get_weights()
            if not _all_finite(weights):
                self._stop_diverged("nan", "the weights became NaN")
                return
            self.good_weights = weights
            self.good_step = (self.epoch, self.step)
            self.good_loss = loss
        per_step = (now - self.epoch_start) / max(1, self.step - self.step_offset)
        steps = self.steps or self.est_steps
        remaining = max(0, steps - self.step) + steps * (self.epochs - self.epoch)
        eta = per_step * remaining
        if self.time_limit is not None:
            eta = min(eta, max(0.0, self.time_limit - self.elapsed))
        self.bus.emit(ProgressEvent(
            "step", epoch=self.epoch, epochs=self.epochs, step=self.step, steps=self.steps, loss=loss,
            tokens_per_second=self.tokens_per_step / per_step if per_step else None,
            elapsed=self.elapsed, eta=eta,
        ))
        if self.time_limit is not None and self.elapsed >= self.time_limit:
            self.reason = "time_limit"
        if self.stop_event is not None and self.stop_event.is_set():
            self.reason = "stopped"
        if self.cluster is not None and self.cluster.multi_worker and (self.time_limit or self.stop_event):
            # A worker's own clock or event: every worker stops at the same step, or the others wait forever.
            stop = self.cluster.any(self.reason in ("time_limit", "stopped"))
            self.reason = (self.reason or "stopped") if stop else None
        if self.reason in ("time_limit", "stopped"):
            self.model.stop_training = True
            # Keras still calls on_epoch_end. Without a known epoch length (a streamed corpus), any stop
            # counts as part-way: the stream does not say whether this was its last batch.
            self.cut_short = self.steps is None or self.step < self.steps

    def on_epoch_end(self, epoch, logs=None):
        if self.reason in ("nan", "diverged"):
            return
        weights = self.lm.model.get_weights()
        if not _all_finite(weights):  # the epoch's last update made them NaN: not a completed epoch
            self._stop_diverged("nan", "the weights became NaN")
            return
        logs = logs if logs is not None else {}
        loss = logs.get("loss", self.last_loss)
        loss = float(loss) if loss is not None else None
        val = self._validate()
        if self.cut_short:
            self._end_partial_epoch(epoch + 1, loss, val)
            return
        if val is not None:
            logs["val_loss"] = val  # for the callbacks after this one (TensorBoard)
        record = {"epoch": epoch + 1, "loss": loss, "val_loss": val, "steps": self.step,
                  "seconds": round(time.perf_counter() - self.epoch_start, 3)}
        self.history.append(record)
        self.good_weights = weights
        self.good_step = (epoch + 1, self.step)
        self.good_loss = loss
        monitored = val if val is not None else loss
        if monitored is not None and (self.best_val is None or monitored < self.best_val):
            self.best_val = monitored
            self.best_weights = self.good_weights
            self.wait = 0
        else:
            self.wait += 1
            if self.early_stopping and self.wait >= self.early_stopping:
                self.reason = "early_stopping"
                self.model.stop_training = True
        self.elapsed = time.perf_counter() - self.start
        self.bus.emit(ProgressEvent("epoch_end", epoch=epoch + 1, epochs=self.epochs, step=self.step,
                                    steps=self.steps, loss=loss, val_loss=val, elapsed=self.elapsed, eta=None))
        if self.checkpoint is not None:
            self._save_checkpoint(epoch + 1)
        if self.sample_tokens and (self.cluster is None or self.cluster.is_chief):
            try:
                sample = self.lm.generate(self.sample_prompt or "", max_tokens=self.sample_tokens,
                                          temperature=0.8, seed=epoch)
            except Exception as e:  # a sample is a courtesy; it never stops training
                sample = f"(no sample: {e})"
            self.bus.emit(ProgressEvent("sample", epoch=epoch + 1, epochs=self.epochs,
                                        sample=(self.sample_prompt or "") + sample, elapsed=self.elapsed))

    def _stop_diverged(self, reason: str, what: str) -> None:
        """Restore the last good snapshot and stop; :func:`.fit.settle_divergence` reports it after fit."""
        self.lm.model.set_weights(self.good_weights)
        self.reason = reason
        self.diverged = what
        self.stopped_at = (self.epoch, self.step)
        self.model.stop_training = True

    def restore_start(self) -> None:
        self.lm.model.set_weights(self.start_weights)
        self.good_weights = self.start_weights
        self.good_step = self.stopped_at[0], 0

    def _validate(self) -> float | None:
        """The validation loss of the current weights (None without validation text or when not finite)."""
        if self.val_fn is None:
            return None
        result = self.val_fn()
        if result.get("tokens"):
            self.val_chars_per_token = result["chars"] / result["tokens"]
        val = float(result["loss"])
        return val if math.isfinite(val) else None

    def _end_partial_epoch(self, epoch: int, loss: float | None, val: float | None) -> None:
        """A stop part-way through an epoch: report it, never count or checkpoint it as completed.

        The weights are still compared with the best epoch's, as after a complete epoch, so
        that early stopping's restore keeps them when they are better.
        """
        self.partial = {"epoch": epoch, "steps": self.step, "loss": loss, "val_loss": val,
                        "seconds": round(time.perf_counter() - self.epoch_start, 3)}
        monitored = val if val is not None else loss
        if monitored is not None and (self.best_val is None or monitored < self.best_val):
            self.best_val = monitored
            self.best_weights = self.lm.model.get_weights()
        self.elapsed = time.perf_counter() - self.start

    def _save_checkpoint(self, epoch: int) -> None:
        self.checkpoint.mkdir(parents=True, exist_ok=True)
        name = self.lm.name
        try:
            self.lm.save(self.checkpoint / "model", overwrite=True)
        finally:
            self.lm.name = name  # a checkpoint is not a name: saving to the folder 'model' must not rename it
        state = {"epoch": epoch, "history": self.history, "best_val": self.best_val}
        tmp = self.checkpoint / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2), "utf-8")
        os.replace(tmp, self.checkpoint / "state.json")

    # --- After fit ---

    def keep_better_on_interrupt(self) -> bool:
        """On Ctrl-C: keep the current weights unless the best epoch's were better (True: restored them)."""
        self.elapsed = time.perf_counter() - self.start
        in_history = bool(self.history) and self.history[-1]["epoch"] == self.epoch
        if self.step and not in_history:
            self.partial = {"epoch": self.epoch, "steps": self.step, "loss": self.last_loss, "val_loss": None,
                            "seconds": round(time.perf_counter() - self.epoch_start, 3)}
        if self.best_weights is None or self.val_fn is None:
            return False
        current = self._validate()
        if self.partial is not None:
            self.partial["val_loss"] = current
        if current is None or current > self.best_val:
            self.lm.model.set_weights(self.best_weights)
            return True
        return False

    def final_message(self, reason: str, val: float | None) -> str:
        """The train_end summary; ``val`` is ``metrics["val_loss"]``, that of the weights returned."""
        done = len(self.history)
        tail = f", validation loss {val:.3f} nats/token" if val is not None else ""
        if reason == "interrupted":
            return f"Training interrupted during epoch {self.epoch}; kept the best weights so far{tail}."
        if reason in ("nan", "diverged"):  # the warning event before this one said what and why
            return f"Training stopped early ({done} epoch(s) completed){tail}."
        if reason == "time_limit":
            return f"Training stopped at the time limit after {self.elapsed:.0f} s ({done} epoch(s) completed){tail}."
        if reason == "stopped":
            return f"Training stopped on request during epoch {self.epoch} ({done} epoch(s) completed){tail}."
        if reason == "early_stopping":
            return f"Early stopping after epoch {done}: restored the best weights (loss {self.best_val:.3f})."
        return f"Training finished: {done} epoch(s) in {self.elapsed:.0f} s{tail}."


class _TensorBoard(keras.callbacks.TensorBoard):
    """Keras's TensorBoard callback, with every epoch's scalars whatever the step interval.

    With ``update_freq=N`` Keras writes the per-step scalars under a
    ``record_if(step % N == 0)`` condition that stays in force until the next
    step, so its per-epoch scalars (``epoch_loss`` in ``train/``, the
    validation loss in ``validation/``) were written only when an epoch ended on
    a multiple of N steps. Here they are always written, except for an epoch a
    stop cut short (it is not a completed epoch; a resumed run trains it again).
    A resumed run continues the step axis where the checkpoint's epoch ended.
    """

    def __init__(self, control: _TrainingControl, initial_step: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._control = control
        self._initial_step = int(initial_step)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._global_train_batch = self._initial_step

    def on_epoch_end(self, epoch, logs=None):
        if self._control.cut_short or self._control.reason in ("nan", "diverged"):
            return
        with self.summary.record_if(True):
            super().on_epoch_end(epoch, logs)
