"""The compiled decoding loop: sampling in the graph, chunks of steps, the same text however it is split."""

from __future__ import annotations

import numpy as np
import pytest

from jupyter_llm.generation import generator
from jupyter_llm.generation.sampling import Sampler, SamplingOptions

OPTION_SETS = [
    dict(),
    dict(temperature=0.7, top_k=5),
    dict(top_p=0.8, repetition_penalty=1.3),
    dict(temperature=1.4, top_k=20, top_p=0.95, repetition_penalty=0.8),
    dict(greedy=True, repetition_penalty=1.2),
    dict(n=3, top_k=10),
    dict(temperature=1e-300),
    dict(top_k=10_000, temperature=0.9),  # k beyond the vocabulary: no filter, nothing sorted
]


@pytest.fixture(autouse=True)
def with_xla(tiny_lm, monkeypatch):
    """This module tests the compiled loop as users run it: with XLA (the rest of the suite runs without)."""
    from jupyter_llm.generation.decoder import XLA_ENV

    monkeypatch.setenv(XLA_ENV, "1")
    monkeypatch.setattr(tiny_lm.decoder, "jit_compile", True)


def _ids(o):
    return ",".join(f"{k}={v}" for k, v in o.items()) or "defaults"


@pytest.mark.parametrize("options", OPTION_SETS, ids=_ids)
def test_graph_sampling_is_the_numpy_reference_rule(options):
    """Over random logits, the compiled rule keeps the same tokens, with the same logits, and draws the same ones."""
    import tensorflow as tf

    from jupyter_llm.generation.graph_sampling import Filters, Knobs, pick, process

    rng = np.random.default_rng(0)
    o = SamplingOptions(seed=0, **{k: v for k, v in options.items() if k != "n"})
    batch, vocab = 64, 40
    logits = (rng.normal(size=(batch, vocab)) * 3).astype(np.float32)
    history = [rng.integers(0, vocab, size=rng.integers(0, 12)) for _ in range(batch)]
    seen = np.zeros((batch, vocab), bool)
    for row, ids in enumerate(history):
        seen[row, ids] = True
    banned = np.zeros(vocab, bool)
    banned[3] = True

    reference = Sampler(o, banned=[3])
    expected = reference.process(logits, history)
    filters = Filters.of(o, vocab)
    assert filters.top_k == (o.top_k is not None and o.top_k < vocab and not o.greedy)
    got = process(tf.constant(logits), tf.constant(seen), tf.constant(banned), Knobs.of(o, vocab), filters).numpy()
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    assert np.allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-9)

    u = 1.0 - np.random.default_rng(5).random(batch)
    reference.rng = np.random.default_rng(5)  # the same draws as u
    assert np.array_equal(pick(tf.constant(got), tf.constant(u), filters).numpy(), reference(logits, history))
    assert not (pick(tf.constant(got), tf.constant(u), filters).numpy() == 3).any()  # <unk> is never drawn


class _FixedSizes:
    """A chunk schedule chosen by the test (cycled), instead of the adaptive one."""

    def __init__(self, sizes):
        self.sizes, self.i = sizes, 0

    def next(self, left):
        size = self.sizes[self.i % len(self.sizes)]
        self.i += 1
        return max(1, min(size, left))

    def took(self, steps, seconds):
        pass


@pytest.mark.parametrize("options", OPTION_SETS, ids=_ids)
def test_a_seed_gives_the_same_text_whatever_the_chunk_sizes(tiny_lm, monkeypatch, options):
    kwargs = dict(max_tokens=90, seed=7, stop=["\n\n\n"], **options)
    texts = []
    for sizes in ([1], [64], [3, 17, 5], [2, 64, 1, 9]):
        monkeypatch.setattr(generator, "ChunkSizes", lambda s=sizes: _FixedSizes(s))
        texts.append(tiny_lm.generate("KING:", **kwargs))
        pieces = list(tiny_lm.stream("KING:", **kwargs))
        n = kwargs.get("n", 1)
        texts.append(["".join(p[i] for p in pieces) for i in range(n)] if n > 1 else "".join(pieces))
    assert all(t == texts[0] for t in texts), texts
    assert texts[0]


def test_the_tokens_are_those_of_a_step_by_step_loop_with_the_numpy_sampler(tiny_lm):
    """The compiled loop feeds, carries and samples exactly as one-step calls and the numpy rule do."""
    from jupyter_llm.generation.generator import Trace

    options = SamplingOptions(max_tokens=150, seed=3, top_k=12, repetition_penalty=1.2, n=2)
    trace = Trace()
    tiny_lm.generate("To be", trace=trace, **options.to_dict())

    decoder, tok = tiny_lm.decoder, tiny_lm.tokenizer
    prompt = tok.encode("To be")
    logits, state, _ = decoder.prefill(prompt[None, :])
    logits, state = np.repeat(logits, 2, axis=0), state.select(np.zeros(2, np.int32))
    sampler = Sampler(options, banned=[tok.unk_id])
    history = [list(prompt), list(prompt)]
    for _ in range(150):
        tokens = sampler(logits, [np.asarray(h) for h in history])
        for h, t in zip(history, tokens):
            h.append(int(t))
        logits, state, _ = decoder.step(tokens, state)
    assert [h[len(prompt):] for h in history] == trace.token_ids


