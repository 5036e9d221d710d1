"""``jupyter_llm.train``: fit a GRU-attention language model on the user's text.

Training is Keras ``fit`` with Adam and gradient clipping. Around it:

* progress events (:class:`~jupyter_llm.ProgressEvent`) for tqdm, widgets and
  the JupyterLab front end;
* best-weights tracking, early stopping, a checkpoint each epoch and resume;
* a clean stop on Ctrl-C / kernel interrupt, on ``stop_event``, on
  ``time_limit``, and on divergence: a NaN loss, or one past
  :data:`DIVERGENCE_FACTOR` times the larger of the uniform guess and the first
  step's loss (the last good weights are restored; with none better than the
  start, :class:`~jupyter_llm.TrainingDivergedError`);
* optional TensorBoard logs and any ``tf.distribute`` strategy.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gc
import json
import math
import os
import threading
import time
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterable

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import keras
import numpy as np

from .. import store
from ..config import CONFIG_FIELDS, ModelConfig
from ..errors import DataError, ModelExistsError, TrainingDivergedError, invalid
from ..text.sources import TextSource
from ..text.tokenizers import Tokenizer, fit_tokenizer, get_tokenizer
from .events import EventBus, ProgressEvent, Subscriber, TqdmProgress

#: Snapshot the weights every this many steps, to restore them if the loss turns NaN.
SNAPSHOT_EVERY = 50
#: A loss above this many times max(log(vocab_size), the first step's loss) is a divergence. A new model
#: starts near log(vocab_size), the loss of the uniform guess, and a trained one below it; healthy runs
#: go down from there, so 3x means a model far worse than guessing, and it cannot trip on them.
DIVERGENCE_FACTOR = 3.0
#: Write the training loss to TensorBoard at most every this many steps (and at least ~10 times an epoch).
TENSORBOARD_EVERY = 50


#: ModelConfig fields that may change when a model is trained further (the rest fix its shape).
RETRAIN_FIELDS = frozenset({"learning_rate", "lr_schedule", "batch_size", "clipnorm", "max_context", "seed"})


def train(
    source: Any,
    tokenizer: str | Tokenizer = "char",
    epochs: int = 1,
    validation_split: float = 0.1,
    name: str | None = None,
    *,
    validation_data: Any = None,
    size: str = "small",
    config: ModelConfig | dict | None = None,
    model: Any = None,
    max_vocab: int | None = None,
    min_freq: int = 1,
    column: str | None = None,
    encoding: str = "utf-8",
    steps_per_epoch: int | None = None,
    early_stopping: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
    tensorboard_dir: str | os.PathLike | None = None,
    strategy: Any = None,
    on_progress: Subscriber | Iterable[Subscriber] | None = None,
    progress: bool | None = None,
    sample_prompt: str | None = None,
    sample_tokens: int = 100,
    time_limit: float | None = None,
    stop_event: threading.Event | None = None,
    streaming: bool | None = None,
    overwrite: bool = False,
    jit_compile: bool = False,
    **options: Any,
):
    """Train a language model on ``source`` and return a :class:`~jupyter_llm.LanguageModel`.

    Args:
        source: the text: a str, a list of str, a file path or glob (or
            ``pathlib.Path``), a pandas Series, a DataFrame (with ``column=``),
            or any iterable of str. Files larger than the streaming threshold are
            streamed through tf.data and never read whole.
        tokenizer: ``"char"``, ``"word"``, ``"bpe"`` or a fitted Tokenizer.
        epochs: passes over the training text (with ``resume``: the total).
        validation_split: the last fraction of the text held back to measure
            the validation loss (0 for none). Ignored with ``validation_data``.
        name: save the trained model under this name in the model store (and
            checkpoint there each epoch). An existing name needs ``overwrite=True``
            and is refused *before* training starts.
        validation_data: separate validation text (any source).
        size: ``"tiny"``, ``"small"`` (default) or ``"medium"``.
        config: a full :class:`ModelConfig` (or dict) instead of ``size``.
        model: a LanguageModel to train further. It keeps its tokenizer and
            architecture; of the ModelConfig options only learning_rate,
            lr_schedule, batch_size, clipnorm, max_context and seed may change.
        max_vocab, min_freq: tokenizer vocabulary limits.
        steps_per_epoch: batches per epoch (default: one pass over the text).
        early_stopping: patience in epochs; stops when the validation loss has
            not improved for that many epochs and restores the best weights.
        checkpoint_dir: save a checkpoint here after every epoch.
        resume: continue from the checkpoint in ``checkpoint_dir`` (or of ``name``).
        tensorboard_dir: write TensorBoard logs here.
        strategy: a ``tf.distribute.Strategy`` to train under.
        on_progress: a callable (or list) receiving each ProgressEvent.
        progress: show a tqdm bar (default: when no ``on_progress`` is given).
        sample_prompt, sample_tokens: a text sample generated after each epoch.
        time_limit: stop after this many seconds (at the end of a step).
        stop_event: a ``threading.Event``; setting it stops after the current step.
        streaming: force (True) or forbid (False) streaming from disk.
        jit_compile: compile the training step with XLA.
        **options: any :class:`ModelConfig` field (``rnn_units=512``, ``seq_len=64``, ...).

    A Ctrl-C or kernel interrupt stops training cleanly: the model returned
    has the better of the current weights and the best epoch's weights.

    Raises:
        TrainingDivergedError: the loss turned NaN or grew past the divergence bound
            (see :data:`DIVERGENCE_FACTOR`) before the weights got better than those the
            run started from. They are kept, and nothing is saved. A divergence after
            some progress keeps the better weights and warns instead.
    """
    # === Check the arguments before any work ===
    unknown = sorted(set(options) - CONFIG_FIELDS)
    if unknown:
        raise invalid(unknown[0], f"a ModelConfig field (one of {sorted(CONFIG_FIELDS - {'extra'})}) "
                      "or an argument of train()", options[unknown[0]])
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise invalid("epochs", "a positive integer", epochs)
    if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1):
        raise invalid("steps_per_epoch", "a positive integer or None", steps_per_epoch)
    if early_stopping is not None and (isinstance(early_stopping, bool) or not isinstance(early_stopping, int) or early_stopping < 1):
        raise invalid("early_stopping", "a patience in epochs (a positive integer) or None", early_stopping)
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or time_limit <= 0):
        raise invalid("time_limit", "a number of seconds > 0 or None", time_limit)
    if validation_split != 0:
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or not 0 < validation_split < 1:
            raise invalid("validation_split", "a number in (0, 1), or 0 for no validation", validation_split)
    if model is None and not isinstance(tokenizer, Tokenizer):
        get_tokenizer(tokenizer)  # an unknown name fails now, before reading any data
    if name is not None:
        if not isinstance(name, str) or not store.is_name(name):
            raise invalid("name", "a model name of letters, digits, '-', '_' or '.'", name)
        if store.exists(name) and not overwrite and not resume:
            raise ModelExistsError(
                f"A model named '{name}' is already saved. Expected a new name, or pass overwrite=True to replace it "
                "(checked before training, so no work is lost)."
            )
    if tensorboard_dir is not None:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise invalid("tensorboard_dir", "None, or install TensorBoard first (pip install tensorboard)",
                          str(tensorboard_dir))
    if checkpoint_dir is None and name is not None:
        checkpoint_dir = store.home() / "checkpoints" / name

    # === Data ===
    src = TextSource.from_any(source, column=column, encoding=encoding)
    if src.is_blank():
        raise DataError(f"The training text ({src.description}) is empty or only whitespace. Expected some text to learn from.")
    if validation_data is not None:
        train_src, val_src = src, TextSource.from_any(validation_data, column=column, encoding=encoding)
        if val_src.is_blank():
            raise DataError(f"The validation text ({val_src.description}) is empty. Expected some text, or validation_data=None.")
    elif validation_split:
        train_src, val_src = src.split(validation_split)
    else:
        train_src, val_src = src, None

    # === Model, tokenizer and config ===
    from ..model.language_model import LanguageModel

    history: list[dict[str, Any]] = []
    initial_epoch = 0
    checkpoint = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume:
        if checkpoint is None:
            raise invalid("resume", "a checkpoint_dir or name to resume from", resume)
        if (checkpoint / "model" / store.MANIFEST).is_file():
            model = LanguageModel.load(checkpoint / "model")
            model.name = None  # the checkpoint's folder is called 'model'; name= names the result, at the end
            state = json.loads((checkpoint / "state.json").read_text("utf-8"))
            initial_epoch = int(state["epoch"])
            history = list(state.get("history", []))
        elif name is not None and store.exists(name):
            # No checkpoint, but a saved model of that name: continue training it, never replace it.
            model = LanguageModel.load(name)
            history = list(model.metadata.get("history", []))
            initial_epoch = len(history)
    if isinstance(model, LanguageModel):
        lm = model
        tok = lm.tokenizer
        cfg = given_config = lm.config  # given_config is put back if the run diverges to nothing
        # A model trained further keeps its architecture; only the optimisation settings may change.
        changed = {k: v for k, v in options.items() if getattr(cfg, k) != v}
        fixed = sorted(set(changed) - RETRAIN_FIELDS)
        if fixed:
            raise invalid(fixed[0], f"{getattr(cfg, fixed[0])!r}, the value of the model being trained further "
                          f"(only {', '.join(sorted(RETRAIN_FIELDS))} can change; train a new model to change "
                          f"{fixed[0]})", changed[fixed[0]])
        if changed:
            cfg = lm.config = dataclasses.replace(cfg, **changed)
    else:
        if model is not None:
            raise invalid("model", "a jupyter_llm LanguageModel to train further, or None", type(model).__name__)
        if config is not None:
            cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(dict(config))
            for key, value in options.items():
                setattr(cfg, key, value)
            cfg.__post_init__()
        else:
            cfg = ModelConfig.from_size(size, **options)
        tok = fit_tokenizer(tokenizer, src.iter_chunks(), **_vocab_args(max_vocab, min_freq))
        lm = given_config = None
    stream = src.is_large() if streaming is None else bool(streaming)

    if stream:
        n_train_tokens = None
        train_bytes = train_src.nbytes
        steps = steps_per_epoch
        # An estimate for progress: one token per byte is right for characters of ASCII text.
        est_steps = steps or max(1, train_bytes // (cfg.seq_len * cfg.batch_size))
    else:
        train_ids = _encode(train_src, tok)
        n_train_tokens = len(train_ids)
        if n_train_tokens < cfg.seq_len + 1:
            raise DataError(
                f"The training text is {n_train_tokens:,} tokens long, but one training sequence needs "
                f"seq_len + 1 = {cfg.seq_len + 1} tokens. Expected more text, or a smaller seq_len "
                f"(for example seq_len={max(8, n_train_tokens // 4)})."
            )
        steps = steps_per_epoch or max(1, (n_train_tokens - 1) // (cfg.seq_len * cfg.batch_size))
        est_steps = steps

    from . import data

    seed = cfg.seed if cfg.seed is not None else 0
    if stream:
        train_ds = data.streaming_windows(train_src, tok, cfg.seq_len, cfg.batch_size, seed=seed)
        if steps is not None:
            train_ds = train_ds.repeat()
    else:
        train_ds = data.random_windows(train_ids, cfg.seq_len, cfg.batch_size, steps * epochs, seed)
    val_fn = None
    if val_src is not None:
        if not stream:
            n_val = len(_encode(val_src, tok))
            if n_val < 2:
                raise DataError(
                    f"The validation text has {n_val} token(s). Expected at least 2; give more text, "
                    "validation_data=..., or validation_split=0."
                )

        def val_fn() -> dict[str, float]:
            # LanguageModel.evaluate itself: nats per token, each token once, and the characters they cover.
            return lm.evaluate(val_src, batch_size=cfg.batch_size)

    scope = strategy.scope() if strategy is not None else nullcontext()
    with scope:
        if lm is None:
            lm = LanguageModel.build(cfg, tok)
        elif strategy is not None:
            raise invalid("strategy", "None when training an existing model further", strategy)
        learning_rate: Any = cfg.learning_rate
        if cfg.lr_schedule == "cosine":
            learning_rate = keras.optimizers.schedules.CosineDecay(
                cfg.learning_rate, decay_steps=max(1, est_steps * epochs), alpha=0.05)
        optimizer = keras.optimizers.Adam(learning_rate, clipnorm=cfg.clipnorm)
        if initial_epoch and cfg.lr_schedule != "constant":
            optimizer.iterations.assign(est_steps * initial_epoch)  # a resumed run goes on down the schedule
        lm.model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit_compile,
        )

    # === Callbacks ===
    subscribers = [] if on_progress is None else ([on_progress] if callable(on_progress) else list(on_progress))
    if progress or (progress is None and not subscribers):
        subscribers.append(TqdmProgress())
    bus = EventBus(subscribers)
    chars_per_token = _chars_per_token(train_src, tok, n_train_tokens)
    control = _TrainingControl(
        lm=lm, bus=bus, epochs=epochs, steps=steps if steps is not None else None, est_steps=est_steps,
        tokens_per_step=cfg.seq_len * cfg.batch_size, time_limit=time_limit, stop_event=stop_event,
        early_stopping=early_stopping, checkpoint=checkpoint, history=history,
        sample_prompt=sample_prompt, sample_tokens=sample_tokens, val_fn=val_fn,
        initial_epoch=initial_epoch, chars_per_token=chars_per_token,
    )
    callbacks: list[Any] = [control]
    if tensorboard_dir is not None:
        every = max(1, min(TENSORBOARD_EVERY, est_steps // 10))
        callbacks.append(_TensorBoard(control, initial_step=initial_epoch * est_steps,
                                      log_dir=str(tensorboard_dir), update_freq=every))

    # === Fit ===
    bus.emit(ProgressEvent("train_begin", epoch=initial_epoch + 1, epochs=epochs, steps=steps))
    reason = "completed"
    restored = False
    if initial_epoch < epochs:
        try:
            with warnings.catch_warnings():
                # A streamed corpus has no known length: Keras warns at the end of every epoch.
                warnings.filterwarnings("ignore", message="Your input ran out of data")
                lm.model.fit(train_ds, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
                             callbacks=callbacks, verbose=0, shuffle=False)
            reason = control.reason or "completed"
        except KeyboardInterrupt:
            reason = "interrupted"
            restored = control.keep_better_on_interrupt()
    # Stopping fit() early leaves its tf.data iterator in a reference cycle; freeing it can
    # block for seconds. Do it now, while the user waits for training, not later at random.
    del train_ds
    gc.collect()
    if control.reason in ("nan", "diverged"):
        reason = control.reason
        try:
            _settle_divergence(control, name, val_src, cfg.learning_rate)
        except TrainingDivergedError:
            bus.emit(ProgressEvent("train_end", epoch=len(history), epochs=epochs, elapsed=control.elapsed))
            if given_config is not None:
                lm.config = given_config
            raise
    elif early_stopping and control.best_weights is not None and reason != "interrupted":
        lm.model.set_weights(control.best_weights)
        restored = True

    # === Metadata ===
    # The history and the checkpoint hold complete epochs only. A run stopped part-way through an
    # epoch reports that epoch as `partial_epoch`. `val_loss` is that of the weights returned; `loss`
    # the training loss of the last epoch run, complete or not.
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
    val_chars_per_token = control.val_chars_per_token or chars_per_token
    if metrics["val_loss"] is not None and val_chars_per_token:
        metrics["val_bits_per_char"] = metrics["val_loss"] / val_chars_per_token / math.log(2)
    lm.metadata.update({
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "corpus": {
            "description": src.description,
            "fingerprint": src.fingerprint() if not stream else None,
            "bytes": src.nbytes,
            "train_tokens": n_train_tokens,
            "chars_per_token": chars_per_token,
            "validation": (f"last {validation_split:.0%}" if validation_data is None and validation_split
                           else "separate" if validation_data is not None else None),
        },
        "metrics": metrics,
        "history": history,
    })
    message = control.final_message(reason, metrics["val_loss"])
    bus.emit(ProgressEvent("train_end", epoch=len(history), epochs=epochs, loss=metrics["loss"],
                           val_loss=metrics["val_loss"], elapsed=control.elapsed, message=message))
    if control.notice is not None and not subscribers:
        # A progress display got the divergence notice as a warning event; without one, code must hear it.
        warnings.warn(control.notice, RuntimeWarning, stacklevel=2)
    if name is not None and control.keep_saved is None:
        try:
            lm.save(name, overwrite=True)
        except KeyboardInterrupt:  # the save is atomic: nothing half-written; the model is still returned
            bus.emit(ProgressEvent("warning", message=(
                f"Interrupted while saving '{name}': it was not saved. The trained model is returned; "
                f"save it with lm.save({name!r}, overwrite=True).")))
    return lm


def _settle_divergence(control: _TrainingControl, name: str | None, val_src: TextSource | None,
                       learning_rate: float) -> None:
    """After a run stopped on divergence: keep weights better than the start, or raise.

    The restored snapshot counts as better when its validation loss is below the start's
    (without validation text: when its training loss was below the first step's). With no better
    weights the start weights are put back and :class:`TrainingDivergedError` is raised. A saved
    model of the same name stays unless the kept weights score better on the validation text
    (in bits per character, comparable across tokenizers). The one notice goes to ``control.notice``
    and, as a warning event, to the progress subscribers.
    """
    lm = control.lm
    e, s = control.stopped_at
    advice = f"try a lower learning_rate than {learning_rate:g}"
    better = control.good_weights is not control.start_weights
    if better and control.val_fn is not None:
        control.restored_val = control._validate()
        lm.model.set_weights(control.start_weights)
        start_val = control._validate()
        lm.model.set_weights(control.good_weights)
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
    saved_note = ""
    if name is not None and store.exists(name):
        from ..errors import JupyterLLMError
        from ..model.language_model import LanguageModel

        try:
            saved = LanguageModel.load(name)
        except JupyterLLMError:
            saved = None  # nothing usable to keep
        if saved is not None:
            if val_src is None:
                control.keep_saved = name
                saved_note = (f"; they were not saved over '{name}', as without validation text "
                              "they cannot be shown to be better")
            else:
                ours = lm.evaluate(val_src)["bits_per_char"]
                theirs = saved.evaluate(val_src)["bits_per_char"]
                if not ours < theirs:
                    control.keep_saved = name
                    saved_note = (f"; they were not saved: the model saved as '{name}' scores better on the "
                                  f"validation text ({theirs:.3f} against {ours:.3f} bits/char)")
    control.notice = (f"Training stopped at epoch {e}, step {s}: {control.diverged}. Restored the last good "
                      f"weights (epoch {ge}, step {gs}){saved_note}; {advice}.")
    control.bus.emit(ProgressEvent("warning", epoch=e, epochs=control.epochs, step=s, elapsed=control.elapsed,
                                   message=control.notice))


def _vocab_args(max_vocab: int | None, min_freq: int) -> dict[str, Any]:
    return {"max_vocab": max_vocab, "min_freq": min_freq}


def _encode(src: TextSource, tok: Tokenizer) -> np.ndarray:
    from .data import encode_source

    return encode_source(src, tok)


def _all_finite(weights: list[np.ndarray]) -> bool:
    return all(np.isfinite(w).all() for w in weights)


def _chars_per_token(src: TextSource, tok: Tokenizer, n_tokens: int | None) -> float | None:
    if tok.kind == "char":
        return 1.0
    if n_tokens:
        chars = sum(len(c) for c in src.iter_chunks())
        return chars / n_tokens
    return None


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
        self.step = 0
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step = batch + 1
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
        per_step = (now - self.epoch_start) / self.step
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
        if self.sample_tokens:
            try:
                sample = self.lm.generate(self.sample_prompt or "", max_tokens=self.sample_tokens,
                                          temperature=0.8, seed=epoch)
            except Exception as e:  # a sample is a courtesy; it never stops training
                sample = f"(no sample: {e})"
            self.bus.emit(ProgressEvent("sample", epoch=epoch + 1, epochs=self.epochs,
                                        sample=(self.sample_prompt or "") + sample, elapsed=self.elapsed))

    def _stop_diverged(self, reason: str, what: str) -> None:
        """Restore the last good snapshot and stop; :func:`_settle_divergence` reports it after fit."""
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
