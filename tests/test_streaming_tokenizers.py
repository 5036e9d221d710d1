"""Streaming with the word and BPE tokenizers on text with multi-byte characters.

Every piece ``stream`` yields must be final: the text shown so far is always a
prefix of the decoded tokens, even when a byte-level BPE token ends inside a
character (Chinese: 3 bytes, accented letters: 2, emoji: 4) that the next token
completes.
"""

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm.generation.generator import Trace, sample_stream
from jupyter_llm.generation.sampling import SamplingOptions

ACCENTED = "café crème brûlée naïve façade élève où été garçon señor mañana über Ångström déjà vu tête-à-tête".split()
EMOJI = ["🙂", "🌸", "🍵", "🌙", "🎋"]
PROMPTS = ["", "café ", "春风"]


@pytest.fixture(scope="module")
def mixed_text(tang_text):
    """Tang couplets, with a line of accented words and an emoji after every other one."""
    rng = np.random.default_rng(0)
    lines = []
    for i, couplet in enumerate(line for line in tang_text.splitlines()[:1200] if line):
        lines.append(couplet)
        if i % 2 == 0:
            lines.append(" ".join(rng.choice(ACCENTED, size=5)) + " " + rng.choice(EMOJI))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=["word", "bpe"])
def model(request, mixed_text):
    # A small BPE vocabulary leaves most CJK characters and every emoji split over several tokens.
    return jl.train(mixed_text, tokenizer=request.param, max_vocab=300 if request.param == "bpe" else None,
                    size="tiny", seq_len=32, batch_size=16, epochs=1, steps_per_epoch=40, learning_rate=0.01,
                    validation_split=0, progress=False, sample_tokens=0, seed=0)


def generated_ids(lm, prompt: str, seed: int) -> list[int]:
    """The token ids that ``generate(prompt, seed=seed)`` samples."""
    ids = lm.encode_prompt(prompt)
    trace = Trace(ids)
    for _ in sample_stream(lm.decoder, lm.tokenizer, ids, SamplingOptions(max_tokens=40, seed=seed), trace):
        pass
    return trace.token_ids[0]


@pytest.mark.parametrize("prompt", PROMPTS, ids=["empty", "accented", "chinese"])
def test_streamed_text_is_the_decoded_text_and_never_takes_a_piece_back(model, prompt):
    tok = model.tokenizer
    split_characters = 0
    for seed in range(3):
        ids = generated_ids(model, prompt, seed)
        text = tok.decode(ids)
        assert model.generate(prompt, max_tokens=40, seed=seed) == text
        pieces = list(model.stream(prompt, max_tokens=40, seed=seed))
        assert "".join(pieces) == text
        shown = ""
        for piece in pieces:
            shown += piece
            assert text.startswith(shown), (shown, text)
        # Token prefixes whose decoding ends in the middle of a character the next tokens complete.
        for k in range(1, len(ids)):
            head = tok.decode(ids[:k])
            split_characters += head.endswith("\ufffd") and text[len(head) - 1] != "\ufffd"
        assert sum(ord(c) > 127 for c in text) >= 5  # multi-byte characters were generated
    if tok.kind == "bpe":
        assert split_characters >= 3  # the case under test happened
    else:
        assert split_characters == 0  # whole words: a token never ends inside a character
