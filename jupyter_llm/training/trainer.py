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

:func:`train` runs four steps, each in its own module: :mod:`.prepare` (the
arguments, the text, the tokenizer and config, the batches), :mod:`.fit` (the
model compiled and fitted with the callbacks of :mod:`.callbacks`) and
:mod:`.summary` (metrics, metadata, the save). Every option is checked once by
:class:`~jupyter_llm.training.options.TrainOptions`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Iterable

from ..config import ModelConfig
from ..errors import TrainingDivergedError, invalid
from ..text.tokenizers import Tokenizer
from . import backup, distributed, finetune, fit, history, prepare, summary
from .callbacks import DIVERGENCE_FACTOR, SNAPSHOT_EVERY, TENSORBOARD_EVERY, _TrainingControl  # noqa: F401
from .events import Subscriber
from .options import TrainOptions
from .prepare import RETRAIN_FIELDS, build_model  # noqa: F401  (re-exported)

__all__ = ["train", "build_model"]


def train(
    source: Any,
    tokenizer: str | Tokenizer | None = None,
    epochs: int = 1,
    validation_split: float = 0.1,
    name: str | None = None,
    *,
    validation_data: Any = None,
    size: str | None = None,
    config: ModelConfig | dict | None = None,
    model: Any = None,
    base: Any = None, freeze_embedding_epochs: int = 0,
    max_vocab: int | None = None, min_freq: int = 1,
    column: str | None = None, encoding: str = "utf-8",
    steps_per_epoch: int | None = None,
    early_stopping: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
    tensorboard_dir: str | os.PathLike | None = None,
    strategy: Any = None, workers: int = 1,
    backup_dir: str | os.PathLike | None = None, backup_every: int = 100,
    on_progress: Subscriber | Iterable[Subscriber] | None = None,
    progress: bool | None = None,
    sample_prompt: str | None = None, sample_tokens: int = 100,
    time_limit: float | None = None,
    stop_event: threading.Event | None = None,
    streaming: bool | None = None,
    overwrite: bool = False, jit_compile: bool = False, copy_index: bool = True,
    **options: Any,
):
    """Train a language model on ``source`` and return a :class:`~jupyter_llm.LanguageModel`.

    Args:
        source: the text: a str, a list of str, a file path or glob (or
            ``pathlib.Path``), a pandas Series, a DataFrame (with ``column=``),
            or any iterable of str. Files larger than the streaming threshold are
            streamed through tf.data and never read whole.
        tokenizer: ``"char"`` (None: the default), ``"word"``, ``"bpe"`` or a fitted Tokenizer.
        epochs: passes over the training text (with ``resume``: the total).
        validation_split: the last fraction of the text held back to measure
            the validation loss (0 for none). Ignored with ``validation_data``.
        name: save the trained model under this name in the model store (and
            checkpoint there each epoch). An existing name needs ``overwrite=True``
            and is refused *before* training starts.
        validation_data: separate validation text (any source).
        size, config: ``"tiny"``, ``"small"`` (None: default) or ``"medium"``; or a :class:`ModelConfig` (or dict).
        model: a LanguageModel to train further. It keeps its tokenizer and
            architecture; of the ModelConfig options only learning_rate,
            lr_schedule, batch_size, clipnorm, max_context and seed may change.
        base: fine-tune a copy of this model (a bundled or saved name, a folder, a LanguageModel; never
            changed): learning_rate the base's, early_stopping 2 by default; new characters join a char
            vocabulary. Not with model, size, tokenizer, config or architecture options (:mod:`.finetune`).
        max_vocab, min_freq: tokenizer vocabulary limits. column, encoding: see ``TextSource``.
        steps_per_epoch: batches per epoch (default: one pass over the text).
        early_stopping: patience in epochs; stops when the validation loss has
            not improved for that many epochs and restores the best weights.
        checkpoint_dir, resume: save a checkpoint here after every epoch; continue from it (or from ``name``'s).
        tensorboard_dir: write TensorBoard logs here.
        strategy: train under a ``tf.distribute.Strategy``, ``"mirrored"`` (this process's devices),
            ``"multi-worker"`` (``MultiWorkerMirroredStrategy`` over the cluster of ``TF_CONFIG`` or Slurm)
            or a cluster resolver (see :mod:`.distributed`). batch_size is global, split between the
            workers, and each worker reads its own shard of the text; only the chief writes.
        workers: start this many local worker processes and train in them (multi-worker, with a
            generated ``TF_CONFIG``; a lost worker restarts them from the backup); see :mod:`.launch`.
        backup_dir, backup_every: with several workers, back up the run in this folder (default: the
            checkpoint folder's ``backup``) every this many steps and at each epoch's end; a run that
            finds a backup resumes from it, part-way through an epoch if need be (see :mod:`.backup`).
        on_progress, progress: a callable (or list) receiving each ProgressEvent; show a tqdm bar
            (default: when no ``on_progress`` is given).
        sample_prompt, sample_tokens: a text sample generated after each epoch.
        time_limit: stop after this many seconds (at the end of a step).
        stop_event: a ``threading.Event``; setting it stops after the current step.
        streaming, jit_compile: force (True) or forbid (False) streaming from disk; compile the step with XLA.
        copy_index: keep an index of the text trained on for ``lm.copied`` (False: none; see summary.index_copies).
        freeze_embedding_epochs: keep the embedding fixed for the first N epochs of the run (0: never).
        **options: any :class:`ModelConfig` field (``rnn_units=512``, ``seq_len=64``, ...).

    Every option's range is in :data:`~jupyter_llm.training.options.TRAINING`. To hold
    a new model before training it, see :func:`~jupyter_llm.build_model`.

    A Ctrl-C or kernel interrupt stops training cleanly: the model returned
    has the better of the current weights and the best epoch's weights.

    Raises:
        TrainingDivergedError: the loss turned NaN or grew past the divergence bound (see
            :data:`DIVERGENCE_FACTOR`) before the weights got better than those the run started
            from: they are kept, nothing is saved. After some progress it keeps the better weights and warns.
    """
    call = dict(locals())  # every argument, for the steps below
    opts = _options(call)
    if opts.workers > 1:
        return _in_workers(call)
    cluster = distributed.resolve(strategy)  # first: multi-worker collectives are set up before TensorFlow runs
    try:
        return _train_here(call, opts, cluster)
    finally:
        if cluster is not None:
            cluster.cleanup()


