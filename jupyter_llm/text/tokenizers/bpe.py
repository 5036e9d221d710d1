"""Byte-level BPE tokenizer (Hugging Face ``tokenizers``, imported on first use)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np

from ...errors import CorruptModelError, invalid
from .base import FORMAT_VERSION, Tokenizer
from .checks import _check_text, _payload, _Shown

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
    #: The 256 bytes and one merge.
    smallest_vocab: ClassVar[int] = 257

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
    def _fit(
        cls, chunks: Iterator[str], max_vocab: int | None, min_freq: int, **options: Any
    ) -> "BPETokenizer":
        """Train byte-level BPE merges on the chunks (:meth:`fit`'s
        ``max_vocab=None`` means 2000; it must be at least 257: the 256 bytes
        and one merge)."""
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
        hf.train_from_iterator(chunks, trainer=trainer)
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
