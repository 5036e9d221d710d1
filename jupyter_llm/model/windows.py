"""Token windows of a text, streamed: what evaluation and training both read.

It lives in the model room because :meth:`LanguageModel.evaluate` reads it and
the model room sits below training (#11); ``jupyter_llm.training.data``
re-exports it. Imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..text.sources import TextSource


def iter_windows(source: TextSource, tokenizer, length: int) -> Iterator[np.ndarray]:
    """Consecutive windows of ``length + 1`` tokens overlapping by one token, streamed.

    Every token after the first is a target exactly once; the last window may be shorter.
    """
    buffer = np.zeros(0, np.int32)
    for chunk in source.iter_chunks():
        buffer = np.concatenate([buffer, tokenizer.encode(chunk).astype(np.int32)])
        while len(buffer) >= length + 1:
            yield buffer[: length + 1]
            buffer = buffer[length:]
    if len(buffer) >= 2:
        yield buffer