def _options(call: dict[str, Any]) -> TrainOptions:
    """train()'s options, each checked once (a misspelt keyword, a bad value: one sentence)."""
    prepare.check_unknown(call["options"])
    c = call
    early_stopping = finetune.check_call(c["base"], model=c["model"], config=c["config"], size=c["size"],
                                         tokenizer=c["tokenizer"], overrides=c["options"], resume=c["resume"],
                                         early_stopping=c["early_stopping"],
                                         validation=bool(c["validation_split"]) or c["validation_data"] is not None)
    return TrainOptions.from_call(
        c["options"], epochs=c["epochs"], steps_per_epoch=c["steps_per_epoch"],
        validation_split=c["validation_split"], early_stopping=early_stopping, time_limit=c["time_limit"],
        sample_tokens=c["sample_tokens"], sample_prompt=c["sample_prompt"], resume=c["resume"],
        overwrite=c["overwrite"], size=c["size"] or "small", max_vocab=c["max_vocab"],
        tokenizer="char" if c["tokenizer"] is None else c["tokenizer"], min_freq=c["min_freq"],
        copy_index=c["copy_index"], base=finetune.label_of(c["base"]),
        freeze_embedding_epochs=c["freeze_embedding_epochs"], workers=c["workers"], backup_every=c["backup_every"])


#: train()'s arguments that the launcher takes apart; the rest go to the workers as they are.
_LAUNCHER = ("source", "workers", "name", "strategy", "model", "base", "on_progress", "progress", "stop_event",
             "validation_data", "config", "tensorboard_dir", "checkpoint_dir", "backup_dir")


def _in_workers(call: dict[str, Any]):
    """``workers=N``: the run in N new local worker processes (:mod:`.launch`)."""
    from . import launch

    options = {k: v for k, v in call.items() if k not in _LAUNCHER and k != "options"}
    options.update(call["options"])
    return launch.train_in_workers(call["source"], call["workers"], options=options,
                                   **{k: call[k] for k in _LAUNCHER[2:]})


def _train_here(call: dict[str, Any], opts: TrainOptions, cluster: Any):
    """The run in this process (one worker of several with a multi-worker ``cluster``)."""
    name, tensorboard_dir, checkpoint_dir = call["name"], call["tensorboard_dir"], call["checkpoint_dir"]
    # Every worker reads the one backup, where the chief writes it: found before the others' folders change.
    folder = _backup_folder(call["backup_dir"], prepare.checkpoint_folder(name, checkpoint_dir), cluster)
    if cluster is not None and cluster.multi_worker and opts.resume:
        raise invalid("resume", "False with several workers (a multi-worker run resumes from its backup by "
                      "itself: start it again with the same name, checkpoint_dir or backup_dir)", True)
    if cluster is not None and cluster.multi_worker and not cluster.is_chief:
        # Only the chief writes; the others check the same things, then write to folders they remove.
        prepare.check_destination(name, opts, tensorboard_dir, checkpoint_dir)
        name, tensorboard_dir = None, cluster.private_dir(tensorboard_dir, "logs")
        checkpoint_dir = cluster.private_dir(checkpoint_dir, "checkpoints")
    checkpoint = prepare.check_destination(name, opts, tensorboard_dir, checkpoint_dir)
    corpus = prepare.read_corpus(call["source"], call["validation_data"], opts.validation_split, call["column"],
                                 call["encoding"])
    overrides = {**call["options"], **opts.config_overrides()}
    setup = (finetune.base_setup(call["base"], corpus, overrides, checkpoint) if call["base"] is not None else
             prepare.model_setup(corpus, opts, overrides, model=call["model"], config=call["config"], name=name,
                                 checkpoint=checkpoint))
    prepare.plan_batches(setup, corpus, call["streaming"], opts.epochs, opts.steps_per_epoch, cluster)
    fit.compile_model(setup, cluster.strategy if cluster is not None else None, opts.epochs, call["jit_compile"])
    if cluster is not None:
        distributed.adapt_model(setup.lm.model, cluster, setup.cfg.seq_len)
    saved = backup.load(folder)
    if saved is not None:
        backup.restore(setup.lm.model, saved, cluster.strategy if cluster is not None else None)
        setup.initial_epoch, setup.start_step, setup.history = saved["epoch"], saved["step"], saved["history"]
    control, callbacks, subscribers = fit.make_callbacks(
        setup, corpus, opts, on_progress=call["on_progress"], progress=call["progress"],
        stop_event=call["stop_event"], tensorboard_dir=tensorboard_dir)
    callbacks += _fault_tolerance(control, cluster, opts, folder, saved)
    return _fit_and_record(setup, corpus, opts, control, callbacks, subscribers, name=name,
                           separate_validation=call["validation_data"] is not None, cluster=cluster)


