"""The TrainingPanel on a small file in JupyterLab (#14 point 3): it says what a run will do, trains for a
time budget instead of the single step one epoch of a short text is, and keeps the speeds it measured.

And the run history in the panel (#16.3): a second run on the same text draws the first one's curves behind it.

Takes the screenshots ``training_panel_small_file`` and ``training_panel_earlier_runs`` (docs/images with
JUPYTER_LLM_SCREENSHOTS=docs/images).
"""

from __future__ import annotations

import shutil

from .conftest import ROOT, open_notebook, run_all_cells


def test_training_panel_on_a_small_file_with_a_time_budget(page, lab, screenshot):
    shutil.copy(ROOT / "README.md", lab.root / "README.md")
    lab.write_notebook("train_small.ipynb", [
        "from jupyter_llm.widgets import TrainingPanel\n"
        "panel = TrainingPanel('README.md', size='tiny', seed=0, sample_prompt='The ')\n"
        "panel",
    ])
    open_notebook(page, lab, "train_small.ipynb")
    run_all_cells(page)
    panel = page.locator(".jl-training-panel")
    panel.locator(".jl-sizes", has_text="(measured)").wait_for(timeout=120_000)
    plan = panel.locator(".jl-plan")
    plan.get_by_text("too few to learn much").wait_for()  # one epoch of the README is one step, and it says so
    assert "1 training step(s)" in plan.inner_text()

    panel.locator("select").filter(has_text="the epochs set").select_option(label="1 minute")
    plan.get_by_text("Train for 1 minute").wait_for()
    # On a text this short (one step a pass) the budget's epoch is several passes; Steps/epoch shows its steps.
    assert "passes over this short text" in plan.inner_text()
    steps = panel.locator(".widget-inline-hbox", has_text="Steps/epoch").locator("input")
    assert int(steps.input_value()) > 1
    assert panel.locator(".jl-sizes").inner_text().count("choose a text") == 0
    panel.get_by_role("button", name="Train").click()
    panel.locator(".jl-status .jl-ok").wait_for(timeout=180_000)  # the budget's end is a planned end, not a stop
    assert panel.locator("polyline.jl-train-curve").count() == 1
    assert "Sample after epoch" in panel.inner_text()
    sizes = panel.locator(".jl-sizes").inner_text()
    assert "(measured)" in sizes and "not measured" not in sizes  # the speeds stay after the run
    panel.scroll_into_view_if_needed()
    screenshot(page, "training_panel_small_file", panel)


def test_a_second_run_on_the_same_text_shows_the_first_ones_curves(page, lab, screenshot):
    shutil.copy(ROOT / "jupyter_llm" / "datasets" / "shakespeare_excerpt.txt", lab.root / "plays.txt")
    lab.write_notebook("train_twice.ipynb", [
        "from jupyter_llm.widgets import TrainingPanel\n"
        "panel = TrainingPanel('plays.txt', size='tiny', seq_len=32, batch_size=16, epochs=3, steps_per_epoch=15,\n"
        "                      learning_rate=0.001, seed=0, sample_tokens=0, measure_speed=False)\n"
        "panel",
    ])
    open_notebook(page, lab, "train_twice.ipynb")
    run_all_cells(page)
    panel = page.locator(".jl-training-panel")
    train = panel.get_by_role("button", name="Train")
    train.click()
    panel.locator(".jl-status .jl-ok").wait_for(timeout=180_000)
    assert panel.locator(".jl-earlier-run").count() == 0  # the first run on this text: nothing to compare with
    compare = panel.get_by_text("show earlier runs on this text")
    assert not compare.is_visible()

    rate = panel.locator(".widget-hslider", has_text="Learn. rate").locator(".widget-readout")
    rate.fill("1.0e-2")  # the slider's readout takes a typed value
    rate.press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('.jl-training-panel .widget-readout')]"
                           ".some(e => e.textContent.trim() === '1.0e-2')")
    train.click()
    earlier = panel.locator("g.jl-earlier-run")
    earlier.wait_for(timeout=120_000)  # drawn as the second run starts (after the status left the first one's end)
    panel.locator(".jl-status .jl-ok").wait_for(timeout=180_000)  # the second run's end
    assert earlier.count() == 1
    label = earlier.locator("title").text_content()
    assert label.startswith("earlier run:") and "lr 0.001" in label and "val_loss" in label
    assert "earlier run (1)" in panel.locator(".jl-chart").inner_text()
    assert compare.is_visible()
    panel.scroll_into_view_if_needed()
    screenshot(page, "training_panel_earlier_runs", panel)

    compare.click()  # hides them
    panel.locator("g.jl-earlier-run").wait_for(state="detached")
