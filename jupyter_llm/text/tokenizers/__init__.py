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
package costs only numpy.
"""

from __future__ import annotations

from .base import _KINDS, FORMAT_VERSION, UNK, Tokenizer
from .bpe import _PIECE_CHARS, _SAFE_CUT, BPETokenizer, _pieces
from .char import CharTokenizer, _code_points
from .checks import (
    _check_fit_args,
    _check_str_list,
    _check_text,
    _len,
    _payload,
    _payload_list,
    _reject_options,
    _short,
    _Shown,
)
from .fitting import _chunks, _empty_text_error, _ranked
from .registry import fit_tokenizer, get_tokenizer
from .word import _CJK, _SEGMENTERS, _UNITS, WordTokenizer, _jieba, _split_units

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "get_tokenizer",
    "fit_tokenizer",
]
