"""The widget panels in a real JupyterLab: generate streams text, attention reacts to the mouse, training runs.

Takes the screenshots of the docs: ``generate_panel.png``, ``attention_view.png``
and ``training_panel.png`` (into docs/images only when ``JUPYTER_LLM_SCREENSHOTS=docs/images``).
"""

from __future__ import annotations

from .conftest import open_notebook, run_all_cells

# The first 60,000 characters of tiny Shakespeare, from the excerpt shipped with the package.
SETUP = """\
from jupyter_llm import datasets
from jupyter_llm.widgets import GeneratePanel, TrainingPanel
text = datasets.load("shakespeare")[:60_000]"""
# The bundled Shakespeare model: loaded by the panel, in the background.
GENERATE = 'GeneratePanel("shakespeare", prompt="ROMEO:\\n", max_tokens=300, temperature=0.8, seed=3)'
TRAIN = ('TrainingPanel(text, size="tiny", seq_len=32, batch_size=32, epochs=4, steps_per_epoch=40,\n'
         '              sample_prompt="ROMEO:", sample_tokens=80, name="shakespeare-tiny")')


def _in_dark_theme(page, action) -> list[int]:
    """Run ``action`` in JupyterLab's dark theme; returns the panel's background colour there."""
    def background() -> list[int]:
        rgb = page.evaluate("() => getComputedStyle(document.querySelector('.jl-panel')).backgroundColor")
        return [int(v) for v in rgb[rgb.index("(") + 1: rgb.index(")")].split(",")[:3]]

    light = background()
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.jl-panel')).backgroundColor !== 'rgb(255, 255, 255)'")
    dark = background()
    action()
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
    assert sum(light) > 3 * 200
    return dark


def test_panels_in_jupyterlab(page, lab, screenshot):
    lab.write_notebook("panels.ipynb", [SETUP, GENERATE, TRAIN, "1 + 1"])
    page.set_viewport_size({"width": 1400, "height": 1500})  # room for a whole panel in each screenshot
    open_notebook(page, lab, "panels.ipynb")
    page.add_style_tag(content=".Toastify { display: none !important; }")  # JupyterLab's news prompt
    run_all_cells(page, timeout=240_000)

    # === Generate: press the button and watch the text stream in ===
    gen = page.locator(".jl-generate-panel")
    gen.wait_for()
    gen.get_by_role("button", name="Generate").click()
    page.wait_for_function(
        "() => { const g = document.querySelector('.jl-generate-panel .jl-gen');"
        " return g && g.textContent.length > 40; }")
    gen.locator(".jl-status", has_text="Generated").wait_for(timeout=60_000)
    assert gen.locator(".jl-prompt").first.inner_text().startswith("ROMEO:")
    assert len(gen.locator(".jl-gen").first.inner_text()) > 100
    screenshot(page, "generate_panel", gen)
    dark = _in_dark_theme(page, lambda: screenshot(page, "generate_panel_dark", gen))
    assert sum(dark) < 3 * 80  # the panel's background follows the theme

    # === Attention view: hovering a token shades what it attended to ===
    gen.get_by_role("button", name="Attention").click()
    view = page.locator(".jl-attention-view")
    view.locator(".jlav-tok").first.wait_for()
    tokens = view.locator(".jlav-tok")
    assert tokens.count() >= 64
    target = tokens.nth(tokens.count() - 20)
    target.hover()
    shaded = page.evaluate(
        "() => [...document.querySelectorAll('.jl-attention-view .jlav-tok')]"
        ".filter(t => getComputedStyle(t).backgroundColor.startsWith('color(srgb')).length")  # the brand colour
    assert shaded >= 2
    assert page.locator(".jl-attention-view .jlav-hr").evaluate_all(
        "rows => rows.filter(r => getComputedStyle(r).display === 'block').length") == 1
    screenshot(page, "attention_view", view)

    # === Training: the size is timed, then a short run with live progress ===
    panel = page.locator(".jl-training-panel")
    panel.scroll_into_view_if_needed()
    panel.locator(".jl-sizes", has_text="(measured)").wait_for(timeout=90_000)
    panel.get_by_role("button", name="Train").click()
    panel.locator(".jl-status", has_text="Training finished").wait_for(timeout=150_000)
    assert panel.locator("polyline.jl-train-curve").count() == 1
    assert "Sample after epoch" in panel.inner_text()
    panel.get_by_role("button", name="Save").click()
    panel.get_by_text("Saved as").wait_for()
    screenshot(page, "training_panel", panel)