def test_recording_attention_changes_nothing_in_the_text(tiny_lm):
    plain = tiny_lm.generate("Hark", max_tokens=70, seed=4, top_p=0.9)
    text, amap = tiny_lm.generate("Hark", max_tokens=70, seed=4, top_p=0.9, return_attention=True)
    assert text == plain
    assert len(amap) == len("Hark") + 70
    rows = amap.weights[len("Hark"):]
    assert np.allclose(rows.sum(axis=1), 1.0, atol=1e-4)  # every generated token's weights are a distribution


def test_without_xla_the_loop_gives_the_same_text(tiny_lm, monkeypatch):
    from jupyter_llm.generation.decoder import Decoder
    from jupyter_llm.generation.graph_sampling import Filters

    assert tiny_lm.decoder.jit_compile
    with_xla = tiny_lm.generate("Hark", max_tokens=60, seed=9, top_k=8)
    assert ("loop", Filters.of(SamplingOptions(top_k=8), tiny_lm.config.vocab_size), False, True) \
        in tiny_lm.decoder._functions  # (what, filters, record, jit): that text came from the XLA loop
    monkeypatch.setenv("JUPYTER_LLM_XLA", "0")
    plain = Decoder(tiny_lm.model, tiny_lm.config)
    assert not plain.jit_compile
    monkeypatch.setattr(tiny_lm, "_decoder", plain)
    assert tiny_lm.generate("Hark", max_tokens=60, seed=9, top_k=8) == with_xla


def test_chunks_start_short_and_grow_while_fast():
    sizes = generator.ChunkSizes(first=4, budget=0.05)
    seen = []
    for _ in range(6):
        steps = sizes.next(1000)
        seen.append(steps)
        sizes.took(steps, 0.001)
    assert seen == [4, 16, 64, 64, 64, 64]  # four times longer while a call takes under a quarter of the budget
    sizes.took(64, 0.2)  # a slow call: the next one is shorter
    assert sizes.next(1000) == 32
    assert sizes.next(5) == 5
    sizes.took(32, 0.02)  # under half the budget, over a quarter: twice as long
    assert sizes.next(1000) == 64
    sizes = generator.ChunkSizes(budget=0.05)
    sizes.took(sizes.next(1000), 0.02)
    assert sizes.next(1000) == 8  # four steps first, then twice as many


@pytest.mark.parametrize("length", [1, 31, 32, 33, 64, 65, 150])
def test_priming_block_by_block_is_the_whole_prompt_pass(tiny_lm, length):
    """prime (BLOCK tokens a call, compiled once) leaves the same logits, states and ring as prefill."""
    rng = np.random.default_rng(length)
    ids = rng.integers(1, tiny_lm.config.vocab_size, size=(2, length)).astype(np.int32)
    logits, state, _ = tiny_lm.decoder.prefill(ids)
    primed, pstate = tiny_lm.decoder.prime(ids)
    assert pstate.position == state.position == length
    assert np.allclose(primed.numpy(), logits, atol=1e-4)
    for a, b in zip(pstate.states, state.states):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-5)
    assert np.allclose(pstate.keys.numpy(), state.keys.numpy(), atol=1e-5)  # the window is 32: the ring wraps
    assert np.allclose(pstate.values.numpy(), state.values.numpy(), atol=1e-5)


@pytest.mark.parametrize("length", [3, 64, 100])
def test_priming_two_stacked_grus_is_the_keras_layers_pass(length):
    """prime's own recurrence (inputs projected once per block) is Keras's GRU, layer after layer."""
    from jupyter_llm.config import ModelConfig
    from jupyter_llm.generation.decoder import Decoder
    from jupyter_llm.model.backbone import build_model

    config = ModelConfig.from_size("tiny", vocab_size=30, num_layers=2, seq_len=40)
    model = build_model(config)
    decoder = Decoder(model, config)
    ids = np.random.default_rng(length).integers(1, 30, size=(3, length)).astype(np.int32)
    logits, state, _ = decoder.prefill(ids)  # the Keras layers themselves
    primed, pstate = decoder.prime(ids)
    assert np.allclose(primed.numpy(), logits, atol=1e-5)
    for a, b in zip(pstate.states, state.states):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-5)
    assert np.allclose(pstate.values.numpy(), state.values.numpy(), atol=1e-5)


