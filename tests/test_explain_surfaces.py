"""See why (#15) on its surfaces: generate(explain=True), the explain mime bundle and its static HTML.

The magics' ``--explain``/``--check-copies`` are in tests/test_magics_generate.py, the
GeneratePanel's Explain view in tests/test_widgets_generate.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm.display.explain import MIME_TYPE, attention_share
from jupyter_llm.generation.generator import Trace
from jupyter_llm.generation.options import VIEWS
from jupyter_llm.model.copied import CopyIndex
from jupyter_llm.model.explain import explain_trace

PROMPT = "ROMEO:"
EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "' onmouseover='alert(1)", '"&']


def _logprobs(lm, text: str) -> np.ndarray:
    """The model's log-probabilities ``(T, V)`` at every position of ``text``, from a pass of its own."""
    logits = lm.logits(text).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# === generate(explain=True) ===

@pytest.fixture(scope="module")
def bundled():
    """The bundled Shakespeare model (read from the package; nothing is written)."""
    return jl.load("shakespeare", prepare=False)


@pytest.mark.parametrize("prompt", ["ROMEO:", "First Citizen:\n", ""])
def test_greedy_explanation_has_the_chosen_token_on_top_of_every_row(bundled, prompt):
    text, e = bundled.generate(prompt, max_tokens=120, greedy=True, explain=True)
    assert isinstance(e, jl.Explanation) and text == bundled.generate(prompt, max_tokens=120, greedy=True)
    p = max(len(prompt), 1)  # (an empty prompt starts after a newline)
    assert e.prompt_tokens == p and "".join(e.tokens[p:]) == text
    assert [row["index"] for row in e.rows] == list(range(p, p + 120))
    for row in e.rows:  # greedy took the most likely token: the model's own distribution says so
        assert row["alternatives"][0][0] == row["token"]
        assert row["prob"] == pytest.approx(row["alternatives"][0][1], rel=1e-12)
    assert e.summary["tokens"] == 120 and e.summary["chars"] == len(text)


def test_greedy_on_a_barely_trained_model_never_takes_the_unknown_token(tiny_lm):
    """The rows are the model's distribution, the unknown token included; generation never picks that one,
    so greedy's choice is the top alternative once it is set aside (this tiny model often ranks it first)."""
    text, e = tiny_lm.generate(PROMPT, max_tokens=40, greedy=True, explain=True)
    assert "".join(e.tokens) == PROMPT + text and "".join(row["token"] for row in e.rows) == text
    unknown = tiny_lm.tokenizer.decode([tiny_lm.tokenizer.unk_id])
    for row in e.rows:
        allowed = [token for token, _ in row["alternatives"] if token != unknown]
        assert allowed[0] == row["token"]


def test_row_probabilities_are_the_models_given_everything_before(tiny_lm):
    """Sampled at a low temperature with top-k: the rows still hold the model's own distribution."""
    text, e = tiny_lm.generate(PROMPT, max_tokens=60, temperature=0.5, top_k=5, seed=3, explain=True)
    logp = _logprobs(tiny_lm, PROMPT + text[:-1])  # position t predicts token t + 1
    ids = tiny_lm.tokenizer.encode(PROMPT + text)
    for row in e.rows:
        i = row["index"]
        assert row["id"] == ids[i]
        assert row["logprob"] == pytest.approx(logp[i - 1, ids[i]], abs=1e-4)
        probs = np.exp(logp[i - 1])
        assert row["entropy_bits"] == pytest.approx(-(probs * logp[i - 1]).sum() / np.log(2), abs=1e-3)
        split = row["gru_logit"] + row["attention_logit"] + row["bias"]
        assert split == pytest.approx(row["logit"], abs=1e-4)
        assert all(s["index"] < i for s in row["attention_sources"])


def test_samples_get_one_explanation_each_after_the_attention_map(tiny_lm):
    texts, amap, explanations = tiny_lm.generate(PROMPT, max_tokens=15, seed=2, n=3, return_attention=True,
                                                 explain=True)
    assert isinstance(amap, jl.AttentionMap) and len(explanations) == 3
    for text, e in zip(texts, explanations):
        assert "".join(e.tokens) == PROMPT + text
        assert len(e.rows) == 15


