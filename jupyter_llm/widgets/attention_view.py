"""``AttentionView``: what each token attended to, as shaded running text and a heatmap.

The view is plain ipywidgets and HTML with a style sheet, no script, so it works
in JupyterLab, Notebook 7 and VS Code alike:

* hovering a token shades the tokens it attended to (darker = more weight) and
  marks its row in the heatmap; clicking a token pins it (CSS ``:has()`` and a
  hidden radio button per token do this in the browser, without a round trip);
* the *Token* slider selects a token from Python and moves the window shown, so
  texts of a few thousand tokens stay readable: only ``window`` tokens around
  the selected one are drawn;
* every token is HTML-escaped.

>>> view = AttentionView(lm.attention("To be, or not to be"))    # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..display.attention import AttentionMap
from ._png import png_data_uri
from ._theme import esc, style_widget

#: Colour of the shading of attended tokens (r, g, b), as in the static HTML of AttentionMap.
SHADE = (255, 140, 0)
#: Colour of the heatmap cells.
HEAT = (31, 119, 180)
WINDOWS = (64, 128, 256, 512)
HEATMAP_PX = 260

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
.jlav-tok:hover, .jlav input:checked + .jlav-tok { outline: 2px solid var(--jp-brand-color1, #1976d2); outline-offset: -1px; }
.jlav-more { color: var(--jp-ui-font-color3, #999); font-style: italic; }
.jlav-map { position: relative; flex: 0 0 auto; border: 1px solid var(--jp-border-color2, #ddd);
  background: var(--jp-layout-color1, #fff); }
.jlav-map img { display: block; width: 100%; height: 100%; image-rendering: pixelated; }
.jlav-hr { position: absolute; left: 0; right: 0; min-height: 1px; display: none;
  background: rgba(255, 140, 0, .22); outline: 1px solid rgb(255, 140, 0); }
.jlav-caption { font-size: 11px; line-height: 1.35; color: var(--jp-ui-font-color2, #666); margin-top: 3px;
  max-width: 262px; }
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


def _label(token: str) -> str:
    return repr(token)


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
        self.details = widgets.HTML()
        self.details.add_class("jl-note")
        self.token.observe(self._on_change, names="value")
        self.window.observe(self._on_change, names="value")
        controls = widgets.HBox([self.token, self.window], layout=widgets.Layout(align_items="center"))
        super().__init__([style_widget(), self.header, controls, self.body, self.details])
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
            self.details.value = ""
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
        tops = " · ".join(f"<code>{esc(_label(tok))}</code> #{pos} {w:.2f}" for pos, tok, w in amap.top(sel, 5))
        self.details.value = (f"Token #{sel} <code>{esc(_label(amap.tokens[sel]))}</code> attended most to: "
                              f"{tops or 'nothing'}")

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
            rules.append(f"{hover} .h{i},{pinned} .h{i}{{display:block}}")
            if peak <= 0:
                continue
            order = np.argsort(-row, kind="stable")[: self.top_k]
            for j in order:
                a = float(row[j]) / peak
                if a < 0.05:
                    break
                shade = f"background:rgba({SHADE[0]},{SHADE[1]},{SHADE[2]},{0.12 + 0.73 * a:.2f})"
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
        parts.append("</div></div>")
        parts.append(self._heatmap_html(w, start, count))
        parts.append("</div>")
        return "".join(parts)

    def _heatmap_html(self, w: np.ndarray, start: int, count: int) -> str:
        peak = w.max(axis=1, keepdims=True)
        alpha = np.divide(w, peak, out=np.zeros_like(w), where=peak > 0)
        rgba = np.zeros((count, count, 4), np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = HEAT
        rgba[..., 3] = np.clip(np.round(alpha * 255), 0, 255).astype(np.uint8)
        size = HEATMAP_PX
        rows = "".join(
            f'<div class="jlav-hr h{start + r}" style="top:{r * 100 / count:.3f}%;height:{100 / count:.3f}%"></div>'
            for r in range(count)
        )
        end = start + count - 1
        return (f'<div><div class="jlav-map" style="width:{size}px;height:{size}px">'
                f'<img src="{png_data_uri(rgba)}" alt="attention heatmap of tokens {start} to {end}">{rows}</div>'
                f'<div class="jlav-caption">Heatmap of tokens {start:,}–{end:,}: row = token, column = the '
                "earlier token it attends to (each row scaled to its largest weight).</div></div>")
