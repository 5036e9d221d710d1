"""The training loop of the intent and slot model (imports TensorFlow: load lazily).

One ``tf.function`` step over length-bucketed batches (utterances of similar
length share a batch, so little time goes to padding), frequency-based word
dropout (a word seen n times becomes ``<unk>`` with probability
``alpha / (alpha + n)``, so the char CNN learns to read unseen words), and
early stopping on the validation score ``intent_accuracy + slot_f1`` with the
best weights restored. The learning rate halves after two epochs without
improvement; training stops after ``patience`` such epochs, after ``epochs``,
or when ``max_time`` seconds have passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import TrainingDivergedError
from .data import NLUDataset
from .metrics import score

if TYPE_CHECKING:  # pragma: no cover
    from .model import IntentSlotModel

#: Epochs when neither ``epochs`` nor validation data is given.
DEFAULT_EPOCHS = 30
#: Upper bound on epochs with validation data and ``epochs=None`` (early stopping ends sooner).
MAX_EPOCHS = 200
#: Batches sorted by length within pools of this many batches.
POOL_BATCHES = 50


def fit(model: "IntentSlotModel", train: NLUDataset, valid: NLUDataset | None, epochs: int | None,
        progress: bool | Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Train ``model.network`` in place on ``train`` (from its config's settings); returns the history."""
    from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
    import keras
    import tensorflow as tf

    config, vocab, net = model.config, model.vocab, model.network
    started = time.perf_counter()
    deadline = started + config.max_time if config.max_time is not None else math.inf
    rng = np.random.default_rng(config.seed)
    if epochs is None:
        epochs = MAX_EPOCHS if valid is not None else DEFAULT_EPOCHS

    # === Data, encoded once ===
    words, chars, tags, intents = encode(model, train)  # (N, T), (N, T, L), (N, T), (N,)
    lengths = (words > 0).sum(axis=1)
    char_lengths = (chars > 0).sum(axis=2).max(axis=1)
    drop_table = tf.constant(drop_probabilities(vocab.word_counts, config.word_dropout))

    # === Step ===
    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm)
    optimizer.build(net.trainable_variables)
    seed_gen = tf.random.Generator.from_seed(config.seed if config.seed is not None else int(rng.integers(1 << 31)))

    @tf.function(input_signature=[tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None, None), tf.int32),
                                  tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.int32)],
                 reduce_retracing=True)
    def step(w, c, y_tags, y_intent):
        return train_step(net, optimizer, w, c, y_tags, y_intent, seed_gen.uniform(tf.shape(w)), drop_table)

    def batches():
        return length_batches(rng, lengths, config.batch_size)

    def validate() -> dict[str, Any]:
        pred_intents, pred_tags = model.predict_tags([ex.tokens for ex in valid])
        result = score([ex.intent for ex in valid], pred_intents, [ex.tags for ex in valid], pred_tags)
        result.pop("per_slot")
        return result

    # === Loop ===
    history: list[dict[str, Any]] = []
    best, best_weights, best_metrics, bad_epochs = -math.inf, None, None, 0
    stopped = "epochs"
    for epoch in range(1, epochs + 1):
        sums, n_batches, out_of_time = np.zeros(2), 0, False
        for idx in batches():
            t, l = int(lengths[idx].max()), max(int(char_lengths[idx].max()), 1)
            losses = step(words[idx, :t], chars[idx, :t, :l], tags[idx, :t], intents[idx])
            sums += [float(losses[0]), float(losses[1])]
            n_batches += 1
            if time.perf_counter() > deadline:
                out_of_time = True
                break
        record: dict[str, Any] = {"epoch": epoch, "intent_loss": sums[0] / n_batches, "slot_loss": sums[1] / n_batches,
                                  "learning_rate": float(np.asarray(optimizer.learning_rate))}
        if not np.isfinite(sums).all():
            if best_weights is None:
                raise TrainingDivergedError(
                    "The loss became NaN or infinite in the first epoch. Expected a finite loss; "
                    "try a lower learning_rate.")
            net.set_weights(best_weights)
            stopped = "diverged"
            history.append(record)
            break
        if valid is not None and len(valid):
            metrics = validate()
            record.update({f"val_{k}": v for k, v in metrics.items() if k != "examples"})
            value = metrics["intent_accuracy"] + metrics["slot_f1"]
            if value > best:
                best, best_weights, best_metrics, bad_epochs = value, net.get_weights(), metrics, 0
                record["best"] = True
            else:
                bad_epochs += 1
                if bad_epochs % 2 == 0:
                    optimizer.learning_rate.assign(float(np.asarray(optimizer.learning_rate)) * 0.5)
        record["seconds"] = round(time.perf_counter() - started, 1)
        history.append(record)
        _report(progress, record)
        if out_of_time:
            stopped = "max_time"
            break
        if valid is not None and bad_epochs >= config.patience:
            stopped = "early_stopping"
            break
    if best_weights is not None:
        net.set_weights(best_weights)
    return {"epochs": history, "seconds": round(time.perf_counter() - started, 1), "stopped": stopped,
            "validation": best_metrics}