def test_loading_a_model_prepares_its_generation_off_the_callers_thread(tiny_lm, tmp_path, monkeypatch):
    import threading

    import jupyter_llm as jl
    from jupyter_llm.model.language_model import LanguageModel

    folder = tiny_lm.save(tmp_path / "m")
    calls = []
    done = threading.Event()

    def prepare(self):
        calls.append(threading.current_thread().name)
        done.set()
        return self

    monkeypatch.setattr(LanguageModel, "prepare", prepare)
    monkeypatch.setenv("JUPYTER_LLM_WARM_UP", "1")
    jl.load(folder)
    assert done.wait(60) and calls == ["jupyter_llm-prepare"]
    jl.load(folder, prepare=False)
    monkeypatch.setenv("JUPYTER_LLM_WARM_UP", "0")  # what the test suite and CI shells may set
    jl.load(folder)
    done.clear()
    jl.load(folder, prepare=True)
    assert done.wait(60) and calls == ["jupyter_llm-prepare"] * 2
    with pytest.raises(jl.InvalidArgumentError, match=r"Expected True, False or None. Received: prepare='yes'"):
        jl.load(folder, prepare="yes")


def test_the_first_text_comes_from_the_prompt_pass_before_any_call_of_the_loop(tiny_lm, monkeypatch):
    """The first token is drawn from the prompt's logits at once; the loop feeds it in its first call."""
    from jupyter_llm.generation.decoder import Decoder

    calls = []
    real_run = Decoder.run

    def counted(self, run, steps):
        calls.append(steps)
        return real_run(self, run, steps)

    monkeypatch.setattr(Decoder, "run", counted)
    stream = tiny_lm.stream("To be", max_tokens=30, seed=4, top_p=0.9)
    first = next(stream)
    assert first and calls == []
    rest = "".join(stream)
    assert calls and first + rest == tiny_lm.generate("To be", max_tokens=30, seed=4, top_p=0.9)
    calls.clear()
    assert len(tiny_lm.generate("To be", max_tokens=1, seed=4)) >= 1 and calls == []  # one token: no loop at all


def test_a_one_token_generation_still_records_that_tokens_attention(tiny_lm):
    from jupyter_llm.generation.generator import Trace

    trace = Trace(record_attention=True)
    tiny_lm.generate("Hark", max_tokens=1, seed=2, trace=trace)
    assert len(trace.token_ids[0]) == 1 and len(trace.step_weights[0]) == 1
    full = tiny_lm.trace_attention(trace)
    recomputed = tiny_lm.decoder.prefill(np.asarray([list(trace.prompt_ids) + trace.token_ids[0]], np.int32))[2][0]
    assert np.allclose(full.weights, recomputed, atol=1e-5)


def test_prepare_returns_with_plain_graphs_and_compiles_with_xla_behind_the_first_generation(tiny_lm, monkeypatch):
    """A generation right after prepare() runs the plain graphs; once XLA has compiled, the same text from XLA."""
    import threading
    import time

    from jupyter_llm.generation.decoder import Decoder
    from jupyter_llm.generation.graph_sampling import Filters

    fresh = Decoder(tiny_lm.model, tiny_lm.config)
    monkeypatch.setattr(tiny_lm, "_decoder", fresh)
    gate = threading.Event()
    compile_with_xla = fresh._compile
    monkeypatch.setattr(fresh, "_compile", lambda: (gate.wait(60), compile_with_xla()))
    fresh.prepare()
    loop = ("loop", Filters.of(SamplingOptions(), tiny_lm.config.vocab_size), False)
    assert fresh._compiling and not fresh.use_xla(loop) and not fresh.use_xla(("prime",))
    plain = tiny_lm.generate("Hark", max_tokens=40, seed=3)
    assert (*loop, False) in fresh._functions and (*loop, True) not in fresh._functions
    gate.set()
    deadline = time.monotonic() + 120
    while fresh._compiling and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fresh.use_xla(loop) and fresh.use_xla(("prime",))
    assert tiny_lm.generate("Hark", max_tokens=40, seed=3) == plain
    assert loop in fresh._xla_ready


def test_prepare_wait_returns_once_xla_has_compiled_and_a_second_call_waits_too(tiny_lm, monkeypatch):
    from jupyter_llm.generation.decoder import Decoder
    from jupyter_llm.generation.graph_sampling import Filters

    fresh = Decoder(tiny_lm.model, tiny_lm.config)
    monkeypatch.setattr(tiny_lm, "_decoder", fresh)
    tiny_lm.prepare()  # the plain graphs; XLA behind
    tiny_lm.prepare(wait=True)  # waits for that compilation, without starting another
    loop = ("loop", Filters.of(SamplingOptions(), tiny_lm.config.vocab_size), False)
    assert not fresh._compiling and loop in fresh._xla_ready and ("prime",) in fresh._xla_ready
