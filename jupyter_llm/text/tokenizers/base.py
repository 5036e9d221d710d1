"""The :class:`Tokenizer` interface, its JSON form and its file on disk."""

from __future__ import annotations

import abc
import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import CorruptModelError, InvalidArgumentError, ModelNotFoundError, invalid
from .checks import _check_fit_args, _reject_options, _short
from .fitting import _chunks

#: Version of the dict written by :meth:`Tokenizer.to_dict`.
FORMAT_VERSION = 1

#: Display string of the unknown token.
UNK = "<unk>"

#: Tokenizer class of each kind, for :meth:`Tokenizer.from_dict`; filled in by registry.py.
_KINDS: dict[str, type[Tokenizer]] = {}


class Tokenizer(abc.ABC):
    """Maps text to a sequence of integer ids in ``[0, vocab_size)`` and back.

    Subclasses set :attr:`kind` and :attr:`unk_id` and implement the abstract
    methods; :meth:`fit` checks its arguments and the text, then calls the
    kind's :meth:`_fit`. Build one with :meth:`fit` (or :func:`fit_tokenizer`),
    persist it with :meth:`save` / :meth:`load` (JSON).
    """

    #: ``"char"``, ``"word"`` or ``"bpe"``; the key :meth:`from_dict` dispatches on.
    kind: ClassVar[str]
    #: Id that unknown symbols map to, or None when the tokenizer has no unknowns.
    unk_id: int | None = 0
    #: ``max_vocab`` used when :meth:`fit` is given None (None: no limit).
    default_max_vocab: ClassVar[int | None] = None
    #: Smallest ``max_vocab`` that :meth:`fit` accepts.
    smallest_vocab: ClassVar[int] = 2
    #: Keyword arguments :meth:`fit` accepts besides ``max_vocab`` and ``min_freq``.
    fit_options: ClassVar[tuple[str, ...]] = ()

    # === Building ===

    @classmethod
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
        Options of one kind (such as the word tokenizer's ``segmenter``) are
        passed on as keyword arguments.
        """
        accepted = ("max_vocab", "min_freq", *cls.fit_options)
        unexpected = {k: v for k, v in kwargs.items() if k not in cls.fit_options}
        _reject_options(cls.kind, unexpected, f"{', '.join(accepted[:-1])} and {accepted[-1]}")
        _check_fit_args(max_vocab, min_freq, cls.smallest_vocab)
        if max_vocab is None:
            max_vocab = cls.default_max_vocab
        return cls._fit(_chunks(texts), max_vocab, min_freq, **kwargs)

    @classmethod
    @abc.abstractmethod
    def _fit(
        cls, chunks: Iterator[str], max_vocab: int | None, min_freq: int, **options: Any
    ) -> "Tokenizer":
        """:meth:`fit` once its arguments are checked: ``chunks`` yields the str
        chunks once (and raises :class:`~jupyter_llm.errors.DataError` at the end
        when none had text), ``max_vocab`` is the kind's default where None was given."""

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
