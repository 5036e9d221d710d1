"""Inline SVG charts: bars and a time line. Plain SVG, every label escaped, no script.

>>> svg = bar_chart([("a", 1.0), ("b", 2.5)], title="scores")
>>> svg.startswith("<svg") and "scores" in svg
True
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence

__all__ = ["bar_chart", "line_chart"]

_FONT = 'font-family="sans-serif" font-size="11"'
#: Bars shown at most; the rest are summarised in the title.
MAX_BARS = 30


def _fmt(v: float) -> str:
    if v == 0 or 0.01 <= abs(v) < 1e6:
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def bar_chart(items: Sequence[tuple[str, float]], title: str = "", width: int = 460, color: str = "#1f77b4",
              highlight: str | None = None) -> str:
    """Horizontal bars, one per ``(label, value)``; negative values go left of the axis."""
    items = [(str(k), float(v)) for k, v in items if v is not None and not math.isnan(float(v))][:MAX_BARS]
    row, label_w, top = 20, 150, 22 if title else 6
    height = top + row * len(items) + 6
    lo = min([0.0] + [v for _, v in items])
    hi = max([0.0] + [v for _, v in items])
    span = (hi - lo) or 1.0
    plot_w = width - label_w - 70
    zero = label_w + (0 - lo) / span * plot_w
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    if title:
        parts.append(f'<text x="4" y="14" {_FONT} font-weight="bold">{html.escape(title)}</text>')
    for i, (label, v) in enumerate(items):
        y = top + i * row
        x0 = zero if v >= 0 else zero - (-v) / span * plot_w
        w = abs(v) / span * plot_w
        fill = "#ff7f0e" if highlight is not None and label == highlight else color
        shown = label if len(label) <= 22 else label[:21] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" {_FONT}>{html.escape(shown)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 6}" fill="{fill}"/>')
        parts.append(f'<text x="{max(x0 + w, zero) + 4:.1f}" y="{y + 14}" {_FONT}>{_fmt(v)}</text>')
    parts.append(f'<line x1="{zero:.1f}" y1="{top}" x2="{zero:.1f}" y2="{height - 4}" stroke="#888"/></svg>')
    return "".join(parts)


def line_chart(points: Sequence[tuple[dt.datetime, float]], title: str = "", width: int = 460, height: int = 180,
               lo: float = -1.0, hi: float = 1.0) -> str:
    """Values over time as dots joined by a line, with a zero line (for the mood journal)."""
    left, right, top, bottom = 36, 10, 22 if title else 8, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    if title:
        parts.append(f'<text x="4" y="14" {_FONT} font-weight="bold">{html.escape(title)}</text>')

    def y_of(v: float) -> float:
        return top + (hi - v) / ((hi - lo) or 1.0) * plot_h

    for v in (hi, 0.0, lo):
        parts.append(f'<line x1="{left}" y1="{y_of(v):.1f}" x2="{width - right}" y2="{y_of(v):.1f}" '
                     f'stroke="#ccc" stroke-dasharray="{"0" if v == 0 else "3,3"}"/>')
        parts.append(f'<text x="{left - 4}" y="{y_of(v) + 4:.1f}" text-anchor="end" {_FONT}>{_fmt(v)}</text>')
    if points:
        t0 = points[0][0].timestamp()
        t1 = points[-1][0].timestamp()
        span = (t1 - t0) or 1.0
        xy = [(left + ((t.timestamp() - t0) / span if len(points) > 1 else 0.5) * plot_w, y_of(max(lo, min(hi, v))))
              for t, v in points]
        parts.append('<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
        for (x, y), (t, v) in zip(xy, points):
            color = "#2ca02c" if v > 0.15 else "#d62728" if v < -0.15 else "#7f7f7f"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}">'
                         f'<title>{html.escape(t.strftime("%Y-%m-%d %H:%M"))}: {v:+.2f}</title></circle>')
        parts.append(f'<text x="{left}" y="{height - 6}" {_FONT}>{html.escape(points[0][0].strftime("%d %b"))}</text>')
        parts.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end" {_FONT}>'
                     f'{html.escape(points[-1][0].strftime("%d %b"))}</text>')
    parts.append("</svg>")
    return "".join(parts)
