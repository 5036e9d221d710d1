"""Word tokenizer: words, punctuation and whitespace runs; CJK runs cut by jieba."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from ...errors import invalid
from .base import FORMAT_VERSION, UNK, Tokenizer
from .checks import _check_str_list, _check_text, _payload, _payload_list
from .fitting import _ranked

# Han (with extensions and compatibility ideographs), kana, hangul and the
# ideographic iteration marks 々〆〇.
_CJK = (
    "\u1100-\u11ff\u3005-\u3007\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003134f"
)
# One "unit" per match: group 1 a CJK run (segmented further), group 2 a word
# (non-CJK \w run), a whitespace run, or any other single character.
_UNITS = re.compile(rf"([{_CJK}]+)|([^\W{_CJK}]+|\s+|.)", re.DOTALL)

_SEGMENTERS = ("auto", "jieba", "chars")
_jieba_lcut = None


def _jieba() -> Any:
    """``jieba.lcut``, imported and silenced on first use."""
    global _jieba_lcut
    if _jieba_lcut is None:
        try:
            import jieba
        except ImportError:
            raise ImportError(
                "This word tokenizer segments Chinese with jieba, which is not installed; "
                "install it with `pip install jieba`."
            ) from None
        jieba.setLogLevel(60)  # no "Building prefix dict ..." chatter
        _jieba_lcut = jieba.lcut
    return _jieba_lcut


class WordTokenizer(Tokenizer):
    """Words, single punctuation marks and whitespace runs, one token each.

    The tokens of a text concatenate back to the text. Chinese, Japanese and
    Korean runs are cut into words by jieba (``segmenter="jieba"``) or into
    single characters (``segmenter="chars"``); ``"auto"`` uses jieba when it
    is installed. Id 0 is ``<unk>``, which unknown words encode to and which
    decodes to the string ``"<unk>"``.

    >>> tok = WordTokenizer(["the", " ", "cat"])
    >>> tok.tokenize("the cat sat")
    ['the', ' ', 'cat', ' ', '<unk>']
    """

    kind = "word"
    unk_id = 0
    #: ``max_vocab`` used when fit is given None.
    default_max_vocab: ClassVar[int] = 20000
    #: :meth:`fit` also takes ``segmenter`` (``"auto"`` by default).
    fit_options = ("segmenter",)

    def __init__(self, words: Sequence[str], *, segmenter: str = "auto") -> None:
        words = _check_str_list(words, "words")
        if "" in words or UNK in words:
            bad = "" if "" in words else UNK
            raise invalid("words", f"non-empty strings other than {UNK!r}", bad)
        self._words = words
        self._display = [UNK, *words]
        self._index = {w: i for i, w in enumerate(words, start=1)}
        self.segmenter = self._resolve(segmenter)

    @staticmethod
    def _resolve(segmenter: str) -> str:
        if segmenter not in _SEGMENTERS:
            raise invalid("segmenter", "one of 'auto', 'jieba', 'chars'", segmenter)
        jieba_installed = importlib.util.find_spec("jieba") is not None
        if segmenter == "auto":
            return "jieba" if jieba_installed else "chars"
        if segmenter == "jieba" and not jieba_installed:
            raise invalid("segmenter", "'auto' or 'chars' (jieba is not installed)", segmenter)
        return segmenter

    @classmethod
    def _fit(
        cls,
        chunks: Iterator[str],
        max_vocab: int | None,
        min_freq: int,
        segmenter: str = "auto",
        **options: Any,
    ) -> "WordTokenizer":
        """Vocabulary of the words of the chunks (:meth:`fit`'s ``max_vocab=None``
        means 20000), CJK runs cut by ``segmenter``.

        Chunk boundaries do not split words: the last unit of each chunk is
        carried over to the next, so any chunking gives the same vocabulary.
        """
        segmenter = cls._resolve(segmenter)
        counts: Counter[str] = Counter()
        carry = ""
        for chunk in chunks:
            units = _UNITS.findall(carry + chunk)
            if units:
                cjk, other = units.pop()
                carry = cjk or other
                counts.update(_split_units(units, segmenter))
        counts.update(_split_units(_UNITS.findall(carry), segmenter))
        return cls(_ranked(counts, max_vocab, min_freq, key=str), segmenter=segmenter)

    @property
    def vocab_size(self) -> int:
        return len(self._words) + 1

    def _segment(self, text: str) -> list[str]:
        return _split_units(_UNITS.findall(_check_text(text)), self.segmenter)

    def encode(self, text: str) -> np.ndarray:
        tokens = self._segment(text)
        get = self._index.get
        return np.fromiter((get(t, 0) for t in tokens), dtype=np.int32, count=len(tokens))

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        display = self._display
        return "".join([display[i] for i in self._check_ids(ids).tolist()])

    def id_to_token(self, i: int) -> str:
        return self._display[self._check_id(i)]

    def tokenize(self, text: str) -> list[str]:
        index = self._index
        return [t if t in index else UNK for t in self._segment(text)]

    def unknown_symbols(self, text: str) -> list[str]:
        index = self._index
        return list(dict.fromkeys(t for t in self._segment(text) if t not in index))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "segmenter": self.segmenter,
            "words": list(self._words),
        }

    @classmethod
    def _from_payload(cls, d: dict[str, Any]) -> "WordTokenizer":
        return cls(_payload_list(d, "words"), segmenter=_payload(d, "segmenter"))

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={self.vocab_size}, segmenter={self.segmenter!r})"


def _split_units(units: list[tuple[str, str]], segmenter: str) -> list[str]:
    """Tokens of ``_UNITS.findall`` output: CJK runs cut by ``segmenter``, the rest as is."""
    tokens: list[str] = []
    append, extend = tokens.append, tokens.extend
    cut = _jieba() if segmenter == "jieba" and any(cjk for cjk, _ in units) else list
    for cjk, other in units:
        if other:
            append(other)
        elif len(cjk) == 1:
            append(cjk)
        else:
            words = cut(cjk)
            # jieba always returns pieces of its input; guard the lossless promise anyway.
            extend(words if "".join(words) == cjk else list(cjk))
    return tokens
