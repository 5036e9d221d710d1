"""Fine-tuning: a trained intent and slot model continued on a few more examples (imports TensorFlow lazily).

>>> from jupyter_llm import nlu                                              # doctest: +SKIP
>>> extra = nlu.load_markdown("## intent:add_todo\\n- stick [oat milk](task) on the shopping pile")  # doctest: +SKIP
>>> tuned = nlu.fine_tune(model, extra + replay, epochs=3)                   # doctest: +SKIP
>>> tuned.predict("stick oat milk on the shopping pile").slots               # doctest: +SKIP
{'task': 'oat milk'}

A fine-tuned model is a new :class:`~jupyter_llm.nlu.IntentSlotModel`; the
one it starts from is left as it was. Its vocabulary is the old one with the
new examples' words, characters, intents and tags appended (the old ids keep
their meaning): a new word or character starts as a copy of ``<unk>``, so the
model first reads it exactly as it did before, and a new intent or tag starts
with zero weights and a low bias, so it is never predicted until trained.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, TrainingDivergedError, invalid
from .config import NLUConfig
from .data import NLUDataset

if TYPE_CHECKING:  # pragma: no cover
    from .model import IntentSlotModel

__all__ = ["fine_tune", "extend_vocabulary", "FINE_TUNE_LEARNING_RATE"]

#: Adam's learning rate when fine-tuning: a fifth of the tiny configuration's 5e-3,
#: so a few epochs on a few examples move the weights without undoing the rest.
FINE_TUNE_LEARNING_RATE = 1e-3
#: Embedding rows added at a time when new words or characters need room (unused ones read as ``<unk>``).
SPARE_ROWS = 256
#: The bias of a new intent or tag before training (logits of known classes are within about +-10).
_NEW_CLASS_BIAS = -10.0


def extend_vocabulary(model: "IntentSlotModel", data: NLUDataset) -> "IntentSlotModel":
    """A copy of ``model`` whose vocabulary also covers ``data``, with the same predictions on what it knew.

    New words and characters are appended with the weights of ``<unk>``; new
    intents and tags are appended with zero weights and a bias of -10. The
    copy's ``word_counts`` add ``data``'s counts (they set the word dropout).
    """
    from .model import IntentSlotModel, Vocab, _build_network, _norm_chars, _norm_word

    config, old = model.config, model.vocab
    counts = Counter(_norm_word(t, config.lowercase) for ex in data for t in ex.tokens)
    known = {w: i for i, w in enumerate(old.words)}
    new_words = sorted((w for w in counts if w not in known), key=lambda w: (-counts[w], w))
    word_counts = list(old.word_counts)
    for w, n in counts.items():
        if w in known and known[w] > 1:
            word_counts[known[w]] += n
    chars = set(old.chars)
    new_chars = sorted({c for ex in data for t in ex.tokens for c in _norm_chars(t, config)} - chars)
    vocab = Vocab(words=old.words + new_words, chars=old.chars + new_chars,
                  intents=old.intents + [i for i in data.intents if i not in old.intents],
                  tags=old.tags + [t for t in data.tags if t not in old.tags],
                  word_counts=word_counts + [counts[w] for w in new_words])
    new_config = dataclasses.replace(config, num_words=_rows(len(vocab.words), config.num_words, len(old.words)),
                                     num_chars=_rows(len(vocab.chars), config.num_chars, len(old.chars)),
                                     num_intents=len(vocab.intents), num_tags=len(vocab.tags))
    network = _build_network(new_config, seeded=False)  # the weights are copied in below
    if len(network.weights) != len(model.network.weights):  # pragma: no cover - the same architecture
        raise DataError("The fine-tuned network has other weights than the model. Expected the same architecture.")
    for old_var, new_var in zip(model.network.weights, network.weights):
        new_var.assign(_grown(np.asarray(old_var), tuple(new_var.shape), old_var.path))
    return IntentSlotModel(network, vocab, new_config, copy.deepcopy(model.metadata), name=None)


def _rows(needed: int, rows: int, known: int) -> int:
    """Rows of an embedding of ``rows`` rows (``known`` of them used) grown to hold ``needed`` ids.

    A model without spare rows gets :data:`SPARE_ROWS` more (or a multiple),
    one with spare rows keeps them while they suffice: every fine-tuning of a
    model then has one shape, and shares one traced training step.
    """
    if rows > known and needed <= rows:
        return rows
    return rows + SPARE_ROWS * max(1, -(-(needed - rows) // SPARE_ROWS))


def _grown(value: np.ndarray, shape: tuple[int, ...], path: str) -> np.ndarray:
    """``value`` grown to ``shape`` along the one axis that differs (rows of an embedding, classes of a head)."""
    if value.shape == shape:
        return value
    if value.ndim == 1:  # the bias of a head: new classes start unlikely
        return np.concatenate([value, np.full(shape[0] - value.shape[0], _NEW_CLASS_BIAS, value.dtype)])
    if value.ndim == 2 and value.shape[1] == shape[1]:  # an embedding: new rows read as <unk> (id 1)
        return np.concatenate([value, np.repeat(value[1:2], shape[0] - value.shape[0], axis=0)])
    if value.ndim == 2 and value.shape[0] == shape[0]:  # the kernel of a head: new classes get zeros
        return np.concatenate([value, np.zeros((shape[0], shape[1] - value.shape[1]), value.dtype)], axis=1)
    raise DataError(f"Cannot grow the weight {path} from {value.shape} to {shape}. "
                    "Expected a change of the vocabulary's size only.")


def fine_tune(model: "IntentSlotModel", data: Any, epochs: int = 3, *, learning_rate: float = FINE_TUNE_LEARNING_RATE,
              seed: int = 0, progress: bool | Callable[[dict[str, Any]], None] = False) -> "IntentSlotModel":
    """A new model: ``model`` trained further on ``data`` for ``epochs`` epochs (every epoch, no time limit).

    Args:
        model: a trained :class:`~jupyter_llm.nlu.IntentSlotModel` (left unchanged).
        data: the examples (anything :meth:`NLUDataset.from_any` reads). Mix in
            some of the original training examples, or the model forgets what
            the new ones do not show.
        epochs: passes over ``data``.
        learning_rate: Adam's learning rate (the optimizer starts afresh).
        seed: the order of the batches and the word dropout.
        progress: True prints a line per epoch; a callable gets a dict per epoch.

    The returned model's ``metadata["fine_tuned"]`` lists each fine-tuning:
    examples, epochs, learning rate, seed and losses. Every fine-tuning of a
    network of one shape in a process runs on one traced training step (the
    first costs seconds of tracing, the next ones none).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise invalid("epochs", "a positive integer", epochs)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise invalid("learning_rate", "a number > 0", learning_rate)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise invalid("seed", "an integer", seed)
    dataset = NLUDataset.from_any(data, zh=model.config.zh)
    if len(dataset) == 0:
        raise DataError("The fine-tuning data holds no examples. Expected at least one.")
    tuned = extend_vocabulary(model, dataset)
    bench = _bench(tuned.config)
    with bench.lock:
        history = bench.run(tuned, dataset, epochs, float(learning_rate), seed, progress)
    tuned.metadata.setdefault("fine_tuned", []).append({
        "examples": len(dataset), "data_fingerprint": dataset.fingerprint(), "epochs": epochs,
        "learning_rate": float(learning_rate), "seed": seed, "seconds": history["seconds"],
        "history": history["epochs"]})
    return tuned