def _report(progress: bool | Callable[[dict[str, Any]], None], record: dict[str, Any]) -> None:
    if callable(progress):
        progress(dict(record))
    elif progress:
        parts = [f"epoch {record['epoch']}", f"loss {record['intent_loss']:.3f}+{record['slot_loss']:.3f}"]
        if "val_intent_accuracy" in record:
            parts.append(f"val intent {record['val_intent_accuracy']:.2%} slot F1 {record['val_slot_f1']:.2%}")
        parts.append(f"{record['seconds']:.0f}s")
        print(" | ".join(parts), flush=True)


# === Pieces shared with fine-tuning (nlu/finetune.py) ===

def encode(model: "IntentSlotModel", data: NLUDataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Word ids ``(N, T)``, char ids ``(N, T, L)``, tag ids ``(N, T)`` and intent ids ``(N,)`` of ``data``."""
    vocab = model.vocab
    words, chars = vocab.encode([ex.tokens for ex in data], model.config)
    tags = vocab.encode_tags([ex.tags for ex in data], words.shape[1])
    intents = np.array([vocab.intent_id(ex.intent) for ex in data], np.int32)
    return words, chars, tags, intents


def drop_probabilities(word_counts: list[int], alpha: float) -> np.ndarray:
    """The word dropout of each word id, ``(num_words,)``: ``alpha / (alpha + n)`` for a word seen n times."""
    counts = np.asarray(word_counts, np.float32)
    alpha = float(alpha)
    return np.where(counts > 0, alpha / (alpha + np.maximum(counts, 1)), 0.0).astype(np.float32)


def length_batches(rng: np.random.Generator, lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Batches of example indices, shuffled, each of utterances of similar length."""
    order = rng.permutation(len(lengths))
    pool = batch_size * POOL_BATCHES
    out = []
    for s in range(0, len(order), pool):
        chunk = order[s:s + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def train_step(net: Any, optimizer: Any, w: Any, c: Any, y_tags: Any, y_intent: Any, noise: Any, drop_table: Any):
    """One optimizer step on a batch (called inside a ``tf.function``); returns ``(intent_loss, slot_loss)``.

    ``w`` ``(B, T)``, ``c`` ``(B, T, L)``, ``y_tags`` ``(B, T)``, ``y_intent`` ``(B,)``;
    ``noise`` ``(B, T)`` uniform in [0, 1) decides the word dropout against ``drop_table``.
    """
    import tensorflow as tf

    dropped = tf.where((noise < tf.gather(drop_table, w)) & (w > 1), tf.ones_like(w), w)  # -> <unk>
    mask = tf.cast(w > 0, tf.float32)  # (B, T)
    with tf.GradientTape() as tape:
        intent_logits, slot_logits, _ = net((dropped, c), training=True)
        intent_loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(y_intent, intent_logits))
        token_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(y_tags, slot_logits)  # (B, T)
        slot_loss = tf.reduce_sum(token_loss * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
        loss = intent_loss + slot_loss
    grads = tape.gradient(loss, net.trainable_variables)
    optimizer.apply_gradients(zip(grads, net.trainable_variables))
    return intent_loss, slot_loss
