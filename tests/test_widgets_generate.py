"""GeneratePanel, driven as a user would: pick a model, set the sliders, press Generate and Stop."""

from __future__ import annotations

import html
import re
import time

import pytest

pytest.importorskip("ipywidgets")

from jupyter_llm.widgets import AttentionView, GeneratePanel  # noqa: E402


def _text(widget) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value))


def test_generate_streams_the_text_of_the_chosen_settings(tiny_lm):
    panel = GeneratePanel(tiny_lm, namespace={}, update_interval=0)
    panel.prompt.value = "ROMEO:"
    panel.temperature.value = 0.7
    panel.top_k.value = 20
    panel.top_p.value = 0.9
    panel.repetition_penalty.value = 1.1
    panel.max_tokens.value = 120
    panel.seed.value = "5"

    panel.generate_button.click()
    assert panel.wait(60)

    assert panel.error is None
    expected = tiny_lm.generate("ROMEO:", max_tokens=120, temperature=0.7, top_k=20, top_p=0.9,
                                repetition_penalty=1.1, seed=5)
    assert panel.texts == [expected]
    assert panel.renders >= 4  # redrawn as each chunk of tokens comes, not once at the end
    assert _text(panel.output) == "ROMEO:" + expected
    assert "Generated 120 tokens" in _text(panel.status)
    assert panel.text == "ROMEO:" + expected
    assert html.escape(panel.text, quote=True) in panel.copy.value and " disabled" not in panel.copy.value
    assert not panel.generate_button.disabled and panel.stop_button.disabled and not panel.insert_button.disabled


def test_stop_ends_generation_and_keeps_the_text(tiny_lm):
    panel = GeneratePanel(tiny_lm, namespace={}, max_tokens=2000, update_interval=0)
    panel.generate_button.click()
    deadline = time.monotonic() + 60
    while len(panel.texts[0]) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert not panel.stop_button.disabled
    panel.stop_button.click()
    assert panel.wait(30)
    assert 20 <= len(panel.texts[0]) < 2000
    assert "Stopped after" in _text(panel.status)
    assert _text(panel.output) == panel.texts[0]


def test_several_samples_and_escaping(tiny_lm):
    panel = GeneratePanel(tiny_lm, namespace={}, prompt="<b>&", n=2, max_tokens=30, seed=1)
    panel.generate_button.click()
    assert panel.wait(60)
    assert len(panel.texts) == 2 and all(panel.texts)
    assert panel.output.value.count('class="jl-text jl-output"') == 2
    assert "&lt;b&gt;&amp;" in panel.output.value and "<b>" not in panel.output.value
    assert "--- sample 2 ---" in panel.text


def test_unknown_prompt_symbols_are_noted_in_the_panel(tiny_lm):
    panel = GeneratePanel(tiny_lm, namespace={}, prompt="☃ snow", max_tokens=5, seed=0)
    panel.generate_button.click()
    assert panel.wait(60)
    assert "never seen in training" in _text(panel.status) and "Generated 5 tokens" in _text(panel.status)


def test_bad_settings_get_one_sentence(tiny_lm, tmp_path, monkeypatch):
    panel = GeneratePanel(tiny_lm, namespace={})
    panel.seed.value = "abc"
    panel.generate_button.click()
    assert panel.job is None
    assert "Invalid value for argument seed" in _text(panel.status)

    monkeypatch.setattr("jupyter_llm.store.bundled_dir", lambda: tmp_path / "no-bundled-models")
    empty = GeneratePanel(namespace={})
    assert empty.model is None and "No model yet" in _text(empty.model_info)
    empty.generate_button.click()
    assert empty.job is None and "Invalid value for argument model" in _text(empty.status)

    with pytest.raises(ValueError, match="Invalid value for argument model"):
        GeneratePanel(42)


