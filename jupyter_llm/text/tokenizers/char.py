"""Character tokenizer: one token per Unicode code point."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ...errors import invalid
from .base import FORMAT_VERSION, UNK, Tokenizer
from .checks import _check_str_list, _check_text, _payload_list
from .fitting import _ranked


def _code_points(text: str) -> np.ndarray:
    """Code points of ``text``: uint32 array of shape ``(len(text),)``."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class CharTokenizer(Tokenizer):
    """One token per Unicode code point (any script, CJK included).

    Id 0 is ``<unk>``; ids 1.. are ``symbols`` in order (by :meth:`fit`: most
    frequent first, ties by code point). Unknown characters encode to 0 and
    decode to U+FFFD.

    >>> tok = CharTokenizer("ab")
    >>> tok.encode("abc").tolist()
    [1, 2, 0]
    >>> tok.decode([1, 2, 0])
    'ab\\ufffd'
    """

    kind = "char"
    unk_id = 0

    def __init__(self, symbols: Sequence[str]) -> None:
        symbols = _check_str_list(symbols, "symbols")
        if any(len(s) != 1 for s in symbols):
            bad = next(s for s in symbols if len(s) != 1)
            raise invalid("symbols", "single characters", bad)
        self._symbols = symbols
        self._display = [UNK, *symbols]
        cps = np.array([ord(s) for s in symbols], dtype=np.uint32)
        order = np.argsort(cps)
        self._sorted_cps = cps[order]  # for searchsorted in encode
        self._sorted_ids = (order + 1).astype(np.int32)
        self._decode_cps = np.concatenate([[0xFFFD], cps]).astype("<u4")

    @classmethod
    def _fit(
        cls, chunks: Iterator[str], max_vocab: int | None, min_freq: int, **options: Any
    ) -> "CharTokenizer":
        """Vocabulary of the characters of the chunks; ``max_vocab=None`` keeps them all."""
        counts: Counter[str] = Counter()
        for chunk in chunks:
            counts.update(chunk)
        return cls(_ranked(counts, max_vocab, min_freq, key=ord))

    @property
    def vocab_size(self) -> int:
        return len(self._symbols) + 1

    def encode(self, text: str) -> np.ndarray:
        cps = _code_points(_check_text(text))
        if not len(self._sorted_cps) or not len(cps):
            return np.zeros(len(cps), dtype=np.int32)
        where = np.searchsorted(self._sorted_cps, cps)
        np.minimum(where, len(self._sorted_cps) - 1, out=where)
        known = self._sorted_cps[where] == cps
        return np.where(known, self._sorted_ids[where], 0).astype(np.int32, copy=False)

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        cps = self._decode_cps[self._check_ids(ids)]
        return cps.tobytes().decode("utf-32-le", "surrogatepass")

    def id_to_token(self, i: int) -> str:
        return self._display[self._check_id(i)]

    def tokenize(self, text: str) -> list[str]:
        display = self._display
        return [display[i] for i in self.encode(text).tolist()]

    def unknown_symbols(self, text: str) -> list[str]:
        cps = _code_points(_check_text(text))
        unknown = cps[self.encode(text) == 0]
        if not len(unknown):
            return []
        distinct, first = np.unique(unknown, return_index=True)
        return [chr(c) for c in distinct[np.argsort(first)].tolist()]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "format_version": FORMAT_VERSION, "symbols": list(self._symbols)}

    @classmethod
    def _from_payload(cls, d: dict[str, Any]) -> "CharTokenizer":
        return cls(_payload_list(d, "symbols"))
