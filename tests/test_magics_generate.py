"""%%generate and %generate through a real IPython shell, with the session's tiny model."""

from __future__ import annotations

import hashlib
import html
import re

import numpy as np
import pytest
from magics_support import copy_of, error_of, ip, outputs, provenance_of, published, run, settings, shell  # noqa: F401

PROMPT = "ROMEO:"


@pytest.fixture
def lm(ip, tiny_lm):
    """The tiny model as the variable ``lm`` of the user namespace."""
    ip.user_ns["lm"] = tiny_lm
    return tiny_lm


@pytest.fixture
def saved(jl_home, tiny_lm):
    """The tiny model saved in this test's store as ``tiny``."""
    model = copy_of(tiny_lm)
    model.save("tiny")
    return model


def last_text(ip) -> str:
    return outputs(ip)[-1]["data"]["text/plain"]


# === The cell and line forms ===

def test_cell_form_streams_in_place_and_matches_the_api(ip, lm):
    result = run(ip, f"%%generate -m lm -n 40 --seed 1\n{PROMPT}")
    assert result.error_in_exec is None
    first, *updates = published(ip)
    display_id = first["transient"]["display_id"]
    assert updates and all(u["update"] and u["transient"]["display_id"] == display_id for u in updates)
    assert len(outputs(ip)) == 1  # one output, updated in place
    assert last_text(ip) == lm.generate(PROMPT, max_tokens=40, seed=1)


def test_every_output_carries_provenance(ip, lm):
    run(ip, f"%%generate -m lm -n 10 --seed 3 -t 0.7\n{PROMPT}")
    meta = provenance_of(outputs(ip)[-1])
    assert meta["kind"] == "generation"
    assert meta["model"] == "lm" and meta["origin"] == "variable"
    assert meta["fingerprint"] == lm.fingerprint
    assert meta["options"]["max_tokens"] == 10 and meta["options"]["seed"] == 3
    assert meta["options"]["temperature"] == 0.7
    assert meta["prompt_tokens"] == len(PROMPT)
    assert meta["prompt_sha256"] == hashlib.sha256(PROMPT.encode()).hexdigest()[:16]
    assert meta["interrupted"] is False
    assert all("jupyter_llm" in out["metadata"] for out in published(ip))


