"""Fine-tuning: train a COPY of a base model on new text (``jl.train(text, base="shakespeare")``).

:func:`base_setup` loads (or takes) the base, copies its weights into a new
Keras model and returns the :class:`~.prepare.Setup` that :func:`~jupyter_llm.train`
fits. The base itself is never changed: neither a model passed in nor its files
on disk (a test checks its fingerprint).

Vocabulary growth (char tokenizer): characters of the new text that the base
never saw become new tokens after the old ones (the ids of the old symbols are
unchanged), most frequent first. Their rows are initialised so that they start
rare but learnable (see :func:`grow_weights`). A word or BPE base keeps its
tokenizer: BPE reads any text; a word base reads new words as ``<unk>`` (a
warning says how many).

The fine-tuning defaults (each overridable): the base's own learning rate
(measured, bench/finetune_base.py, shakespeare on 440 KB of modern English, 60 s
on 2 CPU cores: validation loss after 48 steps 1.81 at 1e-3, a third of it,
1.66 at 2e-3, 1.59 at 3e-3, the base's own; after 60 s 1.67, 1.44, 1.43: a
short run wants the base's own rate; pass learning_rate= for a gentler one); early
stopping on the validation text with a patience of :data:`PATIENCE` epochs;
the embedding is trained from the first step (not frozen).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections import Counter
from typing import Any

import numpy as np

from ..config import CONFIG_FIELDS
from ..errors import invalid
from .prepare import RETRAIN_FIELDS, Corpus, Setup, _retrain_config

#: Early stopping's patience (epochs) when fine-tuning with validation text, unless ``early_stopping`` is given.
PATIENCE = 2
#: A new token's output bias starts this many nats below the mean of the base's biases (rare but learnable).
NEW_BIAS_MARGIN = 2.0
#: The noise of a new embedding row, as a fraction of the spread of the base's rows.
NEW_ROW_NOISE = 0.1


def check_call(base: Any, *, model: Any, config: Any, size: Any, tokenizer: Any, overrides: dict[str, Any],
               resume: bool, early_stopping: int | None, validation: bool) -> int | None:
    """``early_stopping`` with the fine-tuning default (:data:`PATIENCE` with validation text, unless given).

    Refuses what cannot go with ``base`` (one sentence): another model, a size, a tokenizer,
    a config or an architecture option, ``resume``, or a base that is no model.
    """
    if base is None:
        return early_stopping
    from ..model.language_model import LanguageModel

    if not (isinstance(base, LanguageModel) or (isinstance(base, (str, os.PathLike)) and os.fspath(base).strip())):
        shown = base if isinstance(base, (str, int, float, bool)) else type(base).__name__
        raise invalid("base", "a bundled or saved model's name, a model folder, or a LanguageModel", shown)
    for argument, value in (("model", model), ("config", config), ("size", size), ("tokenizer", tokenizer)):
        if value is not None:
            shown = value if isinstance(value, str) else type(value).__name__
            raise invalid(argument, f"no {argument} with base= (a fine-tuned model starts from the base and keeps "
                          "its size and tokenizer; pass base= or " + argument + "=, not both)", shown)
    if resume:
        raise invalid("resume", "False with base= (resume continues a named run; fine-tune with base= once, "
                      "then continue with model=)", True)
    fixed = sorted(set(overrides) & (CONFIG_FIELDS - RETRAIN_FIELDS))
    if fixed:
        raise invalid(fixed[0], f"no {fixed[0]} with base= (a fine-tuned model keeps the base's architecture; "
                      f"only {', '.join(sorted(RETRAIN_FIELDS))} can change)", overrides[fixed[0]])
    return PATIENCE if early_stopping is None and validation else early_stopping


def label_of(base: Any) -> str | None:
    """The base's name for the run history and the metadata: its store name, its folder, or None."""
    if base is None:
        return None
    if isinstance(base, (str, os.PathLike)):
        return os.fspath(base)
    return getattr(base, "name", None) or "an unsaved LanguageModel"


def load_base(base: Any):
    """The base as a LanguageModel: loaded from a name or a folder, or the one given (not copied yet)."""
    from ..model.language_model import LanguageModel

    if isinstance(base, LanguageModel):
        return base
    return LanguageModel.load(base, prepare=False)  # a str or path, as check_call made sure


def new_symbols(corpus: Corpus, tokenizer: Any) -> list[str]:
    """Characters of the text the char tokenizer does not know, most frequent first.

    All of the text, validation included, as a new model's tokenizer is fitted on all of it.
    """
    counts: Counter[str] = Counter()
    for chunk in corpus.src.iter_chunks():
        for symbol in tokenizer.unknown_symbols(chunk):
            counts[symbol] += chunk.count(symbol)
    return [s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], ord(kv[0])))]


