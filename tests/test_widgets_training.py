"""TrainingPanel, driven as a user would: set the controls, press the buttons, watch the run."""

from __future__ import annotations

import datetime
import html
import re
import time

import pytest

pytest.importorskip("ipywidgets")

from jupyter_llm.widgets import TrainingPanel  # noqa: E402

TINY = dict(size="tiny", seq_len=16, batch_size=8, measure_speed=False)


def _text(widget) -> str:
    """What an HTML widget shows, as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value))


def _until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _fresh_tiny(tiny_lm):
    """An untrained tiny model with tiny_lm's tokenizer (tiny_lm itself is shared and must not change)."""
    import jupyter_llm as jl

    config = jl.ModelConfig.from_size("tiny", seq_len=16, batch_size=8)
    return jl.LanguageModel.build(config, tiny_lm.tokenizer)


def test_train_in_background_reports_progress_and_saves(shakespeare_text, jl_home):
    import jupyter_llm as jl

    panel = TrainingPanel(namespace={"corpus": shakespeare_text[:20_000], "n": 3}, **TINY)
    assert [v for _, v in panel.variable.options] == ["corpus"]  # only text variables are offered
    panel.epochs.value = 2
    panel.steps_per_epoch.value = 5
    panel.sample_prompt.value = "ROMEO:"
    panel.sample_tokens = 20

    panel.train_button.click()
    assert panel.train_button.disabled and not panel.stop_button.disabled
    assert panel.wait(120)

    kinds = [e.kind for e in panel.events]
    assert kinds[0] == "train_begin" and kinds[-1] == "train_end"
    assert kinds.count("step") == 10 and kinds.count("epoch_end") == 2 and kinds.count("sample") == 2
    assert panel.error is None
    assert panel.progress.value == 1.0 and panel.progress.bar_style == "success"
    assert "Training finished: 2 epoch(s)" in _text(panel.status)
    assert "epoch 2/2 · step 5/5" in _text(panel.progress_text) and "tokens/s" in _text(panel.progress_text)
    assert 'class="jl-train-curve"' in panel.chart.value and panel.chart.value.count("<circle") == 2
    assert "Sample after epoch 2" in panel.sample.value and "ROMEO:" in panel.sample.value
    assert len(panel.samples) == 2
    assert "validation loss" in panel.summary.value
    assert not panel.train_button.disabled and panel.stop_button.disabled and not panel.save_button.disabled
    assert panel.model.metadata["metrics"]["epochs_completed"] == 2

    panel.save_name.value = "panel-model"
    panel.save_button.click()
    assert "Saved as" in _text(panel.save_status)
    assert [m.name for m in jl.list_models() if not m.bundled] == ["panel-model"]
    panel.save_button.click()  # the name is taken now
    assert "already saved" in _text(panel.save_status)
    panel.overwrite.value = True
    panel.save_button.click()
    assert "Saved as" in _text(panel.save_status)


def test_stop_mid_training_stops_within_a_step_and_keeps_the_weights(shakespeare_text, tiny_lm):
    lm = _fresh_tiny(tiny_lm)
    before = lm.fingerprint
    panel = TrainingPanel(shakespeare_text[:20_000], model=lm, steps_per_epoch=5000, sample_tokens=0,
                          measure_speed=False)
    assert panel.continue_training.value and panel.seq_len.disabled  # the model's own settings are kept

    panel.train_button.click()
    _until(lambda: sum(e.kind == "step" for e in panel.events) >= 3)
    panel.stop_button.click()
    at_click = max(e.step for e in list(panel.events) if e.kind == "step")  # read after: never too low
    assert panel.wait(60)

    last = max(e.step for e in panel.events if e.kind == "step")
    assert last <= at_click + 1  # the step running when Stop was pressed is the last
    assert panel.model is lm and lm.fingerprint != before  # what was trained is kept
    assert lm.metadata["metrics"]["stopped"] == "stopped"
    assert lm.metadata["metrics"]["epochs_completed"] == 0 and lm.metadata["history"] == []  # epoch 1 was cut short
    assert "epochs completed0" in _text(panel.summary) and "stopped inepoch 1 after" in _text(panel.summary)
    assert panel.progress.bar_style == "warning" and 0 < panel.progress.value < 0.01
    assert "stopped on request" in _text(panel.status) and "kept" in _text(panel.status)
    assert lm.generate("ROMEO:", max_tokens=5, seed=0)


