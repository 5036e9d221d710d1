"""Before training: check where the model goes, read the text, make (or reuse) the tokenizer and config.

Nothing here trains. :func:`build_model` is the public way to get an untrained
model; :func:`~jupyter_llm.train` goes on from :class:`Setup` to
:mod:`.fit` and :mod:`.summary`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import store
from ..config import CONFIG_FIELDS, ModelConfig
from ..errors import DataError, ModelExistsError, invalid
from ..text.sources import TextSource
from ..text.tokenizers import Tokenizer, fit_tokenizer
from .options import TrainOptions

_log = logging.getLogger("jupyter_llm.training")

#: ModelConfig fields that may change when a model is trained further (the rest fix its shape).
RETRAIN_FIELDS = frozenset({"learning_rate", "lr_schedule", "batch_size", "clipnorm", "max_context", "seed"})


@dataclass
class Corpus:
    """The text of a run: all of it, the part trained on, and the part held back (None: no validation)."""

    src: TextSource
    train: TextSource
    val: TextSource | None


@dataclass
class Setup:
    """What fitting needs, made before it starts."""

    tok: Tokenizer
    cfg: ModelConfig
    lm: Any = None  # a new model is built by fit.compile_model, inside the strategy's scope
    given_config: ModelConfig | None = None  # a model trained further: its config, put back if it diverges to nothing
    history: list[dict[str, Any]] = field(default_factory=list)
    initial_epoch: int = 0
    checkpoint: Path | None = None
    # === Batches (plan_batches) ===
    stream: bool = False
    n_train_tokens: int | None = None  # None when streamed
    steps: int | None = None  # batches per epoch; None: a streamed corpus's one pass
    est_steps: int = 1  # for progress and schedules when steps is None
    make_batches: Callable[[int], Any] | None = None  # the training batches from a global step on
    start_step: int = 0  # steps of the first epoch already made (a run resumed from a backup)
    shard: TextSource | None = None  # this worker's part of the text, with several workers
    val_fn: Callable[[], dict[str, float]] | None = None


# === Arguments ===


def check_unknown(options: dict[str, Any]) -> None:
    """Refuse a keyword that is neither an argument of train() nor a ModelConfig field (a misspelling)."""
    unknown = sorted(set(options) - CONFIG_FIELDS)
    if unknown:
        raise invalid(unknown[0], f"a ModelConfig field (one of {sorted(CONFIG_FIELDS - {'extra'})}) "
                      "or an argument of train()", options[unknown[0]])


def check_destination(name: str | None, opts: TrainOptions, tensorboard_dir: Any,
                      checkpoint_dir: str | os.PathLike | None) -> Path | None:
    """Refuse a bad or taken name before any work; the checkpoint folder (the name's by default)."""
    if name is not None:
        if not isinstance(name, str) or not store.is_name(name):
            raise invalid("name", "a model name of letters, digits, '-', '_' or '.'", name)
        if store.exists(name) and not opts.overwrite and not opts.resume:
            raise ModelExistsError(
                f"A model named '{name}' is already saved. Expected a new name, or pass overwrite=True to replace it "
                "(checked before training, so no work is lost)."
            )
    if tensorboard_dir is not None:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise invalid("tensorboard_dir", "None, or install TensorBoard first (pip install tensorboard)",
                          str(tensorboard_dir))
    return checkpoint_folder(name, checkpoint_dir)


def checkpoint_folder(name: str | None, checkpoint_dir: str | os.PathLike | None) -> Path | None:
    """Where a run checkpoints: ``checkpoint_dir``, else the store's folder for ``name``, else nowhere."""
    if checkpoint_dir is None and name is not None:
        checkpoint_dir = store.home() / "checkpoints" / name
    return Path(checkpoint_dir) if checkpoint_dir is not None else None


# === Text ===


def read_corpus(source: Any, validation_data: Any, validation_split: float, column: str | None,
                encoding: str) -> Corpus:
    """The training text and the validation text (separate, the last ``validation_split``, or none)."""
    src = _source(source, column, encoding)
    if validation_data is not None:
        val = TextSource.from_any(validation_data, column=column, encoding=encoding)
        if val.is_blank():
            raise DataError(f"The validation text ({val.description}) is empty. Expected some text, or validation_data=None.")
        return Corpus(src, src, val)
    if validation_split:
        return Corpus(src, *src.split(validation_split))
    return Corpus(src, src, None)


def _source(source: Any, column: str | None, encoding: str) -> TextSource:
    src = TextSource.from_any(source, column=column, encoding=encoding)
    if src.is_blank():
        raise DataError(f"The training text ({src.description}) is empty or only whitespace. Expected some text to learn from.")
    return src


# === Model, tokenizer and config ===


def model_setup(corpus: Corpus, opts: TrainOptions, overrides: dict[str, Any], *, model: Any,
                config: ModelConfig | dict | None, name: str | None, checkpoint: Path | None) -> Setup:
    """The model to train further (given, or resumed) with its config, or a new tokenizer and config."""
    from ..model.language_model import LanguageModel

    history: list[dict[str, Any]] = []
    initial_epoch = 0
    if opts.resume:
        found = _resumed(checkpoint, name)
        if found is not None:
            model, history, initial_epoch = found
    if isinstance(model, LanguageModel):
        given = model.config
        return Setup(tok=model.tokenizer, cfg=_retrain_config(model, overrides), lm=model, given_config=given,
                     history=history, initial_epoch=initial_epoch, checkpoint=checkpoint)
    if model is not None:
        raise invalid("model", "a jupyter_llm LanguageModel to train further, or None", type(model).__name__)
    cfg = new_config(opts.size, config, overrides)
    tok = fit_tokenizer(opts.tokenizer, corpus.src.iter_chunks(), max_vocab=opts.max_vocab, min_freq=opts.min_freq)
    return Setup(tok=tok, cfg=cfg, history=history, initial_epoch=initial_epoch, checkpoint=checkpoint)


def _resumed(checkpoint: Path | None, name: str | None) -> tuple[Any, list[dict[str, Any]], int] | None:
    """``(model, history, epochs done)`` to continue from: the checkpoint's, or the saved model ``name``."""
    from ..model.language_model import LanguageModel

    if checkpoint is None:
        raise invalid("resume", "a checkpoint_dir or name to resume from", True)
    if (checkpoint / "model" / store.MANIFEST).is_file():
        model = LanguageModel.load(checkpoint / "model")
        model.name = None  # the checkpoint's folder is called 'model'; name= names the result, at the end
        state = json.loads((checkpoint / "state.json").read_text("utf-8"))
        return model, list(state.get("history", [])), int(state["epoch"])
    if name is not None and store.exists(name):
        # No checkpoint, but a saved model of that name: continue training it, never replace it.
        model = LanguageModel.load(name)
        history = list(model.metadata.get("history", []))
        return model, history, len(history)
    return None


def _retrain_config(lm: Any, overrides: dict[str, Any]) -> ModelConfig:
    """A model trained further keeps its architecture; only the optimisation settings may change."""
    cfg = lm.config
    changed = {k: v for k, v in overrides.items() if getattr(cfg, k) != v}
    fixed = sorted(set(changed) - RETRAIN_FIELDS)
    if fixed:
        raise invalid(fixed[0], f"{getattr(cfg, fixed[0])!r}, the value of the model being trained further "
                      f"(only {', '.join(sorted(RETRAIN_FIELDS))} can change; train a new model to change "
                      f"{fixed[0]})", changed[fixed[0]])
    if changed:
        cfg = lm.config = dataclasses.replace(cfg, **changed)
    return cfg


def new_config(size: str, config: ModelConfig | dict | None, overrides: dict[str, Any]) -> ModelConfig:
    """The config of a new model: ``config`` (a ModelConfig or dict) or the named ``size``, with ``overrides``."""
    if config is None:
        return ModelConfig.from_size(size, **overrides)
    cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(dict(config))
    for key, value in overrides.items():
        setattr(cfg, key, value)
    cfg.__post_init__()
    return cfg


def build_model(text_or_tokenizer: Any, size: str = "small", tokenizer: str | Tokenizer = "char", *,
                config: ModelConfig | dict | None = None, max_vocab: int | None = None, min_freq: int = 1,
                column: str | None = None, encoding: str = "utf-8", **options: Any):
    """A new, untrained :class:`~jupyter_llm.LanguageModel`, exactly as :func:`~jupyter_llm.train` makes one.

    Args:
        text_or_tokenizer: the text to fit the tokenizer on (any source ``train`` takes),
            or a fitted :class:`~jupyter_llm.Tokenizer` to use as it is.
        size: ``"tiny"``, ``"small"`` (default) or ``"medium"``.
        tokenizer: ``"char"``, ``"word"`` or ``"bpe"`` (ignored when a Tokenizer is given).
        config: a full :class:`ModelConfig` (or dict) instead of ``size``.
        max_vocab, min_freq: tokenizer vocabulary limits.
        column, encoding: as for ``train``.
        **options: any :class:`ModelConfig` field (``seq_len=64``, ``seed=0``, ...).

    Train it with ``jl.train(text, model=lm)``: holding the model first keeps the
    weights trained so far even when a run fails part-way.

    >>> lm = jl.build_model("some text", size="tiny", seed=0)   # doctest: +SKIP
    >>> lm = jl.train("some text" * 100, model=lm)              # doctest: +SKIP
    """
    from ..model.language_model import LanguageModel

    check_unknown(options)
    given = text_or_tokenizer if isinstance(text_or_tokenizer, Tokenizer) else None
    opts = TrainOptions.from_call(options, size=size, tokenizer=tokenizer if given is None else given,
                                  max_vocab=max_vocab, min_freq=min_freq)
    cfg = new_config(opts.size, config, {**options, **opts.config_overrides()})
    if given is None:
        given = fit_tokenizer(opts.tokenizer, _source(text_or_tokenizer, column, encoding).iter_chunks(),
                              max_vocab=opts.max_vocab, min_freq=opts.min_freq)
    return LanguageModel.build(cfg, given)


# === Batches ===


def plan_batches(setup: Setup, corpus: Corpus, streaming: bool | None, epochs: int,
                 steps_per_epoch: int | None, cluster: Any = None) -> None:
    """Encode the text (or plan to stream it), count the steps, and plan the batches and the validation.

    With several workers (``cluster``), each trains on its own shard of the text, with its share of the
    global batch, for the same number of steps as every other worker (see :mod:`.distributed`).
    """
    cfg, tok = setup.cfg, setup.tok
    setup.stream = corpus.src.is_large() if streaming is None else bool(streaming)
    train = corpus.train
    if cluster is not None and cluster.multi_worker:
        _check_global_batch(cfg.batch_size, cluster.replicas)
        train = setup.shard = corpus.train.shard(cluster.workers, cluster.index)
        from ..text.shards import parts_of

        _log.info("worker %d of %d reads %s: %s", cluster.index + 1, cluster.workers, train.description,
                  json.dumps(parts_of(train)))
    share = cfg.batch_size // (cluster.workers if cluster is not None else 1)  # this worker's windows a step
    if setup.stream:
        setup.steps = steps_per_epoch
        # An estimate for progress: one token per byte is right for characters of ASCII text.
        setup.est_steps = steps_per_epoch or max(1, train.nbytes // (cfg.seq_len * share))
        if cluster is not None and cluster.multi_worker:
            setup.steps = setup.est_steps = cluster.agree_min(setup.est_steps)  # a stream's end is not agreed on
    else:
        train_ids = encode(train, tok)
        n = setup.n_train_tokens = len(train_ids)
        if cluster is not None and cluster.multi_worker:
            n = cluster.agree_min(n)  # every worker raises, or none: one alone would leave the others waiting
        if n < cfg.seq_len + 1:
            shard = " (the smallest worker's shard)" if cluster is not None and cluster.multi_worker else ""
            raise DataError(
                f"The training text{shard} is {n:,} tokens long, but one training sequence needs "
                f"seq_len + 1 = {cfg.seq_len + 1} tokens. Expected more text, or a smaller seq_len "
                f"(for example seq_len={max(8, n // 4)})."
            )
        setup.steps = setup.est_steps = steps_per_epoch or cluster_steps(n, cfg.seq_len * share, cluster)
    setup.make_batches = _batches(setup, corpus, train, train_ids if not setup.stream else None, epochs, cluster)
    if corpus.val is not None:
        if not setup.stream:
            n_val = len(encode(corpus.val, tok))
            if n_val < 2:
                raise DataError(
                    f"The validation text has {n_val} token(s). Expected at least 2; give more text, "
                    "validation_data=..., or validation_split=0."
                )

        def val_fn() -> dict[str, float]:
            # LanguageModel.evaluate itself: nats per token, each token once, and the characters they cover.
            return setup.lm.evaluate(corpus.val, batch_size=cfg.batch_size)

        setup.val_fn = val_fn


def cluster_steps(n_tokens: int, tokens_per_step: int, cluster: Any) -> int:
    """Steps in one pass over ``n_tokens`` (each worker's shard with several workers: the least of them)."""
    steps = max(1, (n_tokens - 1) // tokens_per_step)
    return cluster.agree_min(steps) if cluster is not None and cluster.multi_worker else steps


def _check_global_batch(batch_size: int, replicas: int) -> None:
    if batch_size % replicas:
        raise invalid("batch_size", f"a multiple of the {replicas} replicas training in sync (the batch size is "
                      f"global: each replica trains on batch_size / {replicas} windows a step)", batch_size)


def _batches(setup: Setup, corpus: Corpus, train: TextSource, train_ids: Any, epochs: int,
             cluster: Any) -> Callable[[int], Any]:
    """The batches from a global step on: a resumed run starts where its backup left off (not a stream)."""
    from . import data

    cfg, tok = setup.cfg, setup.tok
    seed = cfg.seed if cfg.seed is not None else 0
    multi = cluster is not None and cluster.multi_worker

    def make(start: int = 0) -> Any:
        if setup.stream:  # a stream starts from the top of the text (or of this worker's shard)
            ds = data.streaming_windows(train, tok, cfg.seq_len, cfg.batch_size, seed=seed + start)
            ds = ds.repeat() if setup.steps is not None else ds
            return data.no_auto_shard(ds) if multi else ds
        total = setup.steps * epochs
        if multi:
            return data.worker_windows(train_ids, cfg.seq_len, cfg.batch_size, cluster.replicas,
                                       cluster.local_replicas, total, seed, cluster.index, start)
        return data.random_windows(train_ids, cfg.seq_len, cfg.batch_size, total, seed, start)

    return make


def encode(src: TextSource, tok: Tokenizer):
    """The whole source as token ids ``(N,)`` int32."""
    from .data import encode_source

    return encode_source(src, tok)


def chars_per_token(src: TextSource, tok: Tokenizer, n_tokens: int | None) -> float | None:
    if tok.kind == "char":
        return 1.0
    if n_tokens:
        chars = sum(len(c) for c in src.iter_chunks())
        return chars / n_tokens
    return None