def _backup_folder(backup_dir: Any, checkpoint: Any, cluster: Any) -> Path | None:
    """Where the run backs up: ``backup_dir``, or with several workers the checkpoint folder's ``backup``."""
    if backup_dir is not None:
        return Path(backup_dir)
    if cluster is not None and cluster.multi_worker and checkpoint is not None:
        return Path(checkpoint) / "backup"
    return None


def _fault_tolerance(control: _TrainingControl, cluster: Any, opts: TrainOptions, folder: Path | None,
                     saved: dict[str, Any] | None) -> list[Any]:
    """The backup callback (when the run backs up), after the control; the control told of the cluster and backup."""
    control.cluster = cluster
    if saved is not None:
        control.best_val, control.wait = saved["best_val"], saved["wait"]
        control.tokens_seen = saved["tokens_seen"]
    if folder is None:
        return []
    control.backup = backup.Backup(folder, opts.backup_every, control,
                                   write=cluster is None or cluster.is_chief)
    if saved is not None:
        control.backup.resumed = saved["resumed"] + [{"epoch": saved["epoch"], "step": saved["step"],
                                                      "iterations": saved["iterations"]}]
    return [control.backup]


def _fit_and_record(setup: prepare.Setup, corpus: prepare.Corpus, opts: TrainOptions, control: _TrainingControl,
                    callbacks: list[Any], subscribers: list[Any], *, name: str | None, separate_validation: bool,
                    cluster: Any = None):
    """Fit, settle how it ended, record the run (in the model's metadata and the run history), save; the model.

    With several workers only the chief records and saves; the backup is removed once the run has ended.
    """
    callbacks = callbacks + finetune.freeze_embedding(setup, opts.freeze_embedding_epochs)
    chief = cluster is None or cluster.is_chief
    log = history.RunLog(name, base=opts.base)  # the run history's record of this run, written however it ends
    save_log = log.save if chief else (lambda *args: None)
    control.bus.subscribers.append(log.curve)
    try:
        reason, restored = fit.run_fit(setup, control, callbacks, opts.epochs)
        reason, restored = fit.settle(setup, control, corpus, reason, restored, name=name,
                                      early_stopping=opts.early_stopping, epochs=opts.epochs)
    except TrainingDivergedError:
        save_log(opts, setup, corpus, summary.metrics_of(control, setup.history, control.reason or "diverged",
                                                         False, opts.early_stopping), control.reason or "diverged")
        raise
    except Exception:
        save_log(opts, setup, corpus, None, "failed")
        raise
    metrics = summary.metrics_of(control, setup.history, reason, restored, opts.early_stopping)
    summary.record(setup, corpus, control, metrics, validation_split=opts.validation_split,
                   separate_validation=separate_validation, copy_index=opts.copy_index and chief)
    setup.lm.metadata["run"] = log.id
    if cluster is not None or control.backup is not None:
        setup.lm.metadata["distributed"] = _distributed_record(setup, control, cluster)
    summary.finish(setup, control, metrics, reason, epochs=opts.epochs, name=name, subscribers=subscribers)
    save_log(opts, setup, corpus, metrics, reason)
    if control.backup is not None and reason != "interrupted":
        control.backup.remove()  # the run has ended: a later run must not resume from it
    return setup.lm


def _distributed_record(setup: prepare.Setup, control: _TrainingControl, cluster: Any) -> dict[str, Any]:
    """How the run was spread and resumed, for the model's metadata: workers, steps made, restarts."""
    record = cluster.describe() if cluster is not None else {"strategy": None, "workers": 1, "replicas": 1}
    record["steps"] = int(setup.lm.model.optimizer.iterations.numpy())
    record["global_batch"] = setup.cfg.batch_size
    if setup.shard is not None:
        from ..text.shards import parts_of

        record["shard"] = {"worker": cluster.index, "of": cluster.workers, "description": setup.shard.description,
                           "parts": parts_of(setup.shard)}
    record["resumed"] = control.backup.resumed if control.backup is not None else []
    return record
