"""Progress events: what training reports, to tqdm, widgets and the JupyterLab front end.

Subscribers are plain callables ``f(event: ProgressEvent) -> None`` passed as
``jl.train(..., on_progress=f)`` (or a list of them). They are called on the
training thread; a subscriber that raises is reported once and then ignored,
so a broken display never stops a training run.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable


@dataclass
class ProgressEvent:
    """One report from a training run.

    ``kind`` is one of ``"train_begin"``, ``"step"``, ``"epoch_end"``,
    ``"sample"``, ``"warning"``, ``"train_end"``.
    """

    kind: str
    epoch: int = 0  # 1-based epoch in progress
    epochs: int = 0
    step: int = 0  # 1-based step within the epoch
    steps: int | None = None  # steps per epoch (None when streaming an unknown size)
    loss: float | None = None  # running training loss of the epoch, nats/token
    val_loss: float | None = None
    tokens_per_second: float | None = None
    elapsed: float = 0.0  # seconds since training began
    eta: float | None = None  # seconds left, estimated
    sample: str | None = None  # generated text (kind "sample")
    message: str | None = None  # human-readable note (kinds "warning", "train_end")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


Subscriber = Callable[[ProgressEvent], None]


class EventBus:
    """Calls every subscriber with each event; isolates their failures."""

    def __init__(self, subscribers: Subscriber | Iterable[Subscriber] | None = None) -> None:
        if subscribers is None:
            subscribers = []
        elif callable(subscribers):
            subscribers = [subscribers]
        self.subscribers = list(subscribers)
        self._broken: set[int] = set()

    def emit(self, event: ProgressEvent) -> None:
        for i, subscriber in enumerate(self.subscribers):
            if i in self._broken:
                continue
            try:
                subscriber(event)
            except Exception as e:  # a display must never stop training
                self._broken.add(i)
                warnings.warn(f"A progress subscriber failed and was disconnected: {e!r}", RuntimeWarning)


class TqdmProgress:
    """A tqdm progress bar per epoch with loss, val_loss, tokens/s."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, event: ProgressEvent) -> None:
        from tqdm.auto import tqdm

        if event.kind == "step":
            if self.bar is None:
                self.bar = tqdm(total=event.steps, desc=f"epoch {event.epoch}/{event.epochs}", unit="step",
                                leave=True, dynamic_ncols=True)
            self.bar.n = event.step
            self.bar.set_postfix(loss=f"{event.loss:.3f}", tok_s=f"{event.tokens_per_second or 0:,.0f}",
                                 refresh=False)
            self.bar.update(0)
        elif event.kind == "epoch_end":
            if self.bar is not None:
                post = {"loss": f"{event.loss:.3f}"}
                if event.val_loss is not None:
                    post["val_loss"] = f"{event.val_loss:.3f}"
                self.bar.set_postfix(post)
                self.bar.close()
                self.bar = None
        elif event.kind in ("warning", "train_end"):
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            if event.message:
                print(event.message)
