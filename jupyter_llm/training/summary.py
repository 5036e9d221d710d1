"""After training: the run's metrics and metadata, the last progress event, and the save."""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from typing import Any

from .callbacks import _TrainingControl
from .events import ProgressEvent, Subscriber
from .prepare import Corpus, Setup


def metrics_of(control: _TrainingControl, history: list[dict[str, Any]], reason: str, restored: bool,
               early_stopping: int | None) -> dict[str, Any]:
    """The run's metrics.

    The history and the checkpoint hold complete epochs only. A run stopped part-way through an
    epoch reports that epoch as ``partial_epoch``. ``val_loss`` is that of the weights returned;
    ``loss`` the training loss of the last epoch run, complete or not.
    """
    partial = control.partial
    last = partial or (history[-1] if history else {})
    metrics = {
        "loss": last.get("loss"),
        "val_loss": (control.restored_val if reason in ("nan", "diverged")
                     else control.best_val if early_stopping or restored else last.get("val_loss")),
        "epochs_completed": len(history),
        "partial_epoch": partial,
        "train_seconds": round(control.elapsed, 2),
        "tokens_seen": control.tokens_seen,
        "stopped": reason,
    }
    # Characters per token of the validation text itself, as LanguageModel.evaluate counts them.
    val_chars_per_token = control.val_chars_per_token or control.chars_per_token
    if metrics["val_loss"] is not None and val_chars_per_token:
        metrics["val_bits_per_char"] = metrics["val_loss"] / val_chars_per_token / math.log(2)
    return metrics


def record(setup: Setup, corpus: Corpus, control: _TrainingControl, metrics: dict[str, Any], *,
           validation_split: float, separate_validation: bool, copy_index: bool = True) -> None:
    """Write the run into the model's metadata (when, on what text, its metrics and its history) and its index.

    ``copy_index``: record the copied-text index of the text trained on (:func:`index_copies`), or drop it.
    """
    src = corpus.src
    setup.lm.metadata.update({
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "corpus": {
            "description": src.description,
            "fingerprint": src.fingerprint() if not setup.stream else None,
            "bytes": src.nbytes,
            "train_tokens": setup.n_train_tokens,
            "chars_per_token": control.chars_per_token,
            "validation": (f"last {validation_split:.0%}" if not separate_validation and validation_split
                           else "separate" if separate_validation else None),
        },
        "metrics": metrics,
        "history": setup.history,
    })
    index_copies(setup, corpus, copy_index)


def index_copies(setup: Setup, corpus: Corpus, keep: bool) -> None:
    """Record the copied-text index of the text trained on (added to a model's own), or drop it (``keep=False``).

    A model trained further adds the new text to its index (the same text again, by fingerprint, adds
    nothing). ``keep=False`` drops the index of a model trained further too: an index of part of the text
    would answer "not copied" for the rest. It is for private text: the index lets whoever holds the
    model test whether a passage they have was in the training text. One more pass over the training
    text (streamed for a large file): 10 ms for tiny Shakespeare.
    """
    if not keep:
        setup.lm.copy_index = None
        return
    from ..model.copied import CopyIndex

    train = corpus.train
    index = setup.lm.copy_index or CopyIndex.empty()
    setup.lm.copy_index = index.extended(train.iter_chunks(), train.description, size_hint=train.nbytes)


def finish(setup: Setup, control: _TrainingControl, metrics: dict[str, Any], reason: str, *, epochs: int,
           name: str | None, subscribers: list[Subscriber]) -> None:
    """The ``train_end`` event, the divergence notice for code without a display, and the save under ``name``."""
    lm, bus = setup.lm, control.bus
    message = control.final_message(reason, metrics["val_loss"])
    bus.emit(ProgressEvent("train_end", epoch=len(setup.history), epochs=epochs, loss=metrics["loss"],
                           val_loss=metrics["val_loss"], elapsed=control.elapsed, message=message))
    if control.notice is not None and not subscribers:
        # A progress display got the divergence notice as a warning event; without one, code must hear it.
        warnings.warn(control.notice, RuntimeWarning, stacklevel=3)  # at the caller of train()
    if name is not None and control.keep_saved is None:
        try:
            lm.save(name, overwrite=True)
        except KeyboardInterrupt:  # the save is atomic: nothing half-written; the model is still returned
            bus.emit(ProgressEvent("warning", message=(
                f"Interrupted while saving '{name}': it was not saved. The trained model is returned; "
                f"save it with lm.save({name!r}, overwrite=True).")))
