"""Tokenizers: text <-> integer token ids, with no TensorFlow.

Three kinds share one interface (:class:`Tokenizer`):

* ``"char"`` (:class:`CharTokenizer`): one token per Unicode code point, any
  script. The default: small vocabularies, nothing is ever split oddly.
* ``"word"`` (:class:`WordTokenizer`): words, single punctuation marks and
  whitespace runs; Chinese, Japanese and Korean runs are cut into words with
  jieba. Lossless for known words.
* ``"bpe"`` (:class:`BPETokenizer`): Hugging Face byte-level BPE. Lossless on
  any text and has no unknown token.

Ids are deterministic: fitting twice on the same text gives the same ids.
Tokenizers are saved as JSON, never pickled.

>>> tok = CharTokenizer.fit(["hello world"])
>>> tok.decode(tok.encode("hello"))
'hello'
>>> tok.tokenize("hi")
['h', '<unk>']

``jieba`` and ``tokenizers`` are imported on first use, so importing this
module costs only numpy.
"""

from __future__ import annotations

import abc
import contextlib
import importlib.util
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import (
    CorruptModelError,
    DataError,
    InvalidArgumentError,
    ModelNotFoundError,
    invalid,
)

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "get_tokenizer",
    "fit_tokenizer",
]

#: Version of the dict written by :meth:`Tokenizer.to_dict`.
FORMAT_VERSION = 1

#: Display string of the unknown token.
UNK = "<unk>"


