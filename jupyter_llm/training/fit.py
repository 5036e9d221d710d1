"""Fitting: compile the model, run Keras ``fit`` with the callbacks, and settle how it ended.

A run ends completed, on a stop (``time_limit``, ``stop_event``, early
stopping), on Ctrl-C (the better of the current and the best epoch's weights
are kept) or on divergence (:func:`settle_divergence`: the last good weights
when they are better than the start, else :class:`~jupyter_llm.TrainingDivergedError`).
"""

from __future__ import annotations

import gc
import os
import threading
import warnings
from contextlib import nullcontext
from typing import Any, Iterable

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras

from .. import store
from ..errors import TrainingDivergedError, invalid
from .callbacks import TENSORBOARD_EVERY, _TensorBoard, _TrainingControl
from .events import EventBus, ProgressEvent, Subscriber, TqdmProgress
from .options import TrainOptions
from .prepare import Corpus, Setup, chars_per_token


def compile_model(setup: Setup, strategy: Any, epochs: int, jit_compile: bool) -> None:
    """Build a new model (under ``strategy``'s scope) and compile it with Adam, clipping and the schedule."""
    from ..model.language_model import LanguageModel

    cfg = setup.cfg
    scope = strategy.scope() if strategy is not None else nullcontext()
    with scope:
        if setup.lm is None:
            setup.lm = LanguageModel.build(cfg, setup.tok)
        elif strategy is not None:
            raise invalid("strategy", "None when training an existing model further", strategy)
        learning_rate: Any = cfg.learning_rate
        if cfg.lr_schedule == "cosine":
            learning_rate = keras.optimizers.schedules.CosineDecay(
                cfg.learning_rate, decay_steps=max(1, setup.est_steps * epochs), alpha=0.05)
        optimizer = keras.optimizers.Adam(learning_rate, clipnorm=cfg.clipnorm)
        if setup.initial_epoch and cfg.lr_schedule != "constant":
            optimizer.iterations.assign(setup.est_steps * setup.initial_epoch)  # a resumed run goes on down the schedule
        setup.lm.model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit_compile,
        )


