"""Choosing a tokenizer by name, and fitting one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...errors import invalid
from .base import _KINDS, Tokenizer
from .bpe import BPETokenizer
from .char import CharTokenizer
from .checks import _short
from .word import WordTokenizer

# The kinds Tokenizer.from_dict and get_tokenizer know (the dict lives in base.py).
_KINDS.update(char=CharTokenizer, word=WordTokenizer, bpe=BPETokenizer)


def get_tokenizer(spec: str | Tokenizer | type[Tokenizer]) -> type[Tokenizer] | Tokenizer:
    """The tokenizer class named ``spec`` (``"char"``, ``"word"``, ``"bpe"``, any
    case), or ``spec`` itself when it is already a tokenizer (instance or class)."""
    if isinstance(spec, Tokenizer):
        return spec
    if isinstance(spec, type) and issubclass(spec, Tokenizer) and not spec.__abstractmethods__:
        return spec
    if isinstance(spec, str) and spec.strip().lower() in _KINDS:
        return _KINDS[spec.strip().lower()]
    raise invalid("tokenizer", "one of 'char', 'word', 'bpe' or a Tokenizer instance", _short(spec))


def fit_tokenizer(
    spec: str | Tokenizer | type[Tokenizer], texts: Iterable[str], **kwargs: Any
) -> Tokenizer:
    """Fit a tokenizer of kind ``spec`` on ``texts``; an instance is returned
    unchanged (``texts`` is then not read).

    >>> fit_tokenizer("char", ["abba"]).vocab_size
    3
    """
    tok = get_tokenizer(spec)
    if isinstance(tok, Tokenizer):
        return tok
    return tok.fit(texts, **kwargs)
