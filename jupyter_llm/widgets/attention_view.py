"""``AttentionView``: what each token attended to, as shaded running text and a heatmap.

The view is plain ipywidgets and HTML with a style sheet, no script, so it works
in JupyterLab, Notebook 7 and VS Code alike:

* hovering a token shades the tokens it attended to (darker = more weight),
  marks its row in the heatmap and shows its status line; clicking a token
  pins it (CSS ``:has()`` and a hidden radio button per token do this in the
  browser, without a round trip);
* it speaks the visual language of the JupyterLab renderer of
  ``AttentionMap`` (labextension/src/attention.ts): the theme's brand colour,
  each row scaled on its own between its smallest and largest weight
  (:func:`row_scale`, said in the legend), the shown token underlined, tokens
  quoted as JSON, heatmap labels that thin out to stay 14 px apart;
* the *Token* slider selects a token from Python and moves the window shown, so
  texts of a few thousand tokens stay readable: only ``window`` tokens around
  the selected one are drawn;
* every token is HTML-escaped.

>>> view = AttentionView(lm.attention("To be, or not to be"))    # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..display.attention import AttentionMap
from ._png import png_data_uri
from ._theme import esc, style_widget

#: Colour of the shading and of the heatmap cells: JupyterLab's brand colour (its light theme's value
#: in the heatmap image; the shading follows the theme).
BRAND = (25, 118, 210)
#: The shading of a token at ``pct`` percent of its row's scale, as in the JupyterLab renderer.
SHADE = "color-mix(in srgb, var(--jp-brand-color1, #1976d2) {pct}%, transparent)"
#: The most colour a cell or token gets (the full scale): the text stays readable on it.
SHADE_MAX = 0.8
#: What the colours mean, in the legend (the renderer says the same).
SCALE_LEGEND = "each row scaled on its own: no colour = the row's smallest weight, full colour = its largest"
WINDOWS = (64, 128, 256, 512)
HEATMAP_PX = 260
#: Room for the heatmap's axis labels, and the least distance between two labels (CSS pixels).
LABEL_ROOM = 56
LABEL_SPACING = 14

_ids = itertools.count()

_CSS = """
.jlav { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.jlav-left { flex: 1 1 380px; min-width: 280px; }
.jlav-text { height: 262px; box-sizing: border-box; overflow: auto; white-space: pre-wrap; word-break: break-word;
  font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 13px); line-height: 1.75;
  padding: 6px 8px; border: 1px solid var(--jp-border-color2, #ddd); border-radius: 4px;
  background: var(--jp-layout-color1, #fff); color: var(--jp-content-font-color0, #000); }
.jlav input { display: none; }
.jlav-tok { cursor: pointer; border-radius: 2px; }
.jlav-tok.jlav-p { color: var(--jp-ui-font-color2, #666); }
.jlav-tok:hover, .jlav:not(:has(.jlav-tok:hover)) input:checked + .jlav-tok {
  box-shadow: inset 0 -2px 0 var(--jp-warn-color1, #f57c00); }
.jlav-st { display: none; margin: 4px 0 0; min-height: 1.4em; font-size: var(--jp-ui-font-size1, 13px);
  color: var(--jp-ui-font-color2, #666); }
.jlav-more { color: var(--jp-ui-font-color3, #999); font-style: italic; }
.jlav-map { position: relative; flex: 0 0 auto; border: 1px solid var(--jp-border-color2, #ddd);
  background: var(--jp-layout-color1, #fff); }
.jlav-map img { display: block; width: 100%; height: 100%; image-rendering: pixelated; }
.jlav-hr { position: absolute; left: 0; right: 0; min-height: 1px; display: none;
  outline: 1.5px solid var(--jp-warn-color1, #f57c00); }
.jlav-grid { position: relative; padding: 56px 0 0 56px; }
.jlav-axis { position: absolute; font-family: var(--jp-code-font-family, monospace); font-size: 10px; line-height: 1;
  white-space: pre; color: var(--jp-ui-font-color2, #666); pointer-events: none; }
.jlav-axis.jlav-row { right: calc(100% - 52px); transform: translateY(-50%); }
.jlav-axis.jlav-col { top: 52px; transform-origin: left top; transform: rotate(-90deg) translateY(-50%); }
.jlav-caption { font-size: 11px; line-height: 1.35; color: var(--jp-ui-font-color2, #666); margin-top: 3px;
  max-width: 318px; }
.jlav-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px;
  vertical-align: -1px; background: var(--jp-brand-color1, #1976d2); }
"""


def window_bounds(length: int, selected: int, window: int) -> tuple[int, int]:
    """The tokens ``[start, end)`` shown around ``selected``: mostly the context before it."""
    if length <= window:
        return 0, length
    start = min(max(0, selected - (3 * window) // 4), length - window)
    return start, start + window


def show_token(token: str) -> str:
    """A token as running text: line breaks and tabs stay visible, an empty token shows as ∅."""
    if token == "":
        return "∅"
    return token.replace("\n", "↵\n").replace("\t", "→\t")


def row_scale(row: np.ndarray) -> np.ndarray:
    """How strongly to colour each weight of ``row``, in [0, 1]: the row scaled between its own extremes.

    Attention over a long text is flat (the largest weight of a 200-token row is
    about 0.02); scaling each row from its smallest weight (0) to its largest (1)
    shows its structure. A row of equal weights is all 1. The JupyterLab renderer
    scales the same way (``rowScale`` in labextension/src/attentionData.ts).
    """
    row = np.asarray(row, dtype=np.float64)
    if row.size == 0:
        return row
    low, high = float(row.min()), float(row.max())
    if high - low <= 1e-12:
        return np.ones_like(row)
    return (row - low) / (high - low)


def _label(token: str) -> str:
    """A token quoted as JSON (double quotes), as the JupyterLab renderer quotes it."""
    return json.dumps(token, ensure_ascii=False)


def status_line(amap: AttentionMap, i: int) -> str:
    """What token ``i`` attended to most, as the renderer's status line says it (plain text)."""
    tops = ", ".join(f"{_label(t)} (#{pos}) {w:.2f}" for pos, t, w in amap.top(i, 3))
    return f"Token #{i} {_label(amap.tokens[i])} attended most to: {tops or 'nothing'}"


class AttentionView(widgets.VBox):
    """An interactive view of an :class:`~jupyter_llm.AttentionMap`.

    Args:
        attention: an AttentionMap (or its ``to_dict()`` payload): T tokens and
            weights ``(T, T)``, row ``t`` being what token ``t`` attended to.
        selected: the token selected first (default: the last one).
        window: how many tokens are drawn around the selected one (64 to 512).
        top_k: how many attended tokens are shaded per token.
    """

    def __init__(self, attention: AttentionMap | dict[str, Any], *, selected: int | None = None,
                 window: int = 128, top_k: int = 8) -> None:
        if isinstance(attention, dict):
            attention = AttentionMap.from_dict(attention)
        if not isinstance(attention, AttentionMap):
            raise TypeError(f"Invalid value for argument attention. Expected an AttentionMap. "
                            f"Received: attention={type(attention).__name__}")
        self.attention = attention
        self.top_k = int(top_k)
        self._uid = f"jlav{next(_ids)}"
        n = len(attention)
        last = max(n - 1, 0)
        if selected is None:
            selected = last
        if window not in WINDOWS:
            window = min(WINDOWS, key=lambda w: abs(w - window))

        # === Controls ===
        self.token = widgets.IntSlider(
            value=min(max(int(selected), 0), last), min=0, max=last, description="Token",
            continuous_update=False, tooltip="Select a token: its attention is shaded and the window follows it",
            layout=widgets.Layout(width="420px"), style={"description_width": "48px"},
        )
        self.window = widgets.Dropdown(
            options=[(f"{w} tokens", w) for w in WINDOWS], value=window, description="Window",
            tooltip="How many tokens around the selected one are drawn",
            layout=widgets.Layout(width="170px"), style={"description_width": "56px"},
        )
        self.header = widgets.HTML()
        self.header.add_class("jl-note")
        self.body = widgets.HTML()
        self.token.observe(self._on_change, names="value")
        self.window.observe(self._on_change, names="value")
        controls = widgets.HBox([self.token, self.window], layout=widgets.Layout(align_items="center"))
        super().__init__([style_widget(), self.header, controls, self.body])
        self.add_class("jl-attention-view")
        self._render()

    @classmethod
    def from_model(cls, model: Any, text: str, **kwargs: Any) -> "AttentionView":
        """The view of ``model.attention(text)``."""
        return cls(model.attention(text), **kwargs)

    @property
    def selected(self) -> int:
        return self.token.value

    @property
    def bounds(self) -> tuple[int, int]:
        """The tokens ``[start, end)`` drawn now."""
        return window_bounds(len(self.attention), self.token.value, self.window.value)

    def _on_change(self, change: dict) -> None:
        self._render()

    # === Rendering ===

    def _render(self) -> None:
        amap = self.attention
        n = len(amap)
        if n == 0:
            self.header.value = "No tokens."
            self.body.value = ""
            return
        sel = self.token.value
        start, end = self.bounds
        p = amap.prompt_length
        shown = f"tokens {start:,}–{end - 1:,} of {n:,}" if (start, end) != (0, n) else f"{n:,} tokens"
        prompt = f" (the first {p:,} given, the rest generated)" if p else ""
        layer = "" if amap.layer == "attention" else f" ({esc(amap.layer)})"
        self.header.value = (
            f"Attention{layer}, {shown}{prompt}. Hover a token to shade what it attended to "
            "(darker: more weight); click it to pin it. Move the slider for other parts of the text."
        )
        self.body.value = self._body_html(start, end, sel)

    def _body_html(self, start: int, end: int, sel: int) -> str:
        amap, u = self.attention, self._uid
        w = amap.weights[start:end, start:end]  # (n, n), causal: zero above the diagonal
        count = end - start
        p = amap.prompt_length or 0
        rules = []
        pin = f".{u}:not(:has(.jlav-tok:hover)):has(.r{{i}}:checked)"
        for r in range(count):
            row = w[r, : r + 1]
            peak = float(row.max()) if row.size else 0.0
            i = start + r
            hover, pinned = f".{u}:has(.t{i}:hover)", pin.format(i=i)
            rules.append(f"{hover} .h{i},{pinned} .h{i},{hover} .s{i},{pinned} .s{i}{{display:block}}")
            if peak <= 0:
                continue
            scale = row_scale(row)
            order = np.argsort(-row, kind="stable")[: self.top_k]
            for j in order:
                pct = round(100 * SHADE_MAX * float(scale[j]))
                if pct < 4:
                    break
                shade = "background:" + SHADE.format(pct=pct)
                rules.append(f"{hover} .t{start + j},{pinned} .t{start + j}{{{shade}}}")
        parts = [f"<style>{_CSS}{''.join(rules)}</style>", f'<div class="jlav {u}"><div class="jlav-left">',
                 '<div class="jlav-text">']
        if start:
            parts.append(f'<span class="jlav-more">… {start:,} earlier tokens …\n</span>')
        for i in range(start, end):
            tok = amap.tokens[i]
            tops = ", ".join(f"{_label(t)} {wt:.2f}" for _, t, wt in amap.top(i, 3))
            title = esc(f"#{i} {_label(tok)} → {tops}")
            cls = "jlav-tok jlav-p" if i < p else "jlav-tok"
            checked = " checked" if i == sel else ""
            parts.append(f'<input type="radio" name="{u}" id="{u}-r{i}" class="r{i}"{checked}>'
                         f'<label for="{u}-r{i}" class="{cls} t{i}" title="{title}">{esc(show_token(tok))}</label>')
        if end < len(amap):
            parts.append(f'<span class="jlav-more">\n… {len(amap) - end:,} later tokens</span>')
        parts.append("</div>")
        parts.extend(f'<div class="jlav-st s{i}">{esc(status_line(amap, i))}</div>' for i in range(start, end))
        parts.append("</div>")
        parts.append(self._heatmap_html(w, start, count))
        parts.append("</div>")
        return "".join(parts)

    def _heatmap_html(self, w: np.ndarray, start: int, count: int) -> str:
        alpha = np.zeros_like(w, dtype=np.float64)
        for r in range(count):  # each row scaled on its own, over the tokens it can attend to
            alpha[r, : r + 1] = row_scale(w[r, : r + 1]) * SHADE_MAX
        rgba = np.zeros((count, count, 4), np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = BRAND
        rgba[..., 3] = np.clip(np.round(alpha * 255), 0, 255).astype(np.uint8)
        size = HEATMAP_PX
        rows = "".join(
            f'<div class="jlav-hr h{start + r}" style="top:{r * 100 / count:.3f}%;height:{100 / count:.3f}%"></div>'
            for r in range(count)
        )
        end = start + count - 1
        return (f'<div><div class="jlav-grid">{self._axis_html(start, count)}'
                f'<div class="jlav-map" style="width:{size}px;height:{size}px">'
                f'<img src="{png_data_uri(rgba)}" alt="attention heatmap of tokens {start} to {end}">{rows}</div></div>'
                f'<div class="jlav-caption">Heatmap of tokens {start:,}–{end:,}. Rows: each token; columns: the '
                f'tokens it attended to.<br><span class="jlav-swatch"></span>Colour: {esc(SCALE_LEGEND)}.</div></div>')

    def _axis_html(self, start: int, count: int) -> str:
        """The heatmap's axis labels: one per token while they stay LABEL_SPACING px apart, else every k-th."""
        cell = HEATMAP_PX / max(count, 1)
        every = max(1, int(np.ceil(LABEL_SPACING / cell)))
        labels = []
        for k in range(count):
            if k % every and not (k == count - 1 and k % every >= every / 2):
                continue
            text = esc(_clip(axis_label(self.attention.tokens[start + k])))
            middle = LABEL_ROOM + (k + 0.5) * cell
            labels.append(f'<span class="jlav-axis jlav-row" style="top:{middle:.1f}px">{text}</span>'
                          f'<span class="jlav-axis jlav-col" style="left:{middle:.1f}px">{text}</span>')
        return "".join(labels)


def axis_label(token: str) -> str:
    """A token on an axis, whitespace made visible, as the renderer's ``tokenLabel`` shows it."""
    if token == "":
        return "∅"
    label = token.replace("\n", "↵").replace("\t", "⇥")
    return "·" * len(label) if label.strip(" ") == "" else label


def _clip(text: str, n: int = 8) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