def test_an_error_during_training_shows_in_the_panel_and_keeps_the_weights(shakespeare_text, tiny_lm, monkeypatch):
    import jupyter_llm as jl

    def broken(self, *args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(jl.LanguageModel, "evaluate", broken)  # validation, at the end of the epoch
    lm = _fresh_tiny(tiny_lm)
    before = lm.fingerprint
    panel = TrainingPanel(shakespeare_text[:20_000], model=lm, steps_per_epoch=4, sample_tokens=0,
                          measure_speed=False)
    panel.train_button.click()
    assert panel.wait(60)

    assert isinstance(panel.error, RuntimeError)
    assert panel.progress.bar_style == "danger"
    assert "RuntimeError: the disk is on fire" in _text(panel.status) and "<details>" in panel.status.value
    assert "kept" in _text(panel.status)
    assert panel.model is lm and lm.fingerprint != before
    assert not panel.train_button.disabled


def test_a_new_model_is_kept_when_training_fails(shakespeare_text, monkeypatch):
    import jupyter_llm as jl

    monkeypatch.setattr(jl.LanguageModel, "evaluate", lambda self, *a, **k: 1 / 0)
    panel = TrainingPanel(shakespeare_text[:5_000], steps_per_epoch=3, sample_tokens=0, **TINY)
    assert panel.model is None
    panel.train_button.click()
    assert panel.wait(60)
    assert isinstance(panel.error, ZeroDivisionError)
    assert panel.model is not None and panel.model.config.rnn_units == 64  # the tiny model, trained 3 steps


def test_user_mistakes_get_one_sentence_and_no_run(tmp_path):
    panel = TrainingPanel(namespace={}, **TINY)
    panel.train_button.click()
    assert panel.job is None
    assert "No text variable is selected" in _text(panel.status)

    panel.source.value = "file"
    panel.train_button.click()
    assert panel.job is None and "No file is given" in _text(panel.status)

    panel.source.value = "upload"
    panel.train_button.click()
    assert panel.job is None and "No file is uploaded" in _text(panel.status)
    panel.upload.value = ({"name": "latin1.txt", "type": "text/plain", "size": 2, "content": memoryview(b"\xe9\xe9"),
                           "last_modified": datetime.datetime.now(datetime.timezone.utc)},)
    panel.train_button.click()
    assert panel.job is None and "'latin1.txt' is not UTF-8 text" in _text(panel.status)

    panel.source.value = "file"
    panel.path.value = str(tmp_path / "missing.txt")
    panel.train_button.click()  # found out by the run itself
    assert panel.wait(60)
    assert "No such file" in _text(panel.status) and "<details>" not in panel.status.value
    assert panel.model is None

    panel.save_button.click()
    assert "no model to save" in _text(panel.save_status)


def test_data_choices_variables_columns_files_and_uploads(tmp_path):
    pd = pytest.importorskip("pandas")
    ns = {
        "poem": "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate.",
        "title": "short",
        "lines": ["first line of text", "second line"],
        "quotes": pd.Series(["to be", "or not to be"], name="q"),
        "table": pd.DataFrame({"id": [1, 2], "text": ["alpha beta", "gamma delta"]}),
        "_hidden": "x" * 100,
        "number": 42,
    }
    panel = TrainingPanel(namespace=ns, **TINY)
    assert [v for _, v in panel.variable.options] == ["lines", "poem", "quotes", "table"]
    assert panel.column.layout.display == "none"

    panel.variable.value = "table"
    assert panel.column.layout.display is None and panel.column.value == "text"
    assert panel.picker.resolve()[1] == "text"
    assert "21 characters" in _text(panel.data_info)

    panel.variable.value = "poem"
    assert "80 characters" in _text(panel.data_info) and panel.column.layout.display == "none"

    ns["later"] = "a text defined after the panel was opened, long enough"
    panel.refresh_button.click()  # refreshed on demand
    assert "later" in [v for _, v in panel.variable.options] and panel.variable.value == "poem"

    (tmp_path / "a.txt").write_text("some text\n" * 10, encoding="utf-8")
    (tmp_path / "b.txt").write_text("more text\n" * 10, encoding="utf-8")
    panel.source.value = "file"
    assert panel.variable.layout.display == "none" and panel.path.layout.display is None
    panel.path.value = str(tmp_path / "*.txt")
    assert "200 bytes" in _text(panel.data_info)

    panel.source.value = "upload"
    panel.upload.value = ({"name": "u.txt", "type": "text/plain", "size": 6, "content": memoryview("héllo!".encode()),
                           "last_modified": datetime.datetime.now(datetime.timezone.utc)},)
    source, column, description = panel.picker.resolve()
    assert source == ["héllo!"] and column is None and "u.txt" in description


def test_a_path_given_opens_in_file_mode(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("text " * 100, encoding="utf-8")
    panel = TrainingPanel(path, **TINY)
    assert panel.source.value == "file" and panel.path.value == str(path)


def test_size_presets_show_parameters_and_measured_speed(shakespeare_text):
    panel = TrainingPanel(shakespeare_text[:20_000], size="tiny", seq_len=16, batch_size=8, steps_per_epoch=0)
    assert "not measured" in _text(panel.sizes_info)
    panel._repr_mimebundle_()  # shown: the chosen size is timed in the background, once
    panel.sizes.job.wait(120)
    est = panel.sizes.estimates
    assert est["tiny"].measured and est["tiny"].tokens_per_second > 0
    assert est["small"].basis == "scaled from tiny" and est["medium"].parameters > est["small"].parameters
    assert est["tiny"].parameters > 10_000
    html = panel.sizes_info.value
    assert "(measured)" in html and "scaled from tiny" in html and "tokens/s" in html and "≈" in html
    panel._repr_mimebundle_()
    assert panel.sizes.job.wait(0.1)  # shown again: nothing new is started

    panel.size.value = "small"  # choosing a preset measures it
    panel.sizes.job.wait(120)
    assert est is not panel.sizes.estimates
    est = panel.sizes.estimates
    assert est["tiny"].measured and est["small"].measured and est["medium"].basis == "scaled from small"
    assert "jl-chosen\"><td>small" in panel.sizes_info.value


def test_the_same_seed_trains_the_same_weights(shakespeare_text):
    import numpy as np

    def trained(seed):
        panel = TrainingPanel(shakespeare_text[:8000], epochs=1, steps_per_epoch=3, sample_tokens=0, seed=seed,
                              **TINY)
        panel.train()
        assert panel.wait(120) and panel.error is None
        assert panel.model.config.seed == seed
        return panel.model.model.get_weights()

    first, second = trained(7), trained(7)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, trained(8)))


