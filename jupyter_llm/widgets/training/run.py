"""The TrainingPanel's run state: what one click on Train does, and what its progress events said.

Nothing here draws: :class:`RunState` records the events of the training
thread (under the panel's lock) and :mod:`.panel` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Decay of the moving average drawn as the training loss curve (about 10 steps).
EMA = 0.9


@dataclass
class Settings:
    """What one click on Train will do: read from the controls on the notebook's thread."""

    source: Any
    column: str | None
    description: str
    tokenizer: str
    size: str
    epochs: int
    seq_len: int
    batch_size: int
    learning_rate: float
    steps_per_epoch: int | None
    validation_split: float
    sample_prompt: str
    sample_tokens: int
    continue_training: bool
    seed: int | None = None
    time_limit: float | None = None  # the time budget of Train for, in seconds
    base: str | None = None  # Start from: fine-tune a copy of this bundled or saved model (None: a new model)


@dataclass
class Progress:
    """The progress of the current run, as reported by its events."""

    phase: str = "idle"  # idle, preparing, training, done
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int | None = None
    loss: float | None = None
    tokens_per_second: float | None = None
    elapsed: float = 0.0
    eta: float | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)

    def done(self) -> float:
        """The fraction of the run done, 0 to 1 (from the steps, or else from the ETA)."""
        if self.epochs and self.steps:
            return ((max(self.epoch, 1) - 1) * self.steps + self.step) / (self.epochs * self.steps)
        if self.eta is not None and self.elapsed + self.eta > 0:
            return self.elapsed / (self.elapsed + self.eta)
        return 0.0

    def line(self) -> str:
        """``epoch 1/2 · step 10/40 · 1,234 tokens/s · ETA 5 s · ...`` (plain text)."""
        from .._theme import fmt_duration

        parts = []
        if self.epochs:
            parts.append(f"epoch {self.epoch}/{self.epochs}")
        if self.step:
            parts.append(f"step {self.step:,}/{self.steps:,}" if self.steps else f"step {self.step:,}")
        if self.tokens_per_second:
            parts.append(f"{self.tokens_per_second:,.0f} tokens/s")
        if self.phase == "training" and self.eta is not None:
            parts.append(f"ETA {fmt_duration(self.eta)}")
        if self.elapsed:
            parts.append(f"{fmt_duration(self.elapsed)} elapsed")
        if self.loss is not None:
            parts.append(f"loss {self.loss:.3f}")
        return " · ".join(parts)


class Curve:
    """The loss chart's points: the smoothed training loss per step, the validation loss per epoch.

    Kept across runs that continue the same model; :meth:`reset` for a new one.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []
        self.global_step = 0
        self._epoch_mean: float | None = None
        self._ema, self._ema_n = 0.0, 0

    def smooth(self, step: int, mean: float) -> float:
        """The loss curve's next point: an average of the last ~10 steps' losses.

        The events carry the running mean of the epoch (as Keras reports it);
        the loss of step k is ``k * mean_k - (k - 1) * mean_(k-1)``.
        """
        loss = mean if step == 1 or self._epoch_mean is None else step * mean - (step - 1) * self._epoch_mean
        self._epoch_mean = mean
        self._ema_n += 1
        self._ema = EMA * self._ema + (1 - EMA) * loss
        return self._ema / (1 - EMA ** self._ema_n)


def record(run: Progress, curve: Curve, event: Any) -> None:
    """Record one ProgressEvent of the training thread (the caller holds the panel's lock)."""
    run.phase = "training"
    run.epoch, run.epochs, run.elapsed = event.epoch, event.epochs, event.elapsed
    if event.kind == "step":
        curve.global_step += 1
        run.step, run.steps = event.step, event.steps
        run.loss, run.tokens_per_second, run.eta = event.loss, event.tokens_per_second, event.eta
        if event.loss is not None:
            curve.train.append((curve.global_step, curve.smooth(event.step, event.loss)))
    elif event.kind == "epoch_end":
        run.eta = None
        if event.val_loss is not None:
            curve.val.append((curve.global_step, event.val_loss))
    elif event.kind == "warning" and event.message:
        run.warnings.append(event.message)
    elif event.kind == "train_end":
        run.message = event.message


def summary_rows(lm: Any) -> list[tuple[str, str]]:
    """The summary table of a trained model: its size, epochs, losses, time and tokens seen."""
    from .._theme import fmt_duration

    metrics = lm.metadata.get("metrics") or {}
    rows = [("model", f"{lm.num_parameters:,} parameters, {lm.tokenizer.kind} tokenizer "
                      f"({lm.config.vocab_size:,} tokens)")]
    if not metrics:
        return rows
    rows.append(("epochs completed", f"{metrics.get('epochs_completed', 0)}"))
    partial = metrics.get("partial_epoch")
    if partial:
        rows.append(("stopped in", f"epoch {partial['epoch']} after {partial['steps']:,} step(s) "
                                   "(not counted as completed; its weights are kept)"))
    if metrics.get("loss") is not None:
        rows.append(("training loss", f"{metrics['loss']:.3f} nats/token"))
    if metrics.get("val_loss") is not None:
        bpc = metrics.get("val_bits_per_char")
        extra = f" ({bpc:.2f} bits/char)" if bpc is not None else ""
        rows.append(("validation loss", f"{metrics['val_loss']:.3f} nats/token{extra}"))
    if metrics.get("train_seconds") is not None:
        rows.append(("time", fmt_duration(metrics["train_seconds"])))
    if metrics.get("tokens_seen"):
        rows.append(("tokens seen", f"{metrics['tokens_seen']:,}"))
    return rows
