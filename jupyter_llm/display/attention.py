"""How an :class:`AttentionMap` displays: its mime bundle, static HTML heatmap and text.

An :class:`AttentionMap` shows in any Jupyter front end: JupyterLab with the
jupyter_llm extension draws ``application/vnd.jupyter-llm.attention+json``
interactively; everything else (Notebook, VS Code, GitHub, nbviewer) shows the
static ``text/html`` heatmap, which holds no script; a terminal gets text.

The map itself is a core data type, :class:`jupyter_llm.model.attention.AttentionMap`
(re-exported here); its display methods call the functions of this module
through the hook the package root registers (#11: the core never imports display).
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..model.attention import SCHEMA_VERSION, AttentionMap

__all__ = ["AttentionMap", "MIME_TYPE", "SCHEMA_VERSION", "HTML_MAX_TOKENS", "mime_bundle", "to_html", "to_text"]

MIME_TYPE = "application/vnd.jupyter-llm.attention+json"
#: The static HTML shows at most this many tokens (the JSON carries them all).
HTML_MAX_TOKENS = 120
#: The colour of the shading (r, g, b): JupyterLab's brand blue, as in the renderer and the AttentionView.
BRAND = "25,118,210"


def mime_bundle(amap: AttentionMap) -> dict[str, Any]:
    """The custom mime type with ``text/html`` and ``text/plain`` fallbacks."""
    return {
        MIME_TYPE: amap.to_dict(),
        "text/html": to_html(amap),
        "text/plain": to_text(amap),
    }


def to_text(amap: AttentionMap, k: int = 3) -> str:
    """For each token, the k tokens it attended to most (the first and last 6 of a long map)."""
    lines = [f"AttentionMap: {len(amap)} tokens, layer '{amap.layer}'"]
    shown = range(len(amap)) if len(amap) <= 12 else list(range(6)) + list(range(len(amap) - 6, len(amap)))
    for i in shown:
        tops = ", ".join(f"{_show(tok)}@{pos}:{w:.2f}" for pos, tok, w in amap.top(i, k))
        lines.append(f"  {i:>4} {_show(amap.tokens[i]):<8} -> {tops}")
        if len(amap) > 12 and i == 5:
            lines.append("   ...")
    return "\n".join(lines)


def to_html(amap: AttentionMap) -> str:
    """A static heatmap and the tokens shaded by the attention of the last token.

    Pure HTML with inline styles: no script, every token escaped.
    """
    t = min(len(amap), HTML_MAX_TOKENS)
    start = len(amap) - t
    w = amap.weights[start:, start:]
    cell = 14 if t <= 40 else 8 if t <= 80 else 5
    last = _row_scale(w[-1])
    text = "".join(
        f'<span title="{html.escape(json.dumps(tok, ensure_ascii=False), quote=True)}: '
        f'{amap.weights[-1, start + i]:.3f}" '
        f'style="background:rgba({BRAND},{0.8 * last[i]:.2f});white-space:pre-wrap">{html.escape(tok)}</span>'
        for i, tok in enumerate(amap.tokens[start:])
    )
    rows = []
    for i in range(t):
        scale = _row_scale(w[i, : i + 1])
        cells = "".join(
            f'<td style="width:{cell}px;height:{cell}px;padding:0;background:rgba({BRAND},{0.8 * v:.2f})"></td>'
            for v in scale
        ) + "<td></td>" * (t - i - 1)
        label = html.escape(_show(amap.tokens[start + i]))
        rows.append(f'<tr><th style="font:10px monospace;text-align:right;padding:0 4px">{label}</th>{cells}</tr>')
    note = f"the last {t} of {len(amap)} tokens" if start else f"{t} tokens"
    return (
        '<div class="jupyter-llm-attention-static" style="font-family:var(--jp-content-font-family,sans-serif)">'
        f'<div style="font-size:12px;opacity:.7">Attention ({html.escape(amap.layer)}), {note}; '
        "shaded: what the last token attended to; grid: row attends to column; colour: each row scaled "
        "on its own, from its smallest weight (none) to its largest (full).</div>"
        f'<div style="margin:6px 0;line-height:1.6;font-family:monospace">{text}</div>'
        f'<table style="border-collapse:collapse;border-spacing:0">{"".join(rows)}</table></div>'
    )


def _row_scale(row: Any) -> list[float]:
    """Each weight of ``row`` in [0, 1], between the row's smallest and largest (all 1 when flat)."""
    low, high = float(min(row)), float(max(row))
    return [1.0 if high - low <= 1e-12 else (float(v) - low) / (high - low) for v in row]


def _show(token: str) -> str:
    return token.replace("\n", "\\n").replace("\t", "\\t") if token.strip() else repr(token)[1:-1] or "''"
