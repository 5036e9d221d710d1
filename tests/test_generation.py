"""Generation with a real (tiny) trained model: incremental decoding, options, attention."""

import warnings

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm.model.language_model import UnknownSymbolWarning


def test_incremental_decoding_matches_the_full_model(tiny_lm):
    """Carrying GRU states and the attention ring gives the logits of re-running the prefix."""
    text = "ROMEO:\nBut soft, what light through yonder window breaks? It is the east."
    ids = tiny_lm.tokenizer.encode(text)
    assert len(ids) > 2 * tiny_lm.config.window  # the ring buffer wraps around
    full = tiny_lm.logits(text)  # (T, V), all positions at once
    decoder = tiny_lm.decoder
    logits, state, _ = decoder.prefill(ids[None, :5])
    stepped = [logits[0]]
    for token in ids[5:]:
        logits, state, _ = decoder.step(np.array([token]), state)
        stepped.append(logits[0])
    np.testing.assert_allclose(np.stack(stepped), full[4:], atol=2e-4, rtol=1e-4)


@pytest.fixture(scope="module")
def two_layer_lm(shakespeare_text):
    """A tiny two-layer model with an attention window of 8 tokens, so the ring wraps early."""
    return jl.train(shakespeare_text[:20000], size="tiny", num_layers=2, attention_window=8, seq_len=16,
                    batch_size=16, epochs=1, steps_per_epoch=20, learning_rate=0.01, validation_split=0,
                    progress=False, sample_tokens=0, seed=0)


@pytest.mark.parametrize("prompt_length", [5, 21])
def test_incremental_decoding_matches_a_two_layer_model_at_batch_8_past_the_ring_wrap(two_layer_lm,
                                                                                      shakespeare_text,
                                                                                      prompt_length):
    """Both layers' states and the ring of every row carry over; a prompt longer than W fills the ring too."""
    lm = two_layer_lm
    assert lm.config.num_layers == 2 and lm.config.window == 8
    rows = np.stack([lm.tokenizer.encode(shakespeare_text[1000 * i: 1000 * i + 60]) for i in range(8)])  # (8, 60)
    full = lm.model(rows, training=False).numpy()  # (8, 60, V), all positions at once
    decoder = lm.decoder
    logits, state, _ = decoder.prefill(rows[:, :prompt_length])
    stepped = [logits]
    for t in range(prompt_length, rows.shape[1]):
        logits, state, _ = decoder.step(rows[:, t], state)
        stepped.append(logits)
    stepped = np.stack(stepped, axis=1)  # (8, 60 - prompt_length + 1, V)
    assert np.abs(full[1:] - full[:1]).max() > 1.0  # the rows differ: a mix-up between them would show
    np.testing.assert_allclose(stepped, full[:, prompt_length - 1:], atol=2e-4, rtol=1e-4)


def test_same_seed_same_text_and_different_seeds_differ(tiny_lm):
    a = tiny_lm.generate("First Citizen:", max_tokens=60, seed=3)
    b = tiny_lm.generate("First Citizen:", max_tokens=60, seed=3)
    c = tiny_lm.generate("First Citizen:", max_tokens=60, seed=4)
    assert a == b and a != c
    assert isinstance(a, str) and len(a) == 60  # one character per token, no unknowns sampled


def test_n_samples_are_one_batch_and_reproducible(tiny_lm):
    texts = tiny_lm.generate("The", max_tokens=30, seed=1, n=4)
    assert isinstance(texts, list) and len(texts) == 4 and len(set(texts)) > 1
    assert texts == tiny_lm.generate("The", max_tokens=30, seed=1, n=4)


def test_greedy_top_k_top_p_and_repetition_penalty(tiny_lm):
    g1 = tiny_lm.generate("To be", max_tokens=40, greedy=True)
    assert g1 == tiny_lm.generate("To be", max_tokens=40, greedy=True, seed=9)
    assert tiny_lm.generate("To be", max_tokens=40, top_k=1, seed=5) == g1
    assert len(tiny_lm.generate("To be", max_tokens=40, top_p=0.9, seed=5)) == 40
    penalised = tiny_lm.generate("To be", max_tokens=40, greedy=True, repetition_penalty=3.0)
    assert penalised != g1


def test_stop_sequences_end_generation_before_them(tiny_lm):
    free = tiny_lm.generate("KING:", max_tokens=120, seed=2)
    stop = free[10:12]
    text = tiny_lm.generate("KING:", max_tokens=120, seed=2, stop=[stop, "@@@"])
    assert stop not in text and free.startswith(text) and len(text) <= free.index(stop)
    assert "".join(tiny_lm.stream("KING:", max_tokens=120, seed=2, stop=stop)) == text


def test_stream_yields_the_same_text_piece_by_piece(tiny_lm):
    pieces = list(tiny_lm.stream("Good morrow", max_tokens=50, seed=11))
    assert len(pieces) >= 3 and len(pieces[0]) <= 1  # chunks of steps; the first one a single token
    assert "".join(pieces) == tiny_lm.generate("Good morrow", max_tokens=50, seed=11)
    several = list(tiny_lm.stream("Good", max_tokens=20, seed=1, n=3))
    joined = ["".join(p[i] for p in several) for i in range(3)]
    assert joined == tiny_lm.generate("Good", max_tokens=20, seed=1, n=3)