class Tokenizer(abc.ABC):
    """Maps text to a sequence of integer ids in ``[0, vocab_size)`` and back.

    Subclasses set :attr:`kind` and :attr:`unk_id` and implement the abstract
    methods. Build one with :meth:`fit` (or :func:`fit_tokenizer`), persist it
    with :meth:`save` / :meth:`load` (JSON).
    """

    #: ``"char"``, ``"word"`` or ``"bpe"``; the key :meth:`from_dict` dispatches on.
    kind: ClassVar[str]
    #: Id that unknown symbols map to, or None when the tokenizer has no unknowns.
    unk_id: int | None = 0

    # === Building ===

    @classmethod
    @abc.abstractmethod
    def fit(
        cls,
        texts: Iterable[str],
        *,
        max_vocab: int | None = None,
        min_freq: int = 1,
        **kwargs: Any,
    ) -> "Tokenizer":
        """Learn a vocabulary from ``texts``, an iterable of text chunks.

        ``texts`` may be a generator over a huge file: it is consumed once,
        chunk by chunk. A single string is treated as one chunk.
        ``max_vocab`` counts every id (including ``<unk>``); None means the
        kind's default. Symbols seen fewer than ``min_freq`` times are left out.
        """

    # === Encoding ===

    @property
    @abc.abstractmethod
    def vocab_size(self) -> int:
        """Number of ids; every id is in ``[0, vocab_size)``."""

    @abc.abstractmethod
    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text``: int32 array of shape ``(T,)``."""

    @abc.abstractmethod
    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """Text of token ids (any iterable of ints, shape ``(T,)``).

        ``decode(encode(text)) == text`` for text made only of known symbols.
        """

    @abc.abstractmethod
    def id_to_token(self, i: int) -> str:
        """Human-readable string of token ``i`` (for attention maps)."""

    def tokenize(self, text: str) -> list[str]:
        """Display strings of the tokens of ``text``; ``len == len(encode(text))``."""
        return [self.id_to_token(i) for i in self.encode(text).tolist()]

    @abc.abstractmethod
    def unknown_symbols(self, text: str) -> list[str]:
        """Distinct symbols of ``text`` that map to ``<unk>``, in order of first appearance."""

    # === Serialisation ===

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state, with ``"kind"`` and ``"format_version"``."""

    @classmethod
    @abc.abstractmethod
    def _from_payload(cls, d: dict[str, Any]) -> "Tokenizer":
        """Rebuild from a dict whose kind and version have been checked."""

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string (ASCII, so any text survives any file encoding)."""
        return json.dumps(self.to_dict(), ensure_ascii=True)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "Tokenizer":
        """Rebuild a tokenizer of any kind from :meth:`to_dict`'s output.

        Raises :class:`~jupyter_llm.errors.CorruptModelError` when ``d`` is not
        a tokenizer dict written by this version of jupyter_llm.
        """
        if not isinstance(d, dict):
            raise CorruptModelError(
                f"Expected a tokenizer dict; received a {type(d).__name__}."
            )
        kind = d.get("kind")
        cls = _KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise CorruptModelError(
                "Expected a tokenizer dict with kind 'char', 'word' or 'bpe'; "
                f"received kind={kind!r}."
            )
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise CorruptModelError(
                f"Expected a tokenizer dict with format_version {FORMAT_VERSION}; "
                f"received format_version={version!r}."
            )
        try:
            return cls._from_payload(d)
        except InvalidArgumentError as e:
            reason = str(e)
            raise CorruptModelError(
                f"The saved {kind} tokenizer is corrupt: {reason[:1].lower()}{reason[1:]}"
            ) from None

    @staticmethod
    def from_json(s: str) -> "Tokenizer":
        """Rebuild a tokenizer from :meth:`to_json`'s output."""
        try:
            d = json.loads(s)
        except (TypeError, ValueError) as e:
            raise CorruptModelError(f"Expected tokenizer JSON; could not parse it ({e}).") from None
        return Tokenizer.from_dict(d)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path`` atomically; returns the path.

        The JSON goes to a temporary file in the same folder that then replaces
        ``path``, so a crash never leaves a half-written tokenizer behind.
        """
        path = Path(path)
        data = self.to_json()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes files private; a tokenizer is not secret
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    @staticmethod
    def load(path: str | os.PathLike[str]) -> "Tokenizer":
        """Read a tokenizer written by :meth:`save`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ModelNotFoundError(
                f"Expected a tokenizer file at {os.fspath(path)!r}; there is none."
            ) from None
        except UnicodeDecodeError:
            raise CorruptModelError(
                f"Expected a UTF-8 JSON tokenizer file at {os.fspath(path)!r}; it is not text."
            ) from None
        return Tokenizer.from_json(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"

    # === Helpers for subclasses ===

    def _check_ids(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """``ids`` as a 1-D int64 array, every id in ``[0, vocab_size)``."""
        if isinstance(ids, Iterator):
            ids = list(ids)
        arr = np.asarray(ids)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise invalid("ids", "a 1-D sequence of integer token ids", _short(ids))
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= self.vocab_size:
            raise invalid("ids", f"token ids in [0, {self.vocab_size})", lo if lo < 0 else hi)
        return arr.astype(np.int64, copy=False)

    def _check_id(self, i: int) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise invalid("i", "an integer token id", i)
        if not 0 <= i < self.vocab_size:
            raise invalid("i", f"a token id in [0, {self.vocab_size})", int(i))
        return int(i)


# ---------------------------------------------------------------------------
# Shared validation
# ---------------------------------------------------------------------------


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


def _chunks(texts: Iterable[str], seen_text: list[bool]) -> Iterator[str]:
    """Yield the str chunks of ``texts`` once; set ``seen_text[0]`` when one has non-space text."""
    if isinstance(texts, str):
        texts = (texts,)
    try:
        iterator = iter(texts)
    except TypeError:
        raise invalid(
            "texts", "a string or an iterable of strings", _Shown(f"<{type(texts).__name__}>")
        ) from None
    for chunk in iterator:
        if not isinstance(chunk, str):
            raise InvalidArgumentError(
                "Invalid value for argument texts. Expected an iterable of strings. "
                f"Received: a chunk of type {type(chunk).__name__}"
            )
        if not seen_text[0] and chunk and not chunk.isspace():
            seen_text[0] = True
        yield chunk


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


# ---------------------------------------------------------------------------
# Characters
# ---------------------------------------------------------------------------


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
    def fit(
        cls,
        texts: Iterable[str],
        *,
        max_vocab: int | None = None,
        min_freq: int = 1,
        **kwargs: Any,
    ) -> "CharTokenizer":
        """Vocabulary of the characters of ``texts``; ``max_vocab=None`` keeps them all."""
        _reject_options(cls.kind, kwargs, "max_vocab and min_freq")
        _check_fit_args(max_vocab, min_freq, 2)
        seen_text = [False]
        counts: Counter[str] = Counter()
        for chunk in _chunks(texts, seen_text):
            counts.update(chunk)
        if not seen_text[0]:
            raise _empty_text_error()
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
        symbols = _payload(d, "symbols")
        if not isinstance(symbols, list):
            raise invalid("symbols", "a list of strings", _short(symbols))
        return cls(symbols)


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------

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
    def fit(
        cls,
        texts: Iterable[str],
        *,
        max_vocab: int | None = None,
        min_freq: int = 1,
        segmenter: str = "auto",
        **kwargs: Any,
    ) -> "WordTokenizer":
        """Vocabulary of the words of ``texts``; ``max_vocab=None`` means 20000.

        Chunk boundaries do not split words: the last unit of each chunk is
        carried over to the next, so any chunking gives the same vocabulary.
        """
        _reject_options(cls.kind, kwargs, "max_vocab, min_freq and segmenter")
        _check_fit_args(max_vocab, min_freq, 2)
        segmenter = cls._resolve(segmenter)
        seen_text = [False]
        counts: Counter[str] = Counter()
        carry = ""
        for chunk in _chunks(texts, seen_text):
            units = _UNITS.findall(carry + chunk)
            if units:
                cjk, other = units.pop()
                carry = cjk or other
                counts.update(_split_units(units, segmenter))
        counts.update(_split_units(_UNITS.findall(carry), segmenter))
        if not seen_text[0]:
            raise _empty_text_error()
        if max_vocab is None:
            max_vocab = cls.default_max_vocab
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
        words = _payload(d, "words")
        if not isinstance(words, list):
            raise invalid("words", "a list of strings", _short(words))
        return cls(words, segmenter=_payload(d, "segmenter"))

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


# ---------------------------------------------------------------------------
# Byte-level BPE
# ---------------------------------------------------------------------------

# Encoding a long text in pieces cut after a lone "\n" between two non-space
# characters gives the same ids as encoding it whole (the byte-level regex
# always ends a pre-token there), and lets Hugging Face encode in parallel.
_SAFE_CUT = re.compile(r"(?<=\S\n)(?=\S)")
_PIECE_CHARS = 1 << 15


def _pieces(text: str) -> list[str]:
    if len(text) < 2 * _PIECE_CHARS:
        return [text]
    pieces, start = [], 0
    while True:
        m = _SAFE_CUT.search(text, start + _PIECE_CHARS)
        if m is None:
            break
        pieces.append(text[start : m.start()])
        start = m.start()
    pieces.append(text[start:])
    return pieces


class BPETokenizer(Tokenizer):
    """Hugging Face byte-level BPE: lossless on any text, no unknown token.

    Ids 0..255 are single bytes, the rest merges learned by :meth:`fit`. A
    token that is part of a multi-byte character displays with U+FFFD.

    Args:
        hf_tokenizer: a ``tokenizers.Tokenizer`` with a BPE model and a
            ByteLevel pre-tokenizer and decoder, such as :meth:`fit` builds.
    """

    kind = "bpe"
    unk_id = None
    #: ``max_vocab`` used when fit is given None.
    default_max_vocab: ClassVar[int] = 2000

    def __init__(self, hf_tokenizer: Any) -> None:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers

        if not isinstance(hf_tokenizer, HFTokenizer):
            raise invalid(
                "hf_tokenizer", "a tokenizers.Tokenizer", _Shown(f"<{type(hf_tokenizer).__name__}>")
            )
        if not isinstance(hf_tokenizer.model, models.BPE) or not isinstance(
            hf_tokenizer.pre_tokenizer, pre_tokenizers.ByteLevel
        ):
            raise invalid(
                "hf_tokenizer",
                "a byte-level BPE tokenizer",
                _Shown(
                    f"<{type(hf_tokenizer.model).__name__} model, "
                    f"{type(hf_tokenizer.pre_tokenizer).__name__} pre-tokenizer>"
                ),
            )
        self.hf_tokenizer = hf_tokenizer
        self._vocab_size = hf_tokenizer.get_vocab_size(with_added_tokens=True)
        self._display: list[str] | None = None  # built on first id_to_token

    @classmethod
    def fit(
        cls,
        texts: Iterable[str],
        *,
        max_vocab: int | None = None,
        min_freq: int = 1,
        **kwargs: Any,
    ) -> "BPETokenizer":
        """Train byte-level BPE merges on ``texts``; ``max_vocab=None`` means 2000.

        ``max_vocab`` must be at least 257: the 256 bytes and one merge.
        """
        _reject_options(cls.kind, kwargs, "max_vocab and min_freq")
        _check_fit_args(max_vocab, min_freq, 257)
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, pre_tokenizers, trainers

        hf = HFTokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        hf.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=int(max_vocab or cls.default_max_vocab),
            min_frequency=int(min_freq),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        seen_text = [False]
        hf.train_from_iterator(_chunks(texts, seen_text), trainer=trainer)
        if not seen_text[0]:
            raise _empty_text_error()
        return cls(hf)

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    def encode(self, text: str) -> np.ndarray:
        pieces = _pieces(_check_text(text))
        hf = self.hf_tokenizer
        if len(pieces) == 1:
            ids = hf.encode(text, add_special_tokens=False).ids
            return np.asarray(ids, dtype=np.int32).reshape(-1)
        batch = getattr(hf, "encode_batch_fast", hf.encode_batch)  # _fast skips offsets (>= 0.21)
        encodings = batch(pieces, add_special_tokens=False)
        return np.concatenate([np.asarray(e.ids, dtype=np.int32) for e in encodings])

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        return self.hf_tokenizer.decode(self._check_ids(ids).tolist(), skip_special_tokens=False)

    def id_to_token(self, i: int) -> str:
        i = self._check_id(i)
        if self._display is None:
            decode = self.hf_tokenizer.decode
            self._display = [
                decode([j], skip_special_tokens=False) for j in range(self._vocab_size)
            ]
        return self._display[i]

    def unknown_symbols(self, text: str) -> list[str]:
        _check_text(text)
        return []

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "hf_tokenizer": self.hf_tokenizer.to_str(),
        }

    @classmethod
    def _from_payload(cls, d: dict[str, Any]) -> "BPETokenizer":
        from tokenizers import Tokenizer as HFTokenizer

        state = _payload(d, "hf_tokenizer")
        if not isinstance(state, str):
            raise CorruptModelError(
                f"Expected the saved bpe tokenizer's 'hf_tokenizer' to be a JSON string; "
                f"received a {type(state).__name__}."
            )
        try:
            hf = HFTokenizer.from_str(state)
        except Exception as e:  # the Rust side raises plain Exception
            raise CorruptModelError(
                "Expected a Hugging Face tokenizer in the saved bpe tokenizer; "
                f"could not read it ({e})."
            ) from None
        return cls(hf)


# ---------------------------------------------------------------------------
# Choosing by name
# ---------------------------------------------------------------------------

_KINDS: dict[str, type[Tokenizer]] = {
    "char": CharTokenizer,
    "word": WordTokenizer,
    "bpe": BPETokenizer,
}


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