# === The bench: one network per shape, trained in place, its step traced once ===

_BENCHES: dict[tuple, "_Bench"] = {}
_BENCHES_LOCK = threading.Lock()


def _bench(config: NLUConfig) -> "_Bench":
    key = tuple(sorted((k, v) for k, v in config.to_dict().items()
                       if k not in ("learning_rate", "seed", "max_time", "patience", "word_dropout", "batch_size")))
    with _BENCHES_LOCK:
        if key not in _BENCHES:
            _BENCHES[key] = _Bench(config)
        return _BENCHES[key]


class _Bench:
    """A network of one shape with its optimizer and traced step; a fine-tuning copies weights in and out.

    Tracing the training step of the BiGRU takes seconds, far longer than a
    fine-tuning's few dozen steps; a network built per fine-tuning would pay it each time.
    """

    def __init__(self, config: NLUConfig) -> None:
        from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
        import keras
        import tensorflow as tf

        from .model import _build_network
        from .training import train_step

        self.lock = threading.Lock()
        self.net = _build_network(config, seeded=False)  # each fine-tuning copies its weights in
        self.optimizer = keras.optimizers.Adam(learning_rate=FINE_TUNE_LEARNING_RATE, clipnorm=config.clipnorm)
        self.optimizer.build(self.net.trainable_variables)

        @tf.function(input_signature=[tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None, None), tf.int32),
                                      tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.int32),
                                      tf.TensorSpec((None,), tf.float32), tf.TensorSpec((2,), tf.int32)],
                     reduce_retracing=True)
        def step(w, c, y_tags, y_intent, drop_table, seed):
            noise = tf.random.stateless_uniform(tf.shape(w), seed)
            return train_step(self.net, self.optimizer, w, c, y_tags, y_intent, noise, drop_table)

        self.step = step

    def run(self, model: "IntentSlotModel", data: NLUDataset, epochs: int, learning_rate: float, seed: int,
            progress: bool | Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Train ``model``'s weights on ``data`` here, then write them back into ``model.network``."""
        import tensorflow as tf

        from .training import _report, drop_probabilities, encode, length_batches

        started = time.perf_counter()
        self.net.set_weights(model.network.get_weights())
        for var in self.optimizer.variables:  # a fresh optimizer: no moments, step 0
            var.assign(tf.zeros(var.shape, var.dtype))
        self.optimizer.learning_rate.assign(learning_rate)
        rng = np.random.default_rng(seed)
        for var in self.net.non_trainable_variables:  # the dropout layers' seeds: from this seed, not from history
            if "seed_generator" in var.path:
                var.assign(np.array([rng.integers(1, 1 << 30), 0]).astype(np.asarray(var).dtype))
        words, chars, tags, intents = encode(model, data)
        lengths = (words > 0).sum(axis=1)
        char_lengths = (chars > 0).sum(axis=2).max(axis=1)
        drop_table = tf.constant(drop_probabilities(model.vocab.word_counts, model.config.word_dropout))
        history = []
        for epoch in range(1, epochs + 1):
            sums, n = np.zeros(2), 0
            for idx in length_batches(rng, lengths, model.config.batch_size):
                t, l = int(lengths[idx].max()), max(int(char_lengths[idx].max()), 1)
                losses = self.step(words[idx, :t], chars[idx, :t, :l], tags[idx, :t], intents[idx], drop_table,
                                   rng.integers(0, 1 << 31, size=2, dtype=np.int32))
                sums += [float(losses[0]), float(losses[1])]
                n += 1
            if not np.isfinite(sums).all():
                raise TrainingDivergedError("The loss became NaN or infinite while fine-tuning. "
                                            "Expected a finite loss; try a lower learning_rate.")
            record = {"epoch": epoch, "intent_loss": sums[0] / n, "slot_loss": sums[1] / n,
                      "learning_rate": learning_rate, "seconds": round(time.perf_counter() - started, 1)}
            history.append(record)
            _report(progress, record)
        model.network.set_weights(self.net.get_weights())
        return {"epochs": history, "seconds": round(time.perf_counter() - started, 1)}