def test_seed_is_checked():
    import jupyter_llm as jl

    with pytest.raises(jl.InvalidArgumentError, match="seed"):
        TrainingPanel("some text " * 10, seed="zero", **TINY)


# === #14 point 3: a small file, the plan, the size table, a stale refusal ===

def test_a_refusal_clears_once_a_valid_file_is_typed(tmp_path):
    (tmp_path / "notes.txt").write_text("some text\n" * 50, encoding="utf-8")
    panel = TrainingPanel(namespace={}, **TINY)
    panel.train_button.click()
    assert panel.job is None and "No text variable is selected" in _text(panel.status)
    panel.source.value = "file"  # the sentence follows the choice ...
    assert "No text variable" not in _text(panel.status) and "No file is given" in _text(panel.status)
    panel.path.value = str(tmp_path / "notes.txt")  # ... and goes once the choice is valid, before Train
    assert "Ready" in _text(panel.status) and "jl-error" not in panel.status.value and "No " not in _text(panel.status)


def _estimate(size, tps, measured=True, basis="measured", parameters=40_000):
    from jupyter_llm.widgets.estimates import SpeedEstimate

    return SpeedEstimate(size, parameters, tps, measured, basis, 1.0)


def _size_rows(panel) -> dict[str, list[str]]:
    """The size table as ``{size: [parameters, time per epoch, speed]}``."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", panel.sizes_info.value)
    cells = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]
    return {c[0]: c[1:] for c in cells if c}


def test_time_per_epoch_before_a_text_is_chosen_says_so():
    panel = TrainingPanel(namespace={}, **TINY)
    panel.sizes.estimates = {"tiny": _estimate("tiny", 50_000.0),
                             "small": _estimate("small", 6_000.0, False, "scaled from tiny", 340_000)}
    panel.sizes.render()
    rows = _size_rows(panel)
    assert rows["tiny"] == ["40k", "– (choose a text)", "50k tokens/s (measured)"]
    # (the time per epoch read "(scaled from small)" here)
    assert rows["small"] == ["340k", "– (choose a text)", "6k tokens/s (scaled from tiny)"]
    assert rows["medium"] == ["–", "not measured", ""]
    assert "Choose a text" in _text(panel.plan)


def test_an_interrupted_measurement_keeps_the_speeds_measured_before():
    from jupyter_llm.widgets.training.sizes import keep_known_speeds

    known = {"tiny": _estimate("tiny", 50_000.0), "small": _estimate("small", 6_000.0, False, "scaled from tiny")}
    cut_short = {"tiny": _estimate("tiny", None, False, "not measured"),
                 "small": _estimate("small", None, False, "not measured")}
    assert keep_known_speeds(known, cut_short) == known
    fresh = {"tiny": _estimate("tiny", 40_000.0), "small": _estimate("small", 7_000.0)}
    assert keep_known_speeds(known, fresh) == fresh  # a complete measurement replaces them


def test_after_training_the_size_table_shows_measured_speeds(shakespeare_text):
    """The first measurement, cut short by pressing Train, used to leave every speed "(not measured)"."""
    panel = TrainingPanel(namespace={"text": shakespeare_text[:9_800]}, size="tiny", seq_len=16, batch_size=8,
                          epochs=3, sample_tokens=0)
    panel.measure()  # as showing the panel does; Train stops it at its next step
    panel.train()
    assert panel.wait(120) and panel.error is None
    rows = _size_rows(panel)
    assert rows["tiny"][2].endswith("tokens/s (measured)") and rows["tiny"][1].startswith("≈")
    assert rows["small"][2].endswith("(scaled from tiny)")
    assert all(row[1] != "not measured" and "(not measured)" not in row[1] for row in rows.values())
    panel.measure(wait=True)  # a measurement afterwards keeps what is known too
    assert _size_rows(panel)["small"][2].endswith("(scaled from tiny)")


def test_the_plan_says_a_small_text_is_too_few_steps_and_a_budget_chooses_the_epochs():
    from jupyter_llm.widgets.training.plan import plan

    small = dict(tokens_per_epoch=8_800.0, tokens_per_step=8_192, tokens_per_second=4_096.0, max_epochs=100_000)
    one = plan(epochs=1, budget=0, **small)
    assert (one.epochs, one.steps_per_epoch, one.few) == (1, 1, True)
    assert "1 training step(s)" in one.note and "too few to learn much" in one.note and "Train for" in one.note
    budget = plan(epochs=1, budget=120, **small)  # 2 s a step: 60 steps in 2 minutes
    assert budget.epochs * budget.steps_per_epoch == 60 and budget.epochs <= 20 and not budget.few
    assert budget.passes == 3 and "Train for 2 minutes" in budget.note and "3 passes" in budget.note
    assert abs(budget.seconds - 120) < 1e-9
    unknown = plan(epochs=1, budget=120, **{**small, "tokens_per_second": None})
    assert unknown.seconds is None and "measuring" in unknown.note and unknown.epochs == 100_000
    assert "Choose a text" in plan(epochs=1, budget=0, **{**small, "tokens_per_epoch": None}).note
    many = plan(epochs=200, budget=0, **small)
    assert not many.few and "200 training step(s)" in many.note


def test_a_time_budget_trains_a_small_text_for_about_that_long(shakespeare_text):
    panel = TrainingPanel(namespace={"text": shakespeare_text[:9_800]}, time_budget=8, sample_tokens=20, **TINY)
    assert panel.epochs.disabled and panel.steps_per_epoch.disabled
    panel.measure(wait=True)
    assert "Train for 8.0 s" in _text(panel.plan) and 1 <= panel.epochs.value <= 20
    panel.train()
    assert panel.wait(120) and panel.error is None
    steps = sum(e.kind == "step" for e in panel.events)
    assert steps > 20  # not the single step of one pass
    assert panel.progress.bar_style == "success" and "jl-warn" not in panel.status.value.split("</span>")[0]
    elapsed = panel.model.metadata["metrics"]["train_seconds"]
    assert elapsed < 8 + 10
    panel.train_for.value = 0  # back to the epochs set by hand: Steps/epoch is again the user's
    assert panel.steps_per_epoch.value == 0 and not panel.epochs.disabled and not panel.steps_per_epoch.disabled


def test_a_budget_on_a_short_text_makes_an_epoch_several_passes_and_shows_its_steps():
    panel = TrainingPanel(namespace={"text": "a short text of a few words\n" * 400}, **TINY)
    panel.steps_per_epoch.value = 7  # set by hand, kept for when the budget is turned off
    panel.sizes.estimates = {"tiny": _estimate("tiny", 12_800.0)}  # 100 steps (16 x 8 tokens) a second
    panel.train_for.value = 120  # 12,000 steps: 20 epochs of 7 passes of 78 steps
    one_pass = int(11_200 * 0.9 // 128)
    assert (panel.epochs.value, panel.steps_per_epoch.value) == (20, 7 * one_pass)
    assert "an epoch is 7 passes over this short text" in _text(panel.plan)
    assert "Train for 2 minutes" in _text(panel.plan)
    settings = panel._settings()
    assert settings.time_limit == 120 and settings.steps_per_epoch == panel.steps_per_epoch.value
    panel.train_for.value = 0
    assert panel.steps_per_epoch.value == 7 and panel._settings().time_limit is None


def test_earlier_runs_on_the_same_text_are_drawn_behind_the_new_one(shakespeare_text):
    import jupyter_llm as jl

    text, other = shakespeare_text[:8000], shakespeare_text[8000:16000]
    jl.train(other, size="tiny", seq_len=16, batch_size=8, steps_per_epoch=3, progress=False, sample_tokens=0)
    panel = TrainingPanel(text, epochs=2, steps_per_epoch=3, sample_tokens=0, seed=1, **TINY)
    panel.train()
    assert panel.wait(120) and panel.error is None
    # The first run on this text: nothing earlier to draw (the run on another text is not this text's).
    assert "jl-earlier-run" not in panel.chart.value and panel.compare.layout.display == "none"

    panel.learning_rate.value = 0.01
    panel.train()
    assert panel.wait(120) and panel.error is None
    chart = panel.chart.value
    assert chart.count('class="jl-earlier-run"') == 1 and "earlier run (1)" in chart
    first = jl.runs().iloc[1]  # the history: the other text's run, then the panel's two
    assert f"val_loss {first.val_loss:.3f}" in html.unescape(chart) and "lr 0.003" in chart
    assert panel.compare.layout.display is None
    panel.compare.value = False  # the user hides them
    assert "jl-earlier-run" not in panel.chart.value
    panel.compare.value = True
    assert "jl-earlier-run" in panel.chart.value

    # Continuing the same model: its own runs are already on the chart, so only the others are drawn behind.
    panel.continue_training.value = True
    panel.train()
    assert panel.wait(120) and panel.error is None
    assert panel.chart.value.count('class="jl-earlier-run"') == 1
    assert len(jl.runs()) == 4