def grow_weights(weights: list[np.ndarray], layer: str, n_new: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A layer's weights with ``n_new`` more tokens.

    ``embedding``: ``[(V, E)]`` -> ``[(V + n, E)]``, new rows the mean of the old ones plus
    noise of :data:`NEW_ROW_NOISE` times their spread (so a new symbol reads like an average one).
    ``logits``: ``[kernel (F, V), bias (V,)]`` -> ``[(F, V + n), (V + n,)]``, new columns the mean
    column (plus a little noise, so that new tokens differ), new biases the mean bias minus
    :data:`NEW_BIAS_MARGIN` nats: a new symbol starts rarer than an average one but gets a gradient.
    """
    if n_new == 0:
        return weights
    if layer == "embedding":
        (table,) = weights
        mean, spread = table.mean(axis=0), table.std(axis=0) + 1e-6
        rows = mean + NEW_ROW_NOISE * spread * rng.standard_normal((n_new, table.shape[1]))
        return [np.concatenate([table, rows.astype(table.dtype)], axis=0)]
    kernel, bias = weights
    mean = kernel.mean(axis=1, keepdims=True)
    spread = kernel.std(axis=1, keepdims=True) + 1e-6
    columns = mean + 0.01 * spread * rng.standard_normal((kernel.shape[0], n_new))
    biases = np.full(n_new, bias.mean() - NEW_BIAS_MARGIN)
    return [np.concatenate([kernel, columns.astype(kernel.dtype)], axis=1),
            np.concatenate([bias, biases.astype(bias.dtype)])]


def copy_with_vocab(base: Any, tokenizer: Any, n_new: int, seed: int | None):
    """A new LanguageModel with ``base``'s weights (grown by ``n_new`` tokens) and ``tokenizer``."""
    from ..model.language_model import LanguageModel

    cfg = dataclasses.replace(base.config, extra=dict(base.config.extra))
    lm = LanguageModel.build(cfg, tokenizer)  # sets cfg.vocab_size from the tokenizer
    rng = np.random.default_rng(seed)
    for layer in base.model.layers:
        old = layer.get_weights()
        if not old:
            continue
        grown = grow_weights(old, layer.name, n_new, rng) if layer.name in ("embedding", "logits") else old
        lm.model.get_layer(layer.name).set_weights([np.array(w, copy=True) for w in grown])
    return lm


def base_setup(base: Any, corpus: Corpus, overrides: dict[str, Any], checkpoint: Any) -> Setup:
    """The Setup of a fine-tuning run: a grown copy of ``base``, with the fine-tuning defaults."""
    from ..text.tokenizers.char import CharTokenizer

    source = load_base(base)
    tok = source.tokenizer
    added: list[str] = []
    if isinstance(tok, CharTokenizer):
        added = new_symbols(corpus, tok)
        if added:
            tok = CharTokenizer([*(tok.id_to_token(i) for i in range(1, tok.vocab_size)), *added])
    elif tok.unk_id is not None:
        _warn_unknown_words(corpus, tok)
    lm = copy_with_vocab(source, tok, len(added), overrides.get("seed", source.config.seed))
    lm.metadata = {"base": {"name": label_of(base), "fingerprint": source.fingerprint,
                            "new_symbols": added}}
    if source.copy_index is not None:
        lm.copy_index = source.copy_index  # it was trained on the base's text too
    cfg = _retrain_config(lm, overrides)  # the base's own learning rate unless one is given
    return Setup(tok=tok, cfg=cfg, lm=lm, checkpoint=checkpoint)


def freeze_embedding(setup: Setup, epochs: int) -> list[Any]:
    """Keep the embedding fixed for the first ``epochs`` epochs of the run; the callback that lets it go.

    Call after the model is compiled. The optimizer is built for every variable first, so
    that the embedding can join in later; the train step is traced again when it does.
    """
    if not epochs:
        return []
    from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
    import keras

    model = setup.lm.model
    model.optimizer.build(model.trainable_variables)
    embedding = model.get_layer("embedding")
    embedding.trainable = False
    first = setup.initial_epoch

    class _Unfreeze(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 - first == epochs and not embedding.trainable:
                embedding.trainable = True
                self.model.make_train_function(force=True)

        def on_train_end(self, logs=None):
            embedding.trainable = True  # a run that ended sooner leaves a trainable model

    return [_Unfreeze()]


def _warn_unknown_words(corpus: Corpus, tok: Any) -> None:
    """A word base keeps its vocabulary: say how much of the new text it reads as ``<unk>``."""
    unknown: set[str] = set()
    for chunk in corpus.train.iter_chunks():
        unknown.update(tok.unknown_symbols(chunk))
    if unknown:
        shown = ", ".join(repr(w) for w in sorted(unknown)[:5])
        warnings.warn(
            f"Fine-tuning keeps the base's {tok.kind} tokenizer: {len(unknown):,} distinct word(s) of the text "
            f"are not in its vocabulary and are read as <unk> (for example {shown}). Train a new model "
            "(without base=) for a vocabulary of its own.", UserWarning, stacklevel=4)