def test_line_form_keeps_the_prompt_exactly(ip, lm):
    prompt = """It's a "fine" day,"""
    result = run(ip, f"%generate -m lm -n 5 --seed 0 {prompt}")
    assert result.error_in_exec is None
    meta = provenance_of(outputs(ip)[-1])
    assert meta["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()[:16]
    run(ip, "%generate -m lm -n 5 --seed 0 'To be, or not'")  # a quoted prompt loses its quotes
    assert provenance_of(outputs(ip)[-1])["prompt_tokens"] == len("To be, or not")
    run(ip, "%generate -m lm -n 5 -- -n is part of this prompt")
    assert provenance_of(outputs(ip)[-1])["prompt_tokens"] == len("-n is part of this prompt")


def test_sampling_options_reach_the_model(ip, lm):
    cell = f"%%generate -m lm -n 30 -t 0.8 --top-k 5 --top-p 0.9 --repetition-penalty 1.3 --seed 4\n{PROMPT}"
    run(ip, cell)
    expected = lm.generate(PROMPT, max_tokens=30, temperature=0.8, top_k=5, top_p=0.9,
                           repetition_penalty=1.3, seed=4)
    assert last_text(ip) == expected
    options = provenance_of(outputs(ip)[-1])["options"]
    assert (options["top_k"], options["top_p"], options["repetition_penalty"]) == (5, 0.9, 1.3)


def test_stop_is_repeatable_and_understands_escapes(ip, lm):
    run(ip, f"%%generate -m lm -n 80 --seed 2 --stop '\\n' --stop e\n{PROMPT}")
    text = last_text(ip)
    assert "\n" not in text and "e" not in text
    assert text == lm.generate(PROMPT, max_tokens=80, seed=2, stop=["\n", "e"])
    assert provenance_of(outputs(ip)[-1])["options"]["stop"] == ["\n", "e"]


def test_beam_and_greedy(ip, lm):
    run(ip, f"%%generate -m lm -n 15 --beam 3\n{PROMPT}")
    assert last_text(ip) == lm.generate(PROMPT, max_tokens=15, beam=3)
    run(ip, f"%%generate -m lm -n 15 --greedy\n{PROMPT}")
    # (shown without a blank first line)
    assert last_text(ip) == lm.generate(PROMPT, max_tokens=15, greedy=True).lstrip("\n")
    assert provenance_of(outputs(ip)[-1])["options"]["greedy"] is True


@pytest.mark.filterwarnings("ignore::UserWarning")  # '<' and '>' are unknown symbols to this model
def test_samples_side_by_side_escaped_and_stored_as_a_list(ip, lm):
    prompt = "<b>ROMEO</b>:"
    run(ip, f"%%generate -m lm -n 12 --seed 5 --samples 3 --echo -o texts\n{prompt}")
    texts = ip.user_ns["texts"]
    assert isinstance(texts, list) and len(texts) == 3
    assert all(t.startswith(prompt) for t in texts)
    data = outputs(ip)[-1]["data"]
    assert data["text/plain"].startswith("[1] " + prompt)
    assert "[3] " in data["text/plain"]
    assert "<b>" not in data["text/html"] and "&lt;b&gt;ROMEO&lt;/b&gt;" in data["text/html"]
    assert data["text/html"].count("<pre") == 3
    expected = lm.generate(prompt, max_tokens=12, seed=5, n=3)
    assert texts == [prompt + t for t in expected]


def test_formats_markdown_and_code(ip, lm):
    run(ip, f"%%generate -m lm -n 10 --seed 0 -f markdown\n{PROMPT}")
    data = outputs(ip)[-1]["data"]
    assert data["text/markdown"] == data["text/plain"]
    assert ip.rl_next_input is None

    run(ip, "%%generate -m lm -n 10 --seed 0 -f code --echo\ndef f(x):")
    data = outputs(ip)[-1]["data"]
    code = data["text/plain"]
    assert code.startswith("def f(x):")
    assert data["text/markdown"].startswith("```python\n") and code in data["text/markdown"]
    assert ip.rl_next_input == code  # the new cell below


def test_insert_and_out(ip, lm):
    run(ip, f"%%generate -m lm -n 10 --seed 0 --insert -o reply\n{PROMPT}")
    assert ip.user_ns["reply"] == last_text(ip) == ip.rl_next_input
    assert ip.user_ns["reply"] == lm.generate(PROMPT, max_tokens=10, seed=0)


def test_attention_shows_a_bundle_for_every_front_end(ip, lm):
    run(ip, f"%%generate -m lm -n 8 --seed 0 --attention\n{PROMPT}")
    text_out, attention_out = outputs(ip)
    data = attention_out["data"]
    assert set(data) == {"application/vnd.jupyter-llm.attention+json", "text/html", "text/plain"}
    payload = data["application/vnd.jupyter-llm.attention+json"]
    generated = text_out["data"]["text/plain"]
    assert "".join(payload["tokens"]) == PROMPT + generated
    assert payload["prompt_length"] == len(PROMPT)
    assert payload["meta"]["fingerprint"] == lm.fingerprint
    assert "<script" not in data["text/html"]
    meta = provenance_of(attention_out)
    assert meta["kind"] == "attention" and meta["options"]["max_tokens"] == 8


def test_attention_comes_from_the_generation_not_a_second_pass(ip, lm, monkeypatch):
    """--attention reads the ids and weights the generation recorded: the text is never encoded again."""
    encoded, passes = [], []
    real_encode, real_prefill = lm.tokenizer.encode, lm.decoder.prefill
    monkeypatch.setattr(lm.tokenizer, "encode", lambda text, *a, **k: encoded.append(text) or real_encode(text, *a, **k))
    monkeypatch.setattr(lm.decoder, "prefill", lambda ids, *a, **k: passes.append(ids.shape) or real_prefill(ids, *a, **k))
    stop = lm.generate(PROMPT, max_tokens=30, seed=3)[5:7]  # a stop sequence the generation will meet
    encoded.clear(), passes.clear()
    run(ip, f"%%generate -m lm -n 30 --seed 3 --attention --stop '{stop}'\n{PROMPT}")
    text_out, attention_out = outputs(ip)
    generated = text_out["data"]["text/plain"]
    payload = attention_out["data"]["application/vnd.jupyter-llm.attention+json"]
    assert stop not in generated and "".join(payload["tokens"]) == PROMPT + generated  # the stop's tokens cut
    assert encoded and set(encoded) == {PROMPT} and len(passes) == 1  # only the prompt is encoded; one pass
    weights = np.asarray(payload["layers"][0]["weights"])  # what a second pass over the text would give
    np.testing.assert_allclose(weights, lm.attention(PROMPT + generated).weights, atol=1e-3)


def test_no_stream_shows_once(ip, lm):
    run(ip, f"%%generate -m lm -n 20 --seed 0 --no-stream\n{PROMPT}")
    (out,) = published(ip)
    assert not out["update"] and not (out["transient"] or {}).get("display_id")
    assert out["data"]["text/plain"] == lm.generate(PROMPT, max_tokens=20, seed=0)
    assert provenance_of(out)["options"]["stream"] is False


def test_a_terminal_gets_the_text_printed_as_it_comes(ip, lm, capsys):
    from IPython.core.displaypub import DisplayPublisher

    ip.display_pub = DisplayPublisher(shell=ip)  # terminal IPython prints every display
    run(ip, f"%%generate -m lm -n 30 --seed 0 --echo\n{PROMPT}")
    assert capsys.readouterr().out == PROMPT + lm.generate(PROMPT, max_tokens=30, seed=0) + "\n"


def test_updates_are_throttled(ip, lm):
    settings(ip).stream_interval = 60.0
    run(ip, f"%%generate -m lm -n 50 --seed 0\n{PROMPT}")
    assert len(published(ip)) == 2  # the first display and the final update


def test_configured_defaults(ip, lm):
    run(ip, "%config JupyterLLM.max_tokens = 7")
    run(ip, "%config JupyterLLM.temperature = 0.5")
    run(ip, "%config JupyterLLM.stream = False")
    run(ip, f"%%generate -m lm --seed 0\n{PROMPT}")
    (out,) = published(ip)
    assert out["data"]["text/plain"] == lm.generate(PROMPT, max_tokens=7, temperature=0.5, seed=0)
    assert provenance_of(out)["options"]["max_tokens"] == 7


def test_interrupt_keeps_the_partial_text(ip, tiny_lm, capsys):
    model = copy_of(tiny_lm)
    real_stream = model.stream

    def interrupted_stream(*args, **kwargs):
        pieces = real_stream(*args, **kwargs)
        for i, piece in enumerate(pieces):
            if i == 5:
                raise KeyboardInterrupt
            yield piece

    model.stream = interrupted_stream
    ip.user_ns["lm"] = model
    result = run(ip, f"%%generate -m lm -n 100 --seed 0 -o partial\n{PROMPT}")
    assert result.error_in_exec is None  # an interrupt is not an error: the text so far is the result
    partial = ip.user_ns["partial"]
    assert partial and partial == tiny_lm.generate(PROMPT, max_tokens=100, seed=0)[: len(partial)]
    assert len(partial) < 100
    assert last_text(ip) == partial
    assert provenance_of(outputs(ip)[-1])["interrupted"] is True
    assert "interrupted" in capsys.readouterr().out


def _continued_on_a_new_line(tiny_lm):
    """A copy of the tiny model whose every text starts with a newline (as a play's does after ``ROMEO:``)."""
    model = copy_of(tiny_lm)
    real_stream = model.stream

    def stream(*args, **kwargs):
        n = kwargs.get("n", 1)
        yield "\n" if n == 1 else ["\n"] * n
        for piece in real_stream(*args, **kwargs):
            yield piece if n == 1 else list(piece)

    model.stream = stream
    return model


def test_the_output_does_not_start_with_a_blank_line(ip, tiny_lm, capsys):
    """#14 point 8: the text after ``ROMEO:`` began with its newline, an empty first line under the cell."""
    ip.user_ns["lm"] = _continued_on_a_new_line(tiny_lm)
    expected = tiny_lm.generate(PROMPT, max_tokens=20, seed=0)
    run(ip, f"%%generate -m lm -n 20 --seed 0 -o kept\n{PROMPT}")
    assert last_text(ip) == expected.lstrip("\n") and last_text(ip)[:1] != "\n"
    assert ip.user_ns["kept"] == "\n" + expected  # the variable keeps the text exactly
    run(ip, f"%%generate -m lm -n 20 --seed 0 --echo\n{PROMPT}")
    assert last_text(ip) == PROMPT + "\n" + expected  # with the prompt, the newline belongs
    run(ip, f"%%generate -m lm -n 12 --seed 5 --samples 2\n{PROMPT}")
    assert outputs(ip)[-1]["data"]["text/plain"].startswith("[1] " + tiny_lm.generate(PROMPT, max_tokens=12, seed=5,
                                                                                       n=2)[0].lstrip("\n"))
    from IPython.core.displaypub import DisplayPublisher

    capsys.readouterr()
    ip.display_pub = DisplayPublisher(shell=ip)  # a terminal: the text is printed as it comes
    run(ip, f"%%generate -m lm -n 20 --seed 0\n{PROMPT}")
    assert capsys.readouterr().out == expected.lstrip("\n") + "\n"


def test_samples_are_boxes_of_one_height(ip, lm):
    """#14 point 8: each sample's box filled only its own text; now each column stretches its box to the row."""
    run(ip, f"%%generate -m lm -n 12 --seed 5 --samples 3\n{PROMPT}")
    markup = outputs(ip)[-1]["data"]["text/html"]
    assert markup.count('display:flex;flex-direction:column">') == 3 and markup.count('<pre style="flex:1;') == 3


# === The default model ===

def test_default_model_from_config_and_use(ip, saved):
    run(ip, "%config JupyterLLM.default_model = 'tiny'")
    assert run(ip, f"%%generate -n 5 --seed 0\n{PROMPT}").error_in_exec is None
    meta = provenance_of(outputs(ip)[-1])
    assert meta["model"] == "tiny" and meta["origin"] == "saved"
    assert meta["fingerprint"] == saved.fingerprint


def test_the_bundled_default_when_nothing_is_chosen(ip, tiny_lm, saved):
    from jupyter_llm import store

    copy_of(tiny_lm).save(store.bundled_dir() / "shakespeare")
    assert run(ip, f"%%generate -n 5 --seed 0\n{PROMPT}").error_in_exec is None
    meta = provenance_of(outputs(ip)[-1])
    assert (meta["model"], meta["origin"]) == ("shakespeare", "bundled")
    run(ip, "%generate -m shakespeare -n 3 hi")  # and by name
    assert provenance_of(outputs(ip)[-1])["origin"] == "bundled"
    run(ip, "%llm use tiny")
    run(ip, "%generate -n 3 hi")
    assert provenance_of(outputs(ip)[-1])["model"] == "tiny"


def test_a_default_model_that_is_gone(ip, saved):
    run(ip, "%config JupyterLLM.default_model = 'gone'")
    message = error_of(ip, f"%%generate\n{PROMPT}")
    assert message.startswith("The default model (JupyterLLM.default_model = 'gone') cannot be used: there is no")
    assert "'tiny'" in message


def test_store_models_are_loaded_once(ip, saved, monkeypatch):
    from jupyter_llm.model.language_model import LanguageModel

    loads = []
    real_load = LanguageModel.load.__func__
    monkeypatch.setattr(LanguageModel, "load", classmethod(lambda cls, p, prefer="bundled", **kw: loads.append(p)
                                                           or real_load(cls, p, prefer, **kw)))
    for _ in range(3):
        run(ip, f"%%generate -m tiny -n 3\n{PROMPT}")
    assert len(loads) == 1


def test_model_given_as_a_path(ip, tiny_lm, tmp_path):
    folder = tmp_path / "models" / "mine"
    copy_of(tiny_lm).save(folder)
    assert run(ip, f"%generate -m {folder} -n 3 {PROMPT}").error_in_exec is None
    assert provenance_of(outputs(ip)[-1])["origin"] == "folder"


# === Templates ===

def test_template_fills_in_names_and_cells(ip, lm):
    ip.user_ns["who"] = "JULIET"
    run(ip, "'a fair night'")  # a cell with an output
    n = ip.execution_count - 1
    run(ip, f"%%generate -m lm -n 3 --seed 0 -o out\n{{who}} said {{Out[{n}]}} after {{In[{n}]}} {{{{ok}}}}")
    meta = provenance_of(outputs(ip)[-1])
    expected = "JULIET said a fair night after 'a fair night' {ok}"
    assert meta["prompt_sha256"] == hashlib.sha256(expected.encode()).hexdigest()[:16]


def test_no_interpolate_takes_braces_literally(ip, lm):
    prompt = "{who} {x+1}"
    assert run(ip, f"%%generate -m lm -n 3 --no-interpolate\n{prompt}").error_in_exec is None
    assert provenance_of(outputs(ip)[-1])["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()[:16]


# === Bad input: one sentence, nothing lost ===

@pytest.mark.parametrize("cell, expected", [
    ("%%generate -m lm --bogus\nx", "unrecognized arguments: --bogus"),
    ("%%generate -m lm -n many\nx", "-n/--max-tokens: expected an integer >= 1, received 'many'"),
    ("%%generate -m lm -n 0\nx", "-n/--max-tokens: expected an integer >= 1, received '0'"),  # #14: was silent
    ("%%generate -m lm -t 0\nx", "-t/--temperature: expected a number > 0, received '0'"),
    ("%%generate -m lm --top-p 1.5\nx", "--top-p: expected a number in (0, 1], received '1.5'"),
    ("%%generate -m lm --samples 0\nx", "--samples: expected an integer >= 1"),
    ("%%generate -m lm -f html\nx", "invalid choice: 'html'"),
    ("%%generate -m lm -o 2x\nx", "expected a Python variable name, received '2x'"),
    ("%%generate -m lm\n   \n", "The prompt is empty"),
    ("%generate -m lm", "The prompt is empty"),
    ("%%generate -m lm some words\nx", "the prompt is the cell body"),
    ("%%generate -m lm {nobody} is here\nx", "the prompt is the cell body"),
    ("%%generate -m lm\n{nobody} speaks", "no variable 'nobody' is defined"),
    ("%%generate -m lm\n{x + 1}", "{x + 1} is an expression, and templates evaluate nothing"),
    ("%%generate -m lm\n{In[99]}", "there is no input cell 99"),
    ("%%generate -m lm\n{Out[99]}", "cell 99 has no output"),
    ("%%generate -m lm\nunbalanced }", "unbalanced braces"),
    ("%%generate -m lm --samples 2 --insert\nx", "Expected --samples 1"),
    ("%%generate -m lm --samples 3 --beam 2\nx", "Expected --samples <= --beam"),
])
def test_bad_input_is_one_usage_error_and_keeps_variables(ip, lm, cell, expected):
    ip.user_ns["out"] = "kept"
    message = error_of(ip, cell.replace("-m lm", "-m lm -o out", 1) if "-o" not in cell else cell)
    assert expected in message
    assert "\n" not in message
    assert ip.user_ns["out"] == "kept"
    assert not published(ip)


def test_unknown_model_lists_the_available_ones(ip, lm, saved):
    message = error_of(ip, "%generate -m nosuch hello")
    assert "'nosuch'" in message and "'tiny' (saved)" in message and "'lm' (variable)" in message


def test_variable_of_the_wrong_type(ip):
    ip.user_ns["poem"] = "not a model"
    message = error_of(ip, "%generate -m poem hello")
    assert "-m poem names a variable of type str, not a LanguageModel" in message


def test_generating_before_any_model_exists_says_how_to_get_one(ip):
    message = error_of(ip, f"%%generate\n{PROMPT}")
    assert "%llm train SOURCE --name NAME" in message and "%llm load PATH" in message


def test_saved_but_not_selected_names_the_choices(ip, saved):
    message = error_of(ip, f"%%generate\n{PROMPT}")
    assert "%llm use NAME" in message and "'tiny'" in message


def test_prompt_too_long_is_a_usage_error(ip, tiny_lm):
    model = copy_of(tiny_lm)
    model.config = type(model.config).from_dict({**model.config.to_dict(), "max_context": 8})
    ip.user_ns["short"] = model
    assert "reads at most 8" in error_of(ip, "%generate -m short this prompt is too long for it")


# === --explain and --check-copies (#15) ===

EXPLAIN_MIME = "application/vnd.jupyter-llm.explain+json"


def test_explain_shows_why_each_token_came_out_after_the_text(ip, lm):
    run(ip, f"%%generate -m lm -n 30 --greedy --explain\n{PROMPT}")
    text_out, explain_out = outputs(ip)
    data = explain_out["data"]
    assert set(data) == {EXPLAIN_MIME, "text/html", "text/plain"}
    payload = data[EXPLAIN_MIME]
    expected = lm.generate(PROMPT, max_tokens=30, greedy=True)
    assert text_out["data"]["text/plain"] == expected.lstrip("\n")
    assert "".join(payload["tokens"]) == PROMPT + expected and payload["prompt_tokens"] == len(PROMPT)
    assert payload["version"] == 1 and payload["kind"] == "explanation" and len(payload["rows"]) == 30
    assert payload["copies"] is None  # not asked
    unknown = lm.tokenizer.decode([lm.tokenizer.unk_id])
    for row in payload["rows"]:  # greedy: the most likely token (generation never picks the unknown one)
        assert [t for t, _ in row["alternatives"] if t != unknown][0] == row["token"]
    assert payload["meta"]["fingerprint"] == lm.fingerprint
    assert "tabindex='0'" in data["text/html"] and "<script" not in data["text/html"]
    assert "bits per character" in data["text/plain"]
    meta = provenance_of(explain_out)
    assert meta["kind"] == "explanation" and meta["options"]["explain"] is True
    assert meta["options"]["greedy"] is True


def test_the_line_form_explains_each_sample(ip, lm):
    run(ip, "%generate -m lm -n 8 --seed 1 --samples 2 --explain -o texts To be")
    text_out, *explained = outputs(ip)
    texts = ip.user_ns["texts"]
    assert [provenance_of(o)["sample"] for o in explained] == [0, 1]
    assert ["".join(o["data"][EXPLAIN_MIME]["tokens"]) for o in explained] == ["To be" + t for t in texts]


def test_check_copies_needs_an_index_and_says_so_before_generating(ip, tiny_lm):
    model = copy_of(tiny_lm)
    model.copy_index = None
    ip.user_ns["plain"] = model
    for cell in (f"%%generate -m plain --check-copies\n{PROMPT}", "%generate -m plain --explain --check-copies To"):
        message = error_of(ip, cell)
        assert "has no copied-text index" in message and "Expected a model trained with" in message
        assert "\n" not in message
    assert not published(ip)  # nothing was generated


def test_check_copies_marks_the_spans_found_in_the_training_text(ip, tiny_lm):
    from jupyter_llm.model.copied import CopyIndex

    model = copy_of(tiny_lm)
    expected = model.generate(PROMPT, max_tokens=150, greedy=True)
    filler = "<b>'&" * 11  # four whole blocks of 11 characters before the passage
    model.copy_index = CopyIndex.build(filler + expected + "\nTHE END\n")
    spans = model.copied(expected)
    assert spans and all(s.source_offset == len(filler) + s.start for s in spans)
    ip.user_ns["indexed"] = model

    run(ip, f"%%generate -m indexed -n 150 --greedy --check-copies\n{PROMPT}")
    _, copies_out = outputs(ip)
    page, plain = copies_out["data"]["text/html"], copies_out["data"]["text/plain"]
    assert provenance_of(copies_out)["kind"] == "copies"
    assert plain.startswith(f"{len(spans)} span(s) found verbatim in the training text")
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", page, re.S) == [html.escape(s.text) for s in spans]
    assert f"at {spans[0].source_offset:,} in the training text" in page

    run(ip, f"%%generate -m indexed -n 150 --greedy --explain --check-copies\n{PROMPT}")
    payload = outputs(ip)[-1]["data"][EXPLAIN_MIME]
    assert payload["copies"] == [{"start": len(PROMPT) + s.start, "end": len(PROMPT) + s.end,
                                  "source_offset": s.source_offset} for s in spans]
    assert "found verbatim in the training text" in outputs(ip)[-1]["data"]["text/html"]


def test_copies_of_nothing_say_so(ip, tiny_lm):
    from jupyter_llm.model.copied import CopyIndex

    model = copy_of(tiny_lm)
    model.copy_index = CopyIndex.build("An index of a text the model never wrote a word of. " * 3)
    ip.user_ns["other"] = model
    run(ip, f"%%generate -m other -n 40 --seed 0 --check-copies\n{PROMPT}")
    assert outputs(ip)[-1]["data"]["text/plain"] == "Nothing of this text was found verbatim in the training text."