def test_breaking_out_of_a_stream_keeps_what_was_made(tiny_lm):
    made = ""
    for piece in tiny_lm.stream("Hark", max_tokens=500, seed=0):
        made += piece
        if len(made) >= 15:
            break
    assert tiny_lm.generate("Hark", max_tokens=500, seed=0).startswith(made)


def test_beam_search_is_deterministic_and_at_least_as_likely_as_greedy(tiny_lm):
    beam = tiny_lm.generate("The king", max_tokens=12, beam=4)
    assert beam == tiny_lm.generate("The king", max_tokens=12, beam=4)
    best3 = tiny_lm.generate("The king", max_tokens=12, beam=4, n=3)
    assert best3[0] == beam and len(set(best3)) == 3
    greedy = tiny_lm.generate("The king", max_tokens=12, greedy=True)

    def logprob(cont):
        logits = tiny_lm.logits("The king" + cont)
        ids = tiny_lm.tokenizer.encode("The king" + cont)
        lp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
        return sum(lp[i - 1, ids[i]] for i in range(8, len(ids)))

    assert logprob(beam) >= logprob(greedy) - 1e-3


def test_attention_map_is_causal_and_normalised(tiny_lm):
    att = tiny_lm.attention("To be, or not to be")
    assert att.tokens == list("To be, or not to be")
    w = att.weights
    assert w.shape == (19, 19)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.triu(w, k=1) == 0)
    bundle = att._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.jupyter-llm.attention+json", "text/html", "text/plain"}
    assert "<script" not in bundle["text/html"]


def test_generation_can_return_the_attention_of_each_generated_token(tiny_lm):
    text, att = tiny_lm.generate("To be", max_tokens=40, seed=0, return_attention=True)
    assert len(att) == 5 + 40 and att.prompt_length == 5
    np.testing.assert_allclose(att.weights.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.triu(att.weights, k=1) == 0)
    # Each generated row equals what attention() computes on the whole text at once.
    np.testing.assert_allclose(att.weights, tiny_lm.attention("To be" + text).weights, atol=1e-4)


def test_html_escapes_tokens(tiny_lm):
    att = tiny_lm.attention("<b>&")
    html = att.to_html()
    assert "&lt;" in html and "<b>" not in html.replace("<b>&", "")


def test_unknown_characters_warn_and_map_to_unk(tiny_lm):
    with pytest.warns(UnknownSymbolWarning, match="'火'"):
        tiny_lm.generate("火 and ice", max_tokens=5, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny_lm.generate("fire and ice", max_tokens=5, seed=0)


def test_prompt_longer_than_the_context_is_refused(tiny_lm):
    limit = tiny_lm.config.max_context
    with pytest.raises(jl.PromptTooLongError, match=f"at most {limit:,}"):
        tiny_lm.generate("a" * (limit + 1), max_tokens=1)


def test_bad_generation_options_are_one_sentence(tiny_lm):
    with pytest.raises(jl.InvalidArgumentError, match="greedy=True"):
        tiny_lm.generate("x", temperature=0)
    with pytest.raises(jl.InvalidArgumentError, match="top_p"):
        tiny_lm.generate("x", top_p=2)
    with pytest.raises(jl.InvalidArgumentError, match="top_k"):
        tiny_lm.generate("x", top_k=0)
    with pytest.raises(jl.InvalidArgumentError, match="prompt"):
        tiny_lm.generate(123)
    for n in (None, 2.0, 0):  # checked before anything is built from it (found by the fuzz suite)
        with pytest.raises(jl.InvalidArgumentError, match=r"argument n\. Expected an integer >= 1"):
            tiny_lm.generate("x", n=n)


@pytest.fixture(scope="module")
def zh_lm(tang_text):
    """A tiny character model of Tang verse, trained long enough to learn the shape of a couplet."""
    return jl.train(tang_text, size="tiny", seq_len=32, batch_size=32, epochs=1, steps_per_epoch=60,
                    learning_rate=0.01, progress=False, sample_tokens=0, seed=0)


def test_chinese_model_writes_chinese_verse(zh_lm, tang_text):
    from collections import Counter

    # It predicts held-out verse better than the characters' frequencies do (6.07 nats; uniform: 7.8).
    train, validation = tang_text[:27_000], tang_text[27_000:]
    counts = Counter(train)
    unigram = -sum(np.log(counts.get(ch, 0.5) / len(train)) for ch in validation) / len(validation)
    assert zh_lm.evaluate(validation)["loss"] < unigram - 0.3

    # What it writes looks like the corpus: lines of Han characters, a comma inside, a full stop at the end.
    samples = [zh_lm.generate("床前明月光，疑是地上霜。\n", max_tokens=100, seed=seed) for seed in range(3)]
    lines = [line for sample in samples for line in sample.split("\n")[:-1] if line]  # complete lines
    text = "".join(samples)
    assert len(lines) >= 6
    assert sum(line.endswith("。") for line in lines) >= 0.8 * len(lines)
    assert 10 <= np.mean([len(line) for line in lines]) <= 18  # couplets are 12 or 16 characters
    assert 0.1 <= sum(ch in "，。" for ch in text) / len(text) <= 0.22  # 0.15 in the corpus
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= 0.75 * len(text)
