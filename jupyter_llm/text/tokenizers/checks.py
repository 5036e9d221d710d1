"""Argument and payload checks shared by the tokenizers (error messages included)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ...errors import CorruptModelError, InvalidArgumentError, invalid


def _short(value: object, limit: int = 80) -> object:
    """``value``, or a type description when its repr would flood the message."""
    text = repr(value)
    if len(text) <= limit and "\n" not in text:
        return value
    return _Shown(f"<{type(value).__name__} of length {_len(value)}>")


def _len(value: object) -> object:
    try:
        return len(value)  # type: ignore[arg-type]
    except TypeError:
        return "?"


class _Shown:
    """A value whose repr is a given description (for error messages)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _check_text(text: str) -> str:
    if not isinstance(text, str):
        raise invalid("text", "a string", _Shown(f"<{type(text).__name__}>"))
    return text


def _check_fit_args(max_vocab: object, min_freq: object, smallest_vocab: int) -> None:
    if max_vocab is not None and (
        isinstance(max_vocab, bool)
        or not isinstance(max_vocab, (int, np.integer))
        or max_vocab < smallest_vocab
    ):
        raise invalid("max_vocab", f"None or an integer >= {smallest_vocab}", max_vocab)
    if isinstance(min_freq, bool) or not isinstance(min_freq, (int, np.integer)) or min_freq < 1:
        raise invalid("min_freq", "an integer >= 1", min_freq)


def _reject_options(kind: str, kwargs: dict[str, Any], accepted: str) -> None:
    if kwargs:
        name, value = next(iter(kwargs.items()))
        raise InvalidArgumentError(
            f"Unexpected argument {name} for the {kind} tokenizer. "
            f"Expected only {accepted}. Received: {name}={value!r}"
        )


def _check_str_list(value: object, name: str) -> list[str]:
    if isinstance(value, (str, tuple)):
        value = list(value)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise invalid(name, "a list of strings", _short(value))
    if len(set(value)) != len(value):
        duplicate = next(s for s, n in Counter(value).items() if n > 1)
        raise invalid(name, "distinct strings", _Shown(f"<list with {duplicate!r} twice>"))
    return value


def _payload(d: dict[str, Any], key: str) -> Any:
    if key not in d:
        raise CorruptModelError(
            f"Expected the saved {d.get('kind')} tokenizer to have a {key!r} entry; it has none."
        )
    return d[key]


def _payload_list(d: dict[str, Any], key: str) -> list[str]:
    """``d[key]``, which must be a list (its items are checked by the constructor)."""
    value = _payload(d, key)
    if not isinstance(value, list):
        raise invalid(key, "a list of strings", _short(value))
    return value
