"""Text handling: tokenizers (no TensorFlow)."""

from .tokenizers import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    fit_tokenizer,
    get_tokenizer,
)

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "get_tokenizer",
    "fit_tokenizer",
]
