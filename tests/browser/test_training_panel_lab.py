"""The TrainingPanel on a small file in JupyterLab (#14 point 3): it says what a run will do, trains for a
time budget instead of the single step one epoch of a short text is, and keeps the speeds it measured.

Takes the screenshot ``training_panel_small_file`` (docs/images with JUPYTER_LLM_SCREENSHOTS=docs/images).
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
