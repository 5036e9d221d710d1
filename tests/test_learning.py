"""Training learns: a tiny model beats both the uniform guess and the character frequencies."""

import math
from collections import Counter

import pytest

import jupyter_llm as jl


def unigram_loss(train: str, validation: str) -> float:
    """Nats per character of guessing each validation character from its frequency in ``train``."""
    counts = Counter(train)
    return -sum(math.log(counts.get(ch, 0.5) / len(train)) for ch in validation) / len(validation)


def test_a_tiny_model_learns_shakespeare_in_sixty_steps(shakespeare_text):
    assert len(shakespeare_text) == 50_000
    lm = jl.train(shakespeare_text, size="tiny", seq_len=32, batch_size=32, epochs=1, steps_per_epoch=60,
                  learning_rate=0.01, validation_split=0.1, progress=False, sample_tokens=0, seed=0)
    train, validation = shakespeare_text[:45_000], shakespeare_text[45_000:]  # the split validation_split makes
    loss = lm.evaluate(validation)["loss"]
    assert lm.metadata["history"][-1]["val_loss"] == pytest.approx(loss, rel=1e-4)
    uniform = math.log(lm.tokenizer.vocab_size)  # 4.09 nats for 60 characters
    assert uniform > 4.0
    assert loss < 3.0
    # Below what character frequencies alone give (3.19): the model uses the context.
    assert loss < unigram_loss(train, validation) - 0.5