def make_callbacks(setup: Setup, corpus: Corpus, opts: TrainOptions, *,
                   on_progress: Subscriber | Iterable[Subscriber] | None, progress: bool | None,
                   stop_event: threading.Event | None,
                   tensorboard_dir: str | os.PathLike | None) -> tuple[_TrainingControl, list[Any], list[Subscriber]]:
    """``(control, every callback, the progress subscribers)``; a tqdm bar when no subscriber is given."""
    subscribers = [] if on_progress is None else ([on_progress] if callable(on_progress) else list(on_progress))
    if progress or (progress is None and not subscribers):
        subscribers.append(TqdmProgress())
    cfg = setup.cfg
    control = _TrainingControl(
        lm=setup.lm, bus=EventBus(subscribers), epochs=opts.epochs, steps=setup.steps, est_steps=setup.est_steps,
        tokens_per_step=cfg.seq_len * cfg.batch_size, time_limit=opts.time_limit, stop_event=stop_event,
        early_stopping=opts.early_stopping, checkpoint=setup.checkpoint, history=setup.history,
        sample_prompt=opts.sample_prompt, sample_tokens=opts.sample_tokens, val_fn=setup.val_fn,
        initial_epoch=setup.initial_epoch,
        chars_per_token=chars_per_token(corpus.train, setup.tok, setup.n_train_tokens),
    )
    callbacks: list[Any] = [control]
    if tensorboard_dir is not None:
        every = max(1, min(TENSORBOARD_EVERY, setup.est_steps // 10))
        callbacks.append(_TensorBoard(control, initial_step=setup.initial_epoch * setup.est_steps,
                                      log_dir=str(tensorboard_dir), update_freq=every))
    return control, callbacks, subscribers


def run_fit(setup: Setup, control: _TrainingControl, callbacks: list[Any], epochs: int) -> tuple[str, bool]:
    """Keras ``fit``; ``(why it ended, whether the best epoch's weights were put back on Ctrl-C)``.

    A run resumed from a backup part-way through an epoch first makes that epoch's remaining steps, in
    a ``fit`` of their own, then the epochs after it.
    """
    control.bus.emit(ProgressEvent("train_begin", epoch=setup.initial_epoch + 1, epochs=epochs, steps=setup.steps))
    reason = "completed"
    restored = False
    if setup.initial_epoch < epochs:
        try:
            with warnings.catch_warnings():
                # A streamed corpus has no known length: Keras warns at the end of every epoch.
                warnings.filterwarnings("ignore", message="Your input ran out of data")
                _fit_from(setup, control, callbacks, epochs)
            reason = control.reason or "completed"
        except KeyboardInterrupt:
            reason = "interrupted"
            restored = control.keep_better_on_interrupt()
    # Stopping fit() early leaves its tf.data iterator in a reference cycle; freeing it can
    # block for seconds. Do it now, while the user waits for training, not later at random.
    gc.collect()
    return reason, restored


def _fit_from(setup: Setup, control: _TrainingControl, callbacks: list[Any], epochs: int) -> None:
    epoch, done = setup.initial_epoch, setup.start_step
    steps = setup.steps
    fit = setup.lm.model.fit
    if done and steps is not None and done < steps:  # the rest of the epoch the backup was taken in
        control.step_offset = done
        fit(setup.make_batches(epoch * steps + done), epochs=epoch + 1, initial_epoch=epoch,
            steps_per_epoch=steps - done, callbacks=callbacks, verbose=0, shuffle=False)
        control.step_offset = 0
        epoch += 1
        if control.reason or epoch >= epochs:
            return
    fit(setup.make_batches(epoch * (steps or 0)), epochs=epochs, initial_epoch=epoch, steps_per_epoch=steps,
        callbacks=callbacks, verbose=0, shuffle=False)


def settle(setup: Setup, control: _TrainingControl, corpus: Corpus, reason: str, restored: bool, *,
           name: str | None, early_stopping: int | None, epochs: int) -> tuple[str, bool]:
    """After fit: settle a divergence (or raise), or put back early stopping's best weights."""
    if control.reason in ("nan", "diverged"):
        try:
            settle_divergence(control, name, corpus.val, setup.cfg.learning_rate)
        except TrainingDivergedError:
            control.bus.emit(ProgressEvent("train_end", epoch=len(setup.history), epochs=epochs,
                                           elapsed=control.elapsed))
            if setup.given_config is not None:
                setup.lm.config = setup.given_config
            raise
        return control.reason, restored
    if early_stopping and control.best_weights is not None and reason != "interrupted":
        setup.lm.model.set_weights(control.best_weights)
        return reason, True
    return reason, restored


def settle_divergence(control: _TrainingControl, name: str | None, val_src: Any, learning_rate: float) -> None:
    """After a run stopped on divergence: keep weights better than the start, or raise.

    The restored snapshot counts as better when its validation loss is below the start's
    (without validation text: when its training loss was below the first step's). With no better
    weights the start weights are put back and :class:`TrainingDivergedError` is raised. A saved
    model of the same name stays unless the kept weights score better on the validation text
    (in bits per character, comparable across tokenizers). The one notice goes to ``control.notice``
    and, as a warning event, to the progress subscribers.
    """
    e, s = control.stopped_at
    advice = f"try a lower learning_rate than {learning_rate:g}"
    better = control.good_weights is not control.start_weights
    if better and control.val_fn is not None:
        control.restored_val = control._validate()
        control.lm.model.set_weights(control.start_weights)
        start_val = control._validate()
        control.lm.model.set_weights(control.good_weights)
        better = control.restored_val is not None and (start_val is None or control.restored_val < start_val)
    elif better:
        better = control.good_loss is not None and control.first_loss is not None and control.good_loss < control.first_loss
    if not better:
        control.restore_start()
        kept = f" ('{name}' is as it was)" if name is not None and store.exists(name) else ""
        raise TrainingDivergedError(
            f"Training diverged at epoch {e}, step {s} ({control.diverged}) before reaching weights better than "
            f"those it started from, so they were kept and nothing was saved{kept}; {advice}.")
    ge, gs = control.good_step
    saved_note = _keep_saved(control, name, val_src)
    control.notice = (f"Training stopped at epoch {e}, step {s}: {control.diverged}. Restored the last good "
                      f"weights (epoch {ge}, step {gs}){saved_note}; {advice}.")
    control.bus.emit(ProgressEvent("warning", epoch=e, epochs=control.epochs, step=s, elapsed=control.elapsed,
                                   message=control.notice))


def _keep_saved(control: _TrainingControl, name: str | None, val_src: Any) -> str:
    """Whether the weights kept after a divergence may replace the saved model ``name``; the note that says so."""
    if name is None or not store.exists(name):
        return ""
    from ..errors import JupyterLLMError
    from ..model.language_model import LanguageModel

    try:
        saved = LanguageModel.load(name)
    except JupyterLLMError:
        return ""  # nothing usable to keep
    if val_src is None:
        control.keep_saved = name
        return (f"; they were not saved over '{name}', as without validation text "
                "they cannot be shown to be better")
    ours = control.lm.evaluate(val_src)["bits_per_char"]
    theirs = saved.evaluate(val_src)["bits_per_char"]
    if not ours < theirs:
        control.keep_saved = name
        return (f"; they were not saved: the model saved as '{name}' scores better on the "
                f"validation text ({theirs:.3f} against {ours:.3f} bits/char)")
    return ""
