"""Helpers for :meth:`Tokenizer.fit`: reading the training text once, ranking symbols."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...errors import DataError, InvalidArgumentError, invalid
from .checks import _Shown


def _chunks(texts: Iterable[str]) -> Iterator[str]:
    """Yield the str chunks of ``texts`` once.

    Once they are all read, raises :class:`~jupyter_llm.errors.DataError` when
    none had non-whitespace text: a tokenizer fitted on nothing is no use.
    """
    if isinstance(texts, str):
        texts = (texts,)
    try:
        iterator = iter(texts)
    except TypeError:
        raise invalid(
            "texts", "a string or an iterable of strings", _Shown(f"<{type(texts).__name__}>")
        ) from None
    seen_text = False
    for chunk in iterator:
        if not isinstance(chunk, str):
            raise InvalidArgumentError(
                "Invalid value for argument texts. Expected an iterable of strings. "
                f"Received: a chunk of type {type(chunk).__name__}"
            )
        if not seen_text and chunk and not chunk.isspace():
            seen_text = True
        yield chunk
    if not seen_text:
        raise _empty_text_error()


def _empty_text_error() -> DataError:
    return DataError(
        "The training text is empty: expected some non-whitespace text, received none."
    )


def _ranked(
    counts: Counter, max_vocab: int | None, min_freq: int, key: Callable[[str], Any]
) -> list[str]:
    """Symbols seen at least ``min_freq`` times, most frequent first, ties by ``key``;
    at most ``max_vocab - 1`` of them (id 0 is ``<unk>``)."""
    ranked = sorted(
        (s for s, n in counts.items() if n >= min_freq), key=lambda s: (-counts[s], key(s))
    )
    if not ranked:
        raise invalid(
            "min_freq",
            f"at most {max(counts.values())}, the count of the most frequent symbol",
            min_freq,
        )
    return ranked if max_vocab is None else ranked[: max_vocab - 1]
