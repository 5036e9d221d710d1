"""The panels' look: one style sheet over JupyterLab's CSS variables, and small formatters.

Every colour is a ``var(--jp-...)`` with a fallback, so the panels follow the
light and dark themes in JupyterLab and Notebook 7 and still look right in
front ends without those variables (VS Code). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets

#: Colours of the loss curves (training, validation).
TRAIN_COLOR = "var(--jp-brand-color1, #1976d2)"
VAL_COLOR = "var(--jp-warn-color1, #ef6c00)"
EARLIER_COLOR = "var(--jp-ui-font-color3, #9e9e9e)"  # earlier runs, behind the current one

CSS = """
.jl-panel {
  border: 1px solid var(--jp-border-color2, #d0d0d0);
  border-radius: 6px;
  padding: 8px 12px 10px 12px;
  background: var(--jp-layout-color1, #fff);
  color: var(--jp-ui-font-color1, #222);
  max-width: 1180px;
  box-sizing: border-box;
}
.jl-panel .jl-header { align-items: center; border-bottom: 1px solid var(--jp-border-color2, #ddd);
  padding-bottom: 4px; margin-bottom: 4px; }
.jl-title { font-weight: 600; font-size: var(--jp-ui-font-size2, 14px); color: var(--jp-ui-font-color0, #000); }
.jl-panel .widget-html-content { line-height: 1.4; }
.jl-section-label { font-size: 10px; font-weight: 600; letter-spacing: .06em; text-transform: uppercase;
  color: var(--jp-ui-font-color2, #666); min-width: 58px; width: 58px; }
.jl-panel .jl-section-label .widget-html-content { line-height: var(--jp-widgets-inline-height, 28px); }
.jl-panel .jl-row { border-top: 1px solid transparent; }
.jl-row { align-items: center; }
.jl-note, .jl-note .widget-html-content { font-size: var(--jp-ui-font-size0, 11px); color: var(--jp-ui-font-color2, #666);
  line-height: 1.4; }
.jl-status, .jl-status .widget-html-content { font-size: var(--jp-ui-font-size1, 13px); line-height: 1.4; }
.jl-error { color: var(--jp-error-color1, #d32f2f); }
.jl-error details { color: var(--jp-ui-font-color2, #666); }
.jl-error pre { font-size: 11px; max-height: 200px; overflow: auto; }
.jl-ok { color: var(--jp-success-color1, #388e3c); }
.jl-warn { color: var(--jp-warn-color1, #ef6c00); }
.jl-text { white-space: pre-wrap; word-break: break-word; margin: 0; padding: 8px 10px;
  font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 13px);
  line-height: var(--jp-code-line-height, 1.4); color: var(--jp-content-font-color1, #222);
  background: var(--jp-layout-color2, #f5f5f5); border: 1px solid var(--jp-border-color2, #ddd);
  border-radius: 4px; max-height: 320px; overflow: auto; }
.jl-text .jl-prompt { color: var(--jp-ui-font-color2, #777); }
.jl-text .jl-gen { color: var(--jp-content-font-color0, #000); }
.jl-text.jl-empty { color: var(--jp-ui-font-color3, #999); font-style: italic; }
.jl-sample-title { font-size: 11px; color: var(--jp-ui-font-color2, #666); margin: 4px 0 2px 0; }
.jl-sizes { border-collapse: collapse; font-size: var(--jp-ui-font-size1, 12px); }
.jl-sizes td, .jl-sizes th { padding: 1px 8px 1px 0; text-align: left; white-space: nowrap; }
.jl-sizes th { font-weight: 600; color: var(--jp-ui-font-color2, #666); font-size: 10px; text-transform: uppercase; }
.jl-sizes tr.jl-chosen td { color: var(--jp-ui-font-color0, #000); font-weight: 600; }
.jl-sizes td.jl-num { text-align: right; }
.jl-summary table { border-collapse: collapse; font-size: var(--jp-ui-font-size1, 12px); }
.jl-summary td { padding: 1px 12px 1px 0; }
.jl-summary td:first-child { color: var(--jp-ui-font-color2, #666); white-space: nowrap; }
.jl-chart svg { display: block; }
.jl-panel .widget-progress { margin: 2px 0; }
.jl-panel .jl-progress-text { font-variant-numeric: tabular-nums; }
.jl-panel .jl-copy-widget .widget-html-content { display: flex; align-items: center; }
.jl-copy button { height: var(--jp-widgets-inline-height, 28px); padding: 0 10px; margin: 0; cursor: pointer;
  border: none; border-radius: 0; font-size: var(--jp-widgets-font-size, 13px);
  color: var(--jp-ui-font-color1, #222); background: var(--jp-layout-color2, #eee);
  font-family: var(--jp-ui-font-family, sans-serif); }
.jl-copy button:hover:enabled { box-shadow: 0 2px 2px 0 rgba(0,0,0,.14), 0 3px 1px -2px rgba(0,0,0,.2), 0 1px 5px 0 rgba(0,0,0,.12); }
.jl-copy button:disabled { opacity: .6; cursor: default; }
.jl-copy textarea { display: none; }
"""


def style_widget() -> widgets.HTML:
    """A hidden widget that carries the style sheet (a ``<style>`` applies wherever it sits)."""
    w = widgets.HTML(f"<style>{CSS}</style>", layout=widgets.Layout(display="none"))
    return w


def esc(text: object) -> str:
    """``html.escape`` for text and attribute values alike."""
    return html.escape(str(text), quote=True)


def section(label: str, *children: widgets.Widget, align: str = "center") -> widgets.HBox:
    """A row with a small uppercase label in front: ``DATA  [controls ...]``."""
    head = widgets.HTML(f"<span>{esc(label)}</span>")
    head.add_class("jl-section-label")
    row = widgets.HBox([head, *children], layout=widgets.Layout(align_items=align, flex_flow="row wrap"))
    row.add_class("jl-row")
    return row


def error_html(error: BaseException, details: str | None = None) -> str:
    """One sentence for a user's mistake; unexpected errors also carry their traceback, folded."""
    text = f'<div class="jl-error">{esc(message(error))}'
    if details:
        text += f"<details><summary>Details</summary><pre>{esc(details)}</pre></details>"
    return text + "</div>"


def message(error: BaseException) -> str:
    from ..errors import JupyterLLMError

    if isinstance(error, JupyterLLMError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def fmt_duration(seconds: float | None) -> str:
    """``"42 s"``, ``"3:07"``, ``"1 h 05 min"``; ``"–"`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 9.5 else f"{seconds:.1f} s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m}:{s:02d} min"
    h, rest = divmod(int(round(seconds)), 3600)
    return f"{h} h {rest // 60:02d} min"


def fmt_count(n: float | None) -> str:
    """``"950"``, ``"32.6k"``, ``"2.76M"``."""
    if n is None:
        return "–"
    n = float(n)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.3g}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return f"{n:.0f}"