def test_model_picker_lists_namespace_and_store_models(tiny_lm):
    import jupyter_llm as jl

    saved = jl.LanguageModel.build(jl.ModelConfig.from_size("tiny", seq_len=16), tiny_lm.tokenizer)
    saved.save("saved-tiny")
    panel = GeneratePanel(namespace={"lm": tiny_lm, "other": 3})
    values = [v for _, v in panel.picker.options]
    assert values[:2] == ["variable:lm", "saved:saved-tiny"] and "bundled:shakespeare" in values
    labels = [label for label, v in panel.picker.options]
    assert labels[:2] == ["lm — this notebook's variable", "saved-tiny — saved"]
    assert panel.model is tiny_lm and f"{tiny_lm.num_parameters:,} parameters" in _text(panel.model_info)

    panel.picker.value = "saved:saved-tiny"
    panel._load_job.wait(60)
    assert panel.model is not None and panel.model.name == "saved-tiny"

    by_name = GeneratePanel("saved-tiny", namespace={})
    by_name.generate_button.click()  # waits for the model to load, then generates
    assert by_name.wait(60) and by_name.texts and by_name.error is None


def test_a_model_named_by_the_user_is_picked_or_refused_never_swapped(tiny_lm, tmp_path):
    """A typo is one sentence naming what exists, not a panel quietly showing another model."""
    import jupyter_llm as jl

    with pytest.raises(jl.ModelNotFoundError, match="no model named 'nosuch'.*shakespeare"):
        GeneratePanel("nosuch", namespace={})
    with pytest.raises(jl.ModelNotFoundError, match="no saved model named 'nosuch'"):
        GeneratePanel("saved:nosuch", namespace={})

    folder = tiny_lm.save(tmp_path / "mine")  # a folder no listing has: loaded, shown first, picked
    panel = GeneratePanel(str(folder), namespace={})
    assert panel.picker.value == f"folder:{folder}" == panel.picker.options[0][1]
    assert panel.model is not None and panel.model.fingerprint == tiny_lm.fingerprint


def test_attention_toggle_shows_the_attention_of_the_result(tiny_lm):
    panel = GeneratePanel(tiny_lm, namespace={}, prompt="To be", max_tokens=20, seed=0, attention=True)
    panel.generate_button.click()
    assert panel.wait(60)
    (view,) = panel.attention_box.children
    assert isinstance(view, AttentionView)
    assert len(view.attention) == 25 and view.attention.prompt_length == 5
    panel.attention_toggle.value = False
    assert panel.attention_box.layout.display == "none"


def test_insert_below_without_a_notebook_says_so(tiny_lm, monkeypatch):
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    panel = GeneratePanel(tiny_lm, namespace={}, max_tokens=5, seed=0)
    panel.generate_button.click()
    panel.wait(60)
    panel.insert_button.click()
    assert "needs a notebook" in _text(panel.status)


def test_the_picker_says_where_each_model_comes_from_in_words_a_user_knows(tiny_lm):
    """A variable, a saved and a bundled model of one name: three choices, told apart in plain words."""
    import jupyter_llm as jl

    config = jl.ModelConfig.from_size("tiny", seq_len=16)
    jl.LanguageModel.build(config, tiny_lm.tokenizer).save("shakespeare")  # the user's own, beside the bundled one
    other = jl.LanguageModel.build(config, tiny_lm.tokenizer)
    panel = GeneratePanel(other, namespace={"shakespeare": tiny_lm})
    labels = dict((v, label) for label, v in panel.picker.options)
    assert labels["variable:shakespeare"] == "shakespeare — this notebook's variable"
    assert labels["saved:shakespeare"] == "shakespeare — saved"
    assert labels["bundled:shakespeare"] == "shakespeare — bundled"
    assert [label for label in labels.values() if label.endswith("not saved")] == [
        f"{other.name or 'the model passed in'} — in this notebook, not saved"]  # the model handed to the panel
    assert not any("given" in label for label in labels.values())


