"""The two attention views on the same 207-token text, in a real JupyterLab: one visual language.

The renderer of ``AttentionMap`` (the JupyterLab extension, in a cell's output)
and the ``AttentionView`` widget shade with the same colour, scale each row on
its own (and say so in the legend), quote tokens alike, show the hovered
token's status line, and thin the heatmap's labels so they never overlap.

Takes the docs' screenshots ``attention_same_text_renderer.png`` and
``attention_same_text_widget.png`` (into docs/images only when
``JUPYTER_LLM_SCREENSHOTS=docs/images``).
"""

from __future__ import annotations

import re

from .conftest import open_notebook, run_all_cells

SETUP = ("import jupyter_llm as jl\n"
         "from jupyter_llm import datasets\n"
         "from jupyter_llm.widgets import AttentionView\n"
         "lm = jl.load('shakespeare')\n"
         "amap = lm.attention(datasets.load('shakespeare')[:400])\n"
         "amap = jl.AttentionMap(amap.tokens[:207], amap.weights[:207, :207])\n"
         "len(amap), float(amap.weights[206].max())")
RENDERER = ".jp-OutputArea .jp-LLMAttention"
WIDGET = ".jp-OutputArea .jl-attention-view"
#: The background colours of the tokens inside ``scope`` that have one, as [r, g, b, alpha] in 0..1.
SHADES = r"""(scope) => document.getAnimations().length ? null : [...document.querySelectorAll(scope)]
    .map(t => getComputedStyle(t).backgroundColor)
    .map(c => {
        let m = c.match(/^color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)(?: \/ ([\d.]+))?\)$/);
        if (m) { return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]]; }
        m = c.match(/^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/);
        if (!m) { throw new Error(`an unexpected colour: ${c}`); }
        return [m[1] / 255, m[2] / 255, m[3] / 255, m[4] === undefined ? 1 : +m[4]];
    }).filter(c => c[3] > 0)"""
#: For the visible axis labels matching ``selector``: [left, right, top, bottom, font size in px].
BOXES = """(selector) => [...document.querySelectorAll(selector)].map(l => {
    const r = l.getBoundingClientRect();
    return [r.left, r.right, r.top, r.bottom, parseFloat(getComputedStyle(l).fontSize)];
})"""


def _shades(page, scope: str) -> list[list[float]]:
    """The shades in ``scope`` once the renderer's colour transitions have ended."""
    return page.wait_for_function(SHADES, arg=scope).json_value()


def _rgb(shades):
    return {tuple(round(v, 2) for v in c[:3]) for c in shades}


def _labels_do_not_overlap(page, selector: str, tokens: int) -> None:
    boxes = sorted(page.evaluate(BOXES, selector))
    assert 8 <= len(boxes) <= tokens // 4  # thinned out, yet a label every few tokens
    assert all(size >= 10 for *_, size in boxes)
    assert all(a[1] <= b[0] for a, b in zip(boxes, boxes[1:]))  # rotated column labels: side by side


def test_both_attention_views_speak_one_visual_language(page, lab, screenshot):
    lab.write_notebook("views.ipynb", [SETUP, "amap", "AttentionView(amap, window=256)"])
    page.set_viewport_size({"width": 1400, "height": 1400})
    open_notebook(page, lab, "views.ipynb")
    run_all_cells(page, timeout=240_000)
    facts = page.locator(".jp-OutputArea-output").first.inner_text()
    assert facts.startswith("(207, ")

    renderer, widget = page.locator(RENDERER).first, page.locator(WIDGET).first
    renderer.locator(".jp-LLMAttention-token").first.wait_for()
    widget.locator(".jlav-tok").first.wait_for()

    # Hover the same token in each: its status line shows, worded and quoted alike.
    renderer.locator('.jp-LLMAttention-token[data-index="150"]').hover()
    said = renderer.locator(".jp-LLMAttention-status").inner_text()
    widget.locator(".jlav-tok.t150").hover()
    shown = [s for s in widget.locator(".jlav-st").all() if s.is_visible()]
    assert len(shown) == 1
    assert said.startswith('Token #150 "') and shown[0].inner_text().startswith('Token #150 "')
    assert said.split(":")[0] == shown[0].inner_text().split(":")[0]
    first = re.search(r'attended most to: ("[^"]*" \(#\d+\))', said).group(1)
    assert first in shown[0].inner_text()  # the same token comes first in both

    # One colour, one scale: each row on its own, its largest weight at full colour (80 %).
    widget_shades = _shades(page, f"{WIDGET} .jlav-tok")
    renderer.locator('.jp-LLMAttention-token[data-index="150"]').hover()
    renderer_shades = _shades(page, f"{RENDERER} .jp-LLMAttention-token")
    assert _rgb(widget_shades) == _rgb(renderer_shades) and len(_rgb(widget_shades)) == 1
    assert max(c[3] for c in widget_shades) == max(c[3] for c in renderer_shades) == 0.8
    alphas = [c[3] for c in renderer_shades]
    assert min(alphas) < 0.2 and len({round(a, 1) for a in alphas}) >= 5  # flat weights, yet structure shows
    for legend in (renderer.locator(".jp-LLMAttention-legend"), widget.locator(".jlav-caption")):
        assert "each row scaled on its own" in legend.inner_text()

    # The heatmaps' labels thin out past ~50 tokens instead of piling up.
    _labels_do_not_overlap(page, f"{RENDERER} .jp-LLMAttention-axisLabel.jp-mod-column", 207)
    _labels_do_not_overlap(page, f"{WIDGET} .jlav-col", 207)

    renderer.locator('.jp-LLMAttention-token[data-index="150"]').hover()
    screenshot(page, "attention_same_text_renderer", renderer)
    widget.locator(".jlav-tok.t150").hover()
    screenshot(page, "attention_same_text_widget", widget)
