"""Samplers over fake logits: no model needed."""

import numpy as np
import pytest

from jupyter_llm import InvalidArgumentError
from jupyter_llm.generation.sampling import (
    Sampler, SamplingOptions, apply_repetition_penalty, filter_top_k, filter_top_p, softmax,
)

LOGITS = np.log(np.array([[0.5, 0.25, 0.15, 0.1]]))


def draw(options, logits=LOGITS, n=4000, history=None):
    sampler = Sampler(options)
    batch = np.repeat(logits, n, axis=0)
    return sampler(batch, history or [np.array([], int)] * n)


def test_greedy_takes_the_argmax():
    out = draw(SamplingOptions(greedy=True), n=10)
    assert (out == 0).all()


def test_temperature_sampling_follows_the_distribution():
    counts = np.bincount(draw(SamplingOptions(seed=0)), minlength=4) / 4000
    assert np.allclose(counts, [0.5, 0.25, 0.15, 0.1], atol=0.03)
    cold = np.bincount(draw(SamplingOptions(temperature=0.2, seed=0)), minlength=4) / 4000
    assert cold[0] > 0.95


def test_top_k_and_top_p_restrict_the_support():
    assert set(draw(SamplingOptions(top_k=2, seed=1))) == {0, 1}
    # p=0.6: 0.5 alone is not enough, 0.5+0.25 crosses it -> tokens {0, 1}
    assert set(draw(SamplingOptions(top_p=0.6, seed=1))) == {0, 1}
    assert set(draw(SamplingOptions(top_p=0.5, seed=1))) == {0}
    assert np.isneginf(filter_top_k(LOGITS, 1)[0, 1:]).all()
    kept = np.isfinite(filter_top_p(LOGITS, 0.85))
    assert kept.tolist() == [[True, True, True, False]]


def test_repetition_penalty_lowers_seen_tokens():
    logits = np.array([[2.0, -1.0, 0.5]])
    out = apply_repetition_penalty(logits, [np.array([0, 1])], 2.0)
    assert out.tolist() == [[1.0, -2.0, 0.5]]
    probs = softmax(Sampler(SamplingOptions(repetition_penalty=3.0)).process(logits, [np.array([0])]))
    assert probs[0, 0] < softmax(logits)[0, 0]


def test_same_seed_same_tokens_and_banned_ids_never_drawn():
    a = draw(SamplingOptions(seed=7), n=50)
    b = draw(SamplingOptions(seed=7), n=50)
    assert (a == b).all()
    sampler = Sampler(SamplingOptions(seed=0), banned=[0])
    assert 0 not in sampler(np.repeat(LOGITS, 500, axis=0), [np.array([], int)] * 500)


@pytest.mark.parametrize("kwargs, match", [
    ({"temperature": 0}, "greedy=True"),
    ({"temperature": -1.0}, "greedy"),
    ({"top_p": 0.0}, r"top_p.*\(0, 1\]"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_k": 0}, "top_k"),
    ({"max_tokens": -1}, "max_tokens"),
    ({"n": 0}, "Received: n=0"),
    ({"repetition_penalty": 0}, "repetition_penalty"),
    ({"repetition_penalty": 1e-320}, r"repetition_penalty.*from 0.01 to 100"),
    ({"repetition_penalty": 1e6}, "repetition_penalty"),
    ({"stop": 5}, r"Received: stop=5"),
    ({"stop": b"\n"}, "stop"),
    ({"stop": [""]}, "stop"),
    ({"seed": -3}, "seed"),
    ({"beam": 2, "n": 3}, "beam=2"),
])
def test_bad_options_are_one_sentence(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match) as info:
        SamplingOptions(**kwargs)
    assert "Expected" in str(info.value) and "Received" in str(info.value)


@pytest.mark.parametrize("temperature", [1e-3, 1e-30, 1e-300, 5e-324])
def test_a_temperature_near_zero_tends_to_greedy_without_overflow(temperature):
    import warnings

    logits = np.array([[3.0, 100.0, -2.0, 99.0], [-1.0, -1.0 + 1e-9, -5.0, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow or invalid-value warnings
        probs = softmax(Sampler(SamplingOptions(temperature=temperature)).process(logits, [np.array([], int)] * 2))
        picks = Sampler(SamplingOptions(temperature=temperature, seed=0))(logits, [np.array([], int)] * 2)
    assert np.isfinite(probs).all() and np.allclose(probs.sum(axis=-1), 1.0)
    assert picks.tolist() == [1, 1]  # the largest logit of each row


def test_the_smallest_and_largest_repetition_penalties_stay_finite():
    logits = np.array([[2.0, -1.0, 0.5, 1.9]])
    for penalty in (0.01, 100.0):
        probs = softmax(Sampler(SamplingOptions(repetition_penalty=penalty)).process(logits, [np.array([0, 1])]))
        assert np.isfinite(probs).all() and np.isclose(probs.sum(), 1.0)