def test_the_notebooks_unsaved_model_is_listed_and_picked(tiny_lm):
    """After ``%llm train`` without a name, the panel offers that model (in memory) and starts on it."""
    from jupyter_llm.resolver import Resolved, Resolver

    resolver = Resolver(namespace=dict)
    resolver.current = Resolved(tiny_lm, "the model trained last", "memory")
    panel = GeneratePanel(namespace={}, resolver=resolver)
    assert panel.picker.value == "memory:the model trained last" and panel.model is tiny_lm
    assert panel.picker.options[0][0] == "the model trained last — in this notebook, not saved"


EXPLAIN_MIME = "application/vnd.jupyter-llm.explain+json"


def test_explain_view_shows_why_each_token_of_the_result_came_out(tiny_lm):
    from magics_support import copy_of

    model = copy_of(tiny_lm)
    model.copy_index = None  # (a model trained without an index of its training text)
    panel = GeneratePanel(model, namespace={}, prompt="'To be'", max_tokens=20, seed=0, explain=True)
    assert panel.explain_toggle.value and panel.explain_box.layout.display is None
    panel.generate_button.click()
    assert panel.wait(60) and panel.error is None
    (explanation,) = panel.explanations
    first, note = panel.explain_box.outputs  # the explanation's mime bundle; a note: no index, no copies
    data = first["data"]
    assert first["output_type"] == "display_data" and set(data) == {EXPLAIN_MIME, "text/html", "text/plain"}
    assert data[EXPLAIN_MIME] == explanation.to_dict()
    assert "".join(data[EXPLAIN_MIME]["tokens"]) == "'To be'" + panel.texts[0]
    assert data[EXPLAIN_MIME]["prompt_tokens"] == len("'To be'") and len(data[EXPLAIN_MIME]["rows"]) == 20
    page = data["text/html"]
    assert ">'<" not in page and ">&#x27;<" in page and page.count("tabindex='0'") == 20
    assert "no index of its training text" in note["data"]["text/plain"]
    panel.explain_toggle.value = False
    assert panel.explain_box.layout.display == "none"


def test_explain_pressed_after_generating_explains_each_sample_and_marks_copies(tiny_lm):
    from magics_support import copy_of

    from jupyter_llm.model.copied import CopyIndex

    model = copy_of(tiny_lm)
    panel = GeneratePanel(model, namespace={}, prompt="ROMEO:", max_tokens=90, seed=3, n=2)
    panel.generate_button.click()
    assert panel.wait(60)
    assert panel.explanations == [] and panel.explain_box.outputs == ()  # nothing computed until asked
    model.copy_index = CopyIndex.build("x" * 11 + panel.texts[1])  # the second sample is "training text"
    panel.explain_toggle.value = True
    assert panel.explain_job is not None and panel.explain_job.wait(60)
    titles = [o["data"]["text/plain"] for o in panel.explain_box.outputs if EXPLAIN_MIME not in o["data"]]
    assert titles == ["Sample 1", "Sample 2"]  # and no note: the model has an index
    first, second = panel.explanations
    assert ["".join(e.tokens) for e in panel.explanations] == ["ROMEO:" + t for t in panel.texts]
    spans = model.copied(panel.texts[1])
    assert spans and second.copies == [{"start": 6 + s.start, "end": 6 + s.end, "source_offset": 11 + s.start}
                                       for s in spans]
    assert first.copies == [c for c in first.copies if first.text[c["start"]:c["end"]] in panel.texts[1]]
    shown = [o["data"] for o in panel.explain_box.outputs if EXPLAIN_MIME in o["data"]]
    assert "outline:1px dotted" in shown[1]["text/html"]
    panel.generate_button.click()  # a new generation clears the view, and explains again (Explain is on)
    assert panel.wait(60) and len(panel.explanations) == 2


def test_explain_is_checked_by_the_options_table(tiny_lm):
    from jupyter_llm import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="argument explain. Expected True or False"):
        GeneratePanel(tiny_lm, namespace={}, explain="yes")
