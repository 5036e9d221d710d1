"""lm.explain and lm.saliency (#15 points 1-3): the figures add up to the model's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm.model.explain import explain

HELDOUT = Path(__file__).parent / "data" / "shakespeare_heldout.txt"


@pytest.fixture(scope="module")
def heldout() -> str:
    return HELDOUT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bundled():
    """The bundled Shakespeare model (read from the package; nothing is written)."""
    return jl.load("shakespeare", prepare=False)


@pytest.fixture(scope="module")
def bundled_explanation(bundled, heldout):
    return bundled.explain(heldout[:2000])


# === Point 1: probabilities and alternatives ===

def test_explain_adds_up_to_evaluate_on_2000_held_out_characters(bundled, bundled_explanation, heldout):
    result = bundled.evaluate(heldout[:2000])
    total = sum(row["logprob"] for row in bundled_explanation.rows)
    expected = -result["loss"] * result["tokens"]
    assert len(bundled_explanation.rows) == result["tokens"]
    assert abs(total - expected) <= 1e-4 * abs(expected)
    assert bundled_explanation.summary["bits_per_char"] == pytest.approx(result["bits_per_char"], rel=1e-4)


def test_every_rows_alternatives_are_sorted_and_at_most_one(bundled_explanation):
    for row in bundled_explanation.rows:
        probs = [p for _, p in row["alternatives"]]
        assert len(probs) == 5
        assert probs == sorted(probs, reverse=True)
        assert sum(probs) <= 1 + 1e-9
        assert row["prob"] <= probs[0] + 1e-12
        assert row["surprisal_bits"] == pytest.approx(-np.log2(row["prob"]), rel=1e-9)
        assert 0 <= row["entropy_bits"] <= np.log2(66) + 1e-9


def test_rows_follow_the_text_across_windows(tiny_lm, heldout):
    text = heldout[:150]  # seq_len 32: five windows
    e = tiny_lm.explain(text, top_k=3)
    assert "".join(e.tokens) == text
    assert [row["index"] for row in e.rows] == list(range(1, len(text)))
    assert [row["token"] for row in e.rows] == list(text[1:])
    # inside the first window the model reads the text from its start, as lm.logits does
    logits = tiny_lm.logits(text[:33])
    ids = tiny_lm.tokenizer.encode(text[:33])
    for j, row in enumerate(e.rows[:32]):
        assert row["logit"] == pytest.approx(float(logits[j, ids[j + 1]]), abs=1e-4)
    assert e.summary["most_surprising"][0]["surprisal_bits"] == max(r["surprisal_bits"] for r in e.rows)


def test_to_frame_and_to_dict(tiny_lm):
    e = tiny_lm.explain("First Citizen:\nBefore we proceed", top_k=2)
    frame = e.to_frame()
    assert len(frame) == len(e.rows)
    assert {"token", "prob", "surprisal_bits", "entropy_bits", "alternatives", "gru_logit",
            "attention_logit", "bias", "attention_sources"} <= set(frame.columns)
    payload = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert payload["version"] == 1 and payload["kind"] == "explanation"
    assert payload["rows"][0]["alternatives"][0][0] == e.rows[0]["alternatives"][0][0]
    assert payload["summary"]["tokens"] == len(e.rows)


def test_html_escapes_every_text_and_every_token_is_focusable(tiny_lm):
    e = tiny_lm.explain("First Citizen:\nBefore we proceed")
    evil = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "' onmouseover='alert(1)", '"&']
    for i, row in enumerate(e.rows):  # token pieces are model text: a word or BPE vocabulary may hold anything
        row["token"] = evil[i % 4]
        row["runner_up"] = evil[(i + 1) % 4]
        row["alternatives"] = [(evil[(i + 2) % 4], 0.5)]
    e.tokens[0] = evil[0]
    e.summary["most_surprising"][0]["token"] = evil[1]
    page = e._repr_html_()
    assert "<script" not in page and "<img" not in page and "' onmouseover" not in page
    assert "&lt;script&gt;" in page and "&#x27; onmouseover=&#x27;" in page and "&quot;&amp;" in page
    assert page.count("tabindex='0'") == len(e.rows)
    assert page.count("class='jl-tip'") == len(e.rows)  # the alternatives, shown on hover and on focus


# === Point 2: the logit split ===

def test_logit_split_adds_up_on_the_bundled_model(bundled_explanation):
    rows = bundled_explanation.rows
    worst = max(abs(r["gru_logit"] + r["attention_logit"] + r["bias"] - r["logit"]) for r in rows)
    assert worst <= 1e-4
    worst_margin = max(abs(r["gru_margin"] + r["attention_margin"] + r["bias_margin"] - r["margin"]) for r in rows)
    assert worst_margin <= 1e-4
    assert all(r["runner_up"] != r["token"] for r in rows)


def test_attention_sources_add_up_to_the_attention_part(tiny_lm, heldout):
    e = explain(tiny_lm, heldout[:80], top_sources=10_000)
    for row in e.rows:
        sources = row["attention_sources"]
        assert sum(s["contribution"] for s in sources) == pytest.approx(row["attention_logit"], abs=1e-4)
        assert sum(s["weight"] for s in sources) == pytest.approx(1.0, abs=1e-5)
        assert all(s["index"] < row["index"] for s in sources)
    short = tiny_lm.explain(heldout[:80]).rows[-1]["attention_sources"]
    sizes = [abs(s["contribution"]) for s in short]
    assert len(short) == 5 and sizes == sorted(sizes, reverse=True)


# === Point 3: saliency ===

def test_integrated_gradients_are_complete(tiny_lm, heldout):
    s = tiny_lm.saliency(heldout[:60], position=-1, method="integrated_gradients", steps=64)
    change = s.logprob - s.baseline_logprob
    assert abs(s.attributions.sum() - change) <= 0.05 * abs(change)
    assert s.attributions.shape == (59,) and s.attention.shape == (59,)
    assert s.attention.sum() == pytest.approx(1.0, abs=1e-5)
    assert s.logprob == pytest.approx(float(np.log(_prob(tiny_lm, heldout[:60]))), abs=1e-4)


def test_gradient_x_input_and_its_payload(tiny_lm, heldout):
    s = tiny_lm.saliency(heldout[:40], position=10, method="gradient_x_input")
    assert s.attributions.shape == (10,) and s.steps is None
    payload = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert payload["version"] == 1 and payload["kind"] == "saliency" and payload["position"] == 10
    assert "jl-tok" in s._repr_html_()


def _prob(lm, text):
    logits = lm.logits(text[:-1])[-1].astype(np.float64)
    p = np.exp(logits - logits.max())
    return p[lm.tokenizer.encode(text[-1])[0]] / p.sum()


# === Bad input: one sentence ===

@pytest.mark.parametrize("call, argument", [
    (lambda lm: lm.explain(""), "text"),
    (lambda lm: lm.explain("F"), "text"),
    (lambda lm: lm.explain(3), "text"),
    (lambda lm: lm.explain("First", top_k=0), "top_k"),
    (lambda lm: lm.explain("First", top_k=True), "top_k"),
    (lambda lm: lm.explain("First", top_k=10_000), "top_k"),
    (lambda lm: lm.saliency("First", position=5), "position"),
    (lambda lm: lm.saliency("First", position=0), "position"),
    (lambda lm: lm.saliency("First", position=-5), "position"),
    (lambda lm: lm.saliency("First", method="attention"), "method"),
    (lambda lm: lm.saliency("First", steps=0), "steps"),
])
def test_bad_input_is_one_clear_sentence(tiny_lm, call, argument):
    with pytest.raises(jl.InvalidArgumentError, match=f"^Invalid value for argument {argument}. Expected"):
        call(tiny_lm)


def test_importing_explain_imports_no_tensorflow():
    code = ("import sys, jupyter_llm as jl, jupyter_llm.model.explain; jl.Explanation; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_traced_functions_do_not_keep_a_model_alive():
    import gc
    import weakref

    from jupyter_llm.model import explain as module

    lm = jl.build_model("hello world, hello there", size="tiny")
    lm.explain("hello world")
    lm.saliency("hello world", steps=2)
    assert lm in module._FUNCTIONS
    gone = weakref.ref(lm)
    del lm
    gc.collect()
    assert gone() is None
