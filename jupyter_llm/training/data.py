"""From a :class:`TextSource` to batches of token windows.

In memory, the corpus is encoded once into an int32 array and every batch is
``batch_size`` windows of ``seq_len + 1`` tokens at random offsets, drawn with a
stateless seed per step (reproducible, and a new set of windows every epoch).
A source larger than the streaming threshold is never read whole: a generator
reads it chunk by chunk, and tf.data shuffles windows in a bounded buffer.
"""

from __future__ import annotations

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import numpy as np
import tensorflow as tf

from ..errors import DataError
from ..model.windows import iter_windows  # noqa: F401 (moved to the model room, #11; re-exported)
from ..text.sources import TextSource


def encode_source(source: TextSource, tokenizer) -> np.ndarray:
    """The whole source as token ids ``(N,)`` int32."""
    pieces = [tokenizer.encode(chunk) for chunk in source.iter_chunks()]
    return np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, np.int32)


def random_windows(ids: np.ndarray, seq_len: int, batch_size: int, steps: int, seed: int) -> tf.data.Dataset:
    """``steps`` batches of ``(inputs, targets)``, each ``(batch_size, seq_len)``, at random offsets."""
    data = tf.constant(ids, dtype=tf.int32)
    high = len(ids) - seq_len  # a window starting at `high - 1` ends at the last token
    offsets = tf.range(seq_len + 1)

    def batch(step):
        starts = tf.random.stateless_uniform(
            [batch_size], seed=tf.stack([tf.cast(seed, tf.int64), step]), minval=0, maxval=high, dtype=tf.int64
        )
        window = tf.gather(data, tf.cast(starts[:, None], tf.int32) + offsets)  # (B, T + 1)
        return window[:, :-1], window[:, 1:]

    return tf.data.Dataset.range(steps).map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def sequential_windows(ids: np.ndarray, seq_len: int, batch_size: int) -> tf.data.Dataset:
    """Non-overlapping windows covering ``ids`` once, for validation."""
    length = min(seq_len, len(ids) - 1)
    if length < 1:
        raise DataError(
            f"The validation text has {len(ids)} token(s). Expected at least 2; pass more validation data or validation_split=0."
        )
    n = (len(ids) - 1) // length
    idx = np.arange(n)[:, None] * length + np.arange(length + 1)[None, :]
    windows = ids[idx]
    ds = tf.data.Dataset.from_tensor_slices((windows[:, :-1], windows[:, 1:])).batch(batch_size)
    tail = ids[n * length :]
    if len(tail) >= 2:  # the last, shorter window: every token after the first is a target once
        ds = ds.concatenate(tf.data.Dataset.from_tensors((tail[None, :-1], tail[None, 1:])))
    return ds.prefetch(tf.data.AUTOTUNE)


def streaming_windows(
    source: TextSource, tokenizer, seq_len: int, batch_size: int, shuffle_buffer: int = 2048, seed: int = 0,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """Batches of windows read from disk as the epoch goes (the file is never held whole)."""

    def generate():
        for window in iter_windows(source, tokenizer, seq_len):
            if len(window) == seq_len + 1:
                yield window

    ds = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec([seq_len + 1], tf.int32))
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=shuffle)
    return ds.map(lambda w: (w[:, :-1], w[:, 1:])).prefetch(tf.data.AUTOTUNE)