def test_a_stop_sequence_and_beam_search_explain_their_own_text(tiny_lm):
    stop = tiny_lm.generate(PROMPT, max_tokens=30, seed=4)[6:8]
    text, e = tiny_lm.generate(PROMPT, max_tokens=30, seed=4, stop=stop, explain=True)
    assert stop not in text and "".join(e.tokens) == PROMPT + text
    texts, explanations = tiny_lm.generate(PROMPT, max_tokens=12, beam=3, n=2, explain=True)
    assert ["".join(e.tokens) for e in explanations] == [PROMPT + t for t in texts]


def test_an_empty_prompt_starts_after_a_newline(tiny_lm):
    text, e = tiny_lm.generate("", max_tokens=10, seed=0, explain=True)
    assert e.prompt_tokens == 1 and e.tokens[0] == "\n" and "".join(e.tokens[1:]) == text


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_explain_is_checked_by_the_options_table_before_generating(tiny_lm, value, monkeypatch):
    monkeypatch.setattr(type(tiny_lm), "stream", lambda *a, **k: pytest.fail("generated before checking explain"))
    with pytest.raises(jl.InvalidArgumentError) as caught:
        tiny_lm.generate(PROMPT, explain=value)
    with pytest.raises(jl.InvalidArgumentError) as table:
        VIEWS["explain"].check(value)
    assert str(caught.value) == str(table.value)
    assert str(caught.value).startswith("Invalid value for argument explain. Expected True or False.")


def test_explain_trace_checks_its_arguments(tiny_lm):
    trace = Trace()
    tiny_lm.generate(PROMPT, max_tokens=5, seed=0, trace=trace)
    with pytest.raises(jl.InvalidArgumentError, match="argument row"):
        explain_trace(tiny_lm, trace, row=1)
    with pytest.raises(jl.InvalidArgumentError, match="argument trace"):
        explain_trace(tiny_lm, Trace())
    assert len(explain_trace(tiny_lm, trace, top_k=2).rows[0]["alternatives"]) == 2


# === The mime bundle ===

def test_the_bundle_carries_exactly_to_dict_with_prompt_tokens_and_copies(tiny_lm):
    text, e = tiny_lm.generate(PROMPT, max_tokens=20, seed=1, explain=True)
    bundle = e._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    assert MIME_TYPE == "application/vnd.jupyter-llm.explain+json"
    payload = json.loads(json.dumps(bundle[MIME_TYPE], allow_nan=False))
    assert payload == json.loads(json.dumps(e.to_dict()))
    assert payload["version"] == 1 and payload["kind"] == "explanation"
    assert payload["prompt_tokens"] == len(PROMPT) and payload["copies"] is None
    assert tiny_lm.explain(PROMPT + text).to_dict()["prompt_tokens"] is None  # a text, not a generation
    assert "tokens of the continuation" in bundle["text/plain"]
    assert f"{e.summary['bits_per_char']:.3f} bits per character" in bundle["text/plain"]


def test_saliency_has_a_bundle_too(tiny_lm):
    s = tiny_lm.saliency("First Citizen:\nBefore", method="gradient_x_input")
    bundle = s._repr_mimebundle_()
    assert bundle[MIME_TYPE] == s.to_dict() and bundle[MIME_TYPE]["kind"] == "saliency"
    assert "moved most by" in bundle["text/plain"] and "<script" not in bundle["text/html"]


def test_copied_spans_are_character_offsets_of_the_text(tiny_lm):
    from magics_support import copy_of

    lm = copy_of(tiny_lm)
    text, e = lm.generate(PROMPT, max_tokens=120, greedy=True, explain=True)
    filler = "x" * 33  # three whole blocks before the copied passage
    lm.copy_index = CopyIndex.build(filler + text + "y" * 40)
    spans = lm.copied(text)
    assert spans, "the generated text is in the index: it must be found"
    e.mark_copies(spans, offset=len(PROMPT))
    payload = e.to_dict()
    for copy, span in zip(payload["copies"], spans):
        assert set(copy) == {"start", "end", "source_offset"}
        assert e.text[copy["start"]:copy["end"]] == span.text  # offsets in "".join(tokens)
        assert copy["source_offset"] == len(filler) + span.start
    page = e._repr_mimebundle_()["text/html"]
    copied_tokens = sum(1 for row in e.rows
                        if any(c["start"] <= row["index"] < c["end"] for c in payload["copies"]))
    assert page.count("outline:1px dotted") == copied_tokens > 0
    assert "found verbatim in the training text" in page


