"""TextAssembler: streamed text equals decode(ids) for every tokenizer, and a token's cost does not
grow with the length of the text (each step decodes a bounded number of ids, not all of them)."""

from __future__ import annotations

import numpy as np
import pytest

from jupyter_llm.generation.generator import TextAssembler
from jupyter_llm.text import BPETokenizer, CharTokenizer, WordTokenizer

TEXT = ("Où est la café? 我喜欢吃苹果。床前明月光，疑是地上霜。 naïve façade — emoji 🙂🚀 ok.\n"
        "To be, or not to be: that is the question. 😀 ü é ß\n") * 4


class Counting:
    """A tokenizer wrapped to record how many ids each decode call gets."""

    def __init__(self, inner) -> None:
        self.inner, self.kind, self.lengths = inner, inner.kind, []

    def decode(self, ids):
        ids = list(ids)
        self.lengths.append(len(ids))
        return self.inner.decode(ids)


@pytest.fixture(scope="module")
def tokenizers():
    return {
        "char": CharTokenizer.fit([TEXT]),
        "word": WordTokenizer.fit([TEXT]),
        # a small byte-level vocabulary: many characters are split over several tokens
        "bpe": BPETokenizer.fit([TEXT], max_vocab=300),
    }


def _stream(tokenizer, ids, stop=()):
    row = TextAssembler(Counting(tokenizer), list(stop))
    pieces, prefixes = [], []
    for i in ids:
        pieces.append(row.push(i))
        prefixes.append(row.text)
        if row.finished:
            break
    pieces.append(row.flush())
    return row, pieces, prefixes


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_streamed_text_is_the_decoded_text_at_every_step(tokenizers, kind, seed):
    tok = tokenizers[kind]
    rng = np.random.default_rng(seed)
    # Random ids (BPE bytes that split characters anywhere) and the ids of real text.
    ids = rng.integers(0, tok.vocab_size, size=300).tolist() + tok.encode(TEXT).tolist()
    row, pieces, prefixes = _stream(tok, ids)
    assert "".join(pieces) == tok.decode(ids)
    for n, text in enumerate(prefixes, start=1):
        assert text == tok.decode(ids[:n]), n


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_the_cost_of_a_token_does_not_grow_with_the_text(tokenizers, kind):
    tok = tokenizers[kind]
    ids = tok.encode(TEXT * 6).tolist()
    assert len(ids) > 10 * TextAssembler.CONTEXT
    row, pieces, _ = _stream(tok, ids)
    assert "".join(pieces) == tok.decode(ids)
    lengths = row.tokenizer.lengths
    # the tail and its context, however long the text: 3 x CONTEXT ids, plus at most 3 more while
    # the boundary waits for the last byte of a split character (UTF-8: 4 bytes at most)
    assert max(lengths) <= 3 * TextAssembler.CONTEXT + 3, max(lengths)
    assert sum(lengths) <= 6 * TextAssembler.CONTEXT * len(ids)


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_a_stop_sequence_far_into_the_text_ends_it_before_the_stop(tokenizers, kind):
    tok = tokenizers[kind]
    ids = tok.encode(TEXT * 3).tolist()
    full = tok.decode(ids)
    stop = "that is the question"
    row, pieces, _ = _stream(tok, ids, stop=[stop])
    assert row.finished and "".join(pieces) == full[:full.index(stop)]


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
@pytest.mark.parametrize("chunk", [2, 7, 64])
def test_a_chunk_of_tokens_at_once_gives_the_text_of_one_at_a_time(tokenizers, kind, chunk):
    """The decoding loop hands over a chunk of ids per call: the text, and where a stop ends it, are the same."""
    tok = tokenizers[kind]
    ids = tok.encode(TEXT * 2).tolist()
    for stop in ([], ["that is the question"], ["emoji", "naïve"]):
        one, pieces, _ = _stream(tok, ids, stop=stop)
        many = TextAssembler(tok, list(stop))
        shown = [many.push_many(ids[i:i + chunk]) for i in range(0, len(ids), chunk) if not many.finished]
        shown.append(many.flush())
        assert "".join(shown) == "".join(pieces) == one.text, (stop, chunk)
        assert many.finished == one.finished


def test_the_earliest_of_several_stop_sequences_ends_the_text(tokenizers):
    tok = tokenizers["char"]
    row = TextAssembler(tok, ["question", "or not"])
    piece = row.push_many(tok.encode("To be, or not to be: that is the question."))
    assert row.stopped and piece + row.flush() == "To be, "
