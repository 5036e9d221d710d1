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


def random_windows(ids: np.ndarray, seq_len: int, batch_size: int, steps: int, seed: int,
                   start: int = 0) -> tf.data.Dataset:
    """Batches ``start`` to ``steps - 1`` of ``(inputs, targets)``, each ``(batch_size, seq_len)``, at random offsets.

    Batch ``k`` is drawn with the stateless seed ``(seed, k)``: a run resumed at step ``start`` draws the
    windows it would have drawn.
    """
    data = tf.constant(ids, dtype=tf.int32)
    high = len(ids) - seq_len  # a window starting at `high - 1` ends at the last token
    offsets = tf.range(seq_len + 1)

    def batch(step):
        starts = tf.random.stateless_uniform(
            [batch_size], seed=tf.stack([tf.cast(seed, tf.int64), step]), minval=0, maxval=high, dtype=tf.int64
        )
        window = tf.gather(data, tf.cast(starts[:, None], tf.int32) + offsets)  # (B, T + 1)
        return window[:, :-1], window[:, 1:]

    return tf.data.Dataset.range(start, steps).map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def worker_windows(ids: np.ndarray, seq_len: int, global_batch: int, replicas: int, local_replicas: int,
                   steps: int, seed: int, worker: int, start: int = 0) -> tf.data.Dataset:
    """One worker's batches in a multi-worker run: its share of each step, at random offsets in its ``ids``.

    Under ``MultiWorkerMirroredStrategy`` (with auto-sharding off, see :func:`no_auto_shard`) Keras cuts each
    batch of ``global_batch`` windows into ``replicas`` pieces, and each step a worker takes one piece for each
    of its ``local_replicas``. So piece ``u = step * local_replicas + replica`` of this worker is drawn with the
    stateless seed ``(seed, worker, u)``: the run can start at any ``start`` step (a restart from a backup
    part-way through an epoch) and draw the very windows it would have drawn.
    """
    data = tf.constant(ids, dtype=tf.int32)
    high = len(ids) - seq_len
    per_replica = global_batch // replicas
    offsets = tf.range(seq_len + 1)
    key = tf.constant(seed * 1_000_003 + worker, tf.int64)

    def piece(u):
        starts = tf.random.stateless_uniform([per_replica], seed=tf.stack([key, u]), minval=0, maxval=high,
                                             dtype=tf.int64)
        return tf.gather(data, tf.cast(starts[:, None], tf.int32) + offsets)  # (per_replica, T + 1)

    def split(group):  # (replicas, per_replica, T + 1) -> one global batch
        window = tf.reshape(group, [replicas * per_replica, seq_len + 1])
        return window[:, :-1], window[:, 1:]

    first, last = start * local_replicas, (steps + 1) * local_replicas + replicas  # a whole last group
    ds = tf.data.Dataset.range(first, last).map(piece, num_parallel_calls=tf.data.AUTOTUNE)
    # Keras counts one step per element of a finite dataset, where each element makes `replicas /
    # local_replicas` steps here: repeated, the dataset has no end for it to count (the pieces drawn
    # above cover the run's steps; the repeat is never reached).
    ds = ds.batch(replicas, drop_remainder=True).map(split).repeat()
    return no_auto_shard(ds.prefetch(tf.data.AUTOTUNE))


def no_auto_shard(ds: tf.data.Dataset) -> tf.data.Dataset:
    """``ds`` as one worker's own data: tf.distribute must not shard it again (each worker read its part)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return ds.with_options(options)


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