# === The static HTML ===

def test_static_html_escapes_every_text_and_shows_tips_on_hover_and_focus(tiny_lm):
    text, e = tiny_lm.generate(PROMPT, max_tokens=12, seed=5, explain=True)
    for i, row in enumerate(e.rows):  # token pieces are model text: a word or BPE vocabulary may hold anything
        row["token"] = EVIL[i % 4]
        row["runner_up"] = EVIL[(i + 1) % 4]
        row["alternatives"] = [(EVIL[(i + 2) % 4], 0.5)]
        row["attention_sources"][0]["token"] = EVIL[(i + 3) % 4]
    e.tokens[0] = EVIL[0]
    e.meta["model"] = EVIL[1]
    e.summary["most_surprising"][0]["token"] = EVIL[1]
    e.copies = [{"start": 0, "end": 3, "source_offset": 7}]
    page = e._repr_mimebundle_()["text/html"]
    assert "<script" not in page and "<img" not in page and "' onmouseover" not in page
    assert "&lt;script&gt;" in page and "&#x27; onmouseover=&#x27;" in page
    # every row is a focusable token with its own tooltip, hidden until hover or focus (CSS only, no script)
    assert page.count("tabindex='0'") == len(e.rows)
    assert page.count("class='jl-tip'") == len(e.rows) == page.count("role='tooltip'")
    ids = re.findall(r"aria-describedby='([^']+)'", page)
    assert len(ids) == len(set(ids)) == len(e.rows) and all(f"id='{i}'" in page for i in ids)
    assert ".jl-tok:hover>.jl-tip,.jl-explain .jl-tok:focus>.jl-tip{display:block !important}" in page
    assert "alternatives: " in page and "<script>" not in page.replace("<style>", "")


def test_static_html_shows_summary_figures_and_each_tokens_attention_share(tiny_lm):
    _, e = tiny_lm.generate(PROMPT, max_tokens=25, seed=6, explain=True)
    page = e.to_html()
    s = e.summary
    assert f"{s['bits_per_char']:.3f}</b> bits per character" in page
    assert "Most surprising: " in page and f"({s['most_surprising'][0]['surprisal_bits']:.1f} bits)" in page
    shares = re.findall(r"border-bottom:3px solid rgba\(25,118,210,([0-9.]+)\)", page)
    assert [float(x) for x in shares] == [round(attention_share(r), 2) for r in e.rows]
    assert all(f"(attention {attention_share(r):.0%})" in page for r in e.rows)
    # the prompt is shown faded, without rows; the continuation carries the rows
    assert page.count("class='jl-ctx' style='opacity:.55'") == len(PROMPT)


def test_the_core_reaches_the_renderer_only_through_the_hook():
    from jupyter_llm import _hooks
    from jupyter_llm.display import explain as display_explain
    import jupyter_llm.model.explain as core

    assert _hooks.explain_renderer() is display_explain
    assert not any(name.endswith("_html") for name in vars(core))  # the static HTML left the core


def test_copies_bundle_escapes_the_text_and_its_marks():
    from jupyter_llm.display.explain import copies_bundle
    from jupyter_llm.model.copied import CopiedSpan

    text = EVIL[0] + " and " + EVIL[2] + EVIL[3]
    start = text.index(EVIL[2])
    spans = [CopiedSpan(start, len(text), text[start:], 1234)]
    bundle = copies_bundle(text, spans)
    page = bundle["text/html"]
    assert "<script" not in page and "' onmouseover" not in page and "&lt;script&gt;" in page
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", page) == ["&#x27; onmouseover=&#x27;alert(1)&quot;&amp;"]
    assert "characters " + f"{start}-{len(text)} (at 1,234 in the training text)" in bundle["text/plain"]
