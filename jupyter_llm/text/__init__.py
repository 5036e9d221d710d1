"""Text handling: tokenizers (no TensorFlow)."""

from .tokenizers import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    fit_tokenizer,
    get_tokenizer,
)
from .tokenizers import __all__ as __all__  # one list of the public names, kept there
