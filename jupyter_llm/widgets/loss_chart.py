"""Loss curves as a small inline SVG: no plotting library, themed by CSS variables.

>>> svg = loss_chart_svg([(1, 4.2), (2, 3.9), (3, 3.1)], [(3, 3.3)])
>>> svg.startswith("<svg") and "polyline" in svg
True
"""

from __future__ import annotations

import math
from typing import Sequence

from ._theme import EARLIER_COLOR, TRAIN_COLOR, VAL_COLOR, esc

#: At most this many points are drawn per curve (longer runs are averaged into buckets).
MAX_POINTS = 300

Point = tuple[float, float]
#: An earlier run drawn behind the current one: ``(label, training points, validation points)``.
Earlier = tuple[str, Sequence[Point], Sequence[Point]]


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """Average consecutive points into at most ``limit`` buckets (the last point is kept exact)."""
    points = [(float(x), float(y)) for x, y in points if y is not None and math.isfinite(y)]
    if len(points) <= limit:
        return points
    size = len(points) / limit
    out = []
    for b in range(limit):
        bucket = points[int(b * size): max(int((b + 1) * size), int(b * size) + 1)]
        out.append((bucket[-1][0], sum(y for _, y in bucket) / len(bucket)))
    out[-1] = points[-1]
    return out


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round numbers between ``lo`` and ``hi``."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=10 * mag)
    first = math.ceil(lo / step) * step
    out = []
    v = first
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def loss_chart_svg(train: Sequence[Point], val: Sequence[Point] = (), *, width: int = 460, height: int = 170,
                   x_label: str = "step", title: str = "loss (nats/token)", train_label: str = "training",
                   earlier: Sequence[Earlier] = ()) -> str:
    """The training and validation loss against ``x`` (the step) as an SVG string.

    Args:
        train: ``(step, loss)`` pairs, one per training step.
        val: ``(step, val_loss)`` pairs, one per epoch.
        earlier: earlier runs to compare with, drawn muted and dashed behind
            the current one, each named by its label on hover.
    """
    tr = downsample(train)
    va = downsample(val)
    before = [(label, downsample(t), downsample(v)) for label, t, v in earlier]
    before = [(label, t, v) for label, t, v in before if t or v]
    legend = [("validation", VAL_COLOR)] if va else []
    legend = [(train_label, TRAIN_COLOR)] + legend
    if before:
        legend.append((f"earlier run{'s' if len(before) > 1 else ''} ({len(before)})", EARLIER_COLOR))
    widths = [int(5.6 * len(name)) + 26 for name, _ in legend]
    left, right, top, bottom = 44, 10, 20, 24
    pw = width - left - right
    # The legend goes right of the title when both fit on the first line, else on a line of its own.
    crowded = left + int(6.2 * len(title)) + 12 + sum(widths) > left + pw
    legend_y = 24 if crowded else 10
    top += 14 if crowded else 0
    ph = height - top - bottom
    text_style = "fill:var(--jp-ui-font-color2,#666);font:10px var(--jp-ui-font-family,sans-serif)"
    grid_style = "stroke:var(--jp-border-color2,#ddd);stroke-width:1"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="jl-loss-chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">']
    legend_x = left + pw
    for (name, color), label_w in zip(reversed(legend), reversed(widths)):
        legend_x -= label_w
        out.append(f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 14}" y2="{legend_y}" '
                   f'style="stroke:{color};stroke-width:2"/>'
                   f'<text x="{legend_x + 18}" y="{legend_y + 3}" style="{text_style}">{esc(name)}</text>')
    out.append(f'<text x="{left}" y="13" style="{text_style};font-weight:600">{esc(title)}</text>')
    if not tr and not va and not before:
        out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" style="fill:none;{grid_style}"/>'
                   f'<text x="{left + pw / 2}" y="{top + ph / 2 + 4}" text-anchor="middle" style="{text_style}">'
                   "the loss curves appear after the first steps</text></svg>")
        return "".join(out)
    everything = tr + va + [p for _, t, v in before for p in (*t, *v)]
    xs = [x for x, _ in everything]
    ys = [y for _, y in everything]
    x0, x1 = min(min(xs), 0.0), max(xs)
    if x1 <= x0:
        x1 = x0 + 1
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or max(abs(y1) * 0.05, 0.05)
    y0, y1 = max(0.0, y0 - pad), y1 + pad

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    for t in _ticks(y0, y1):
        y = sy(t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" style="{grid_style}"/>'
                   f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" style="{text_style}">{_fmt(t)}</text>')
    for t in _ticks(x0, x1, 5):
        x = sx(t)
        out.append(f'<text x="{x:.1f}" y="{top + ph + 13}" text-anchor="middle" style="{text_style}">{_fmt(t)}</text>')
    out.append(f'<text x="{left + pw}" y="{height - 1}" text-anchor="end" style="{text_style}">{esc(x_label)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" style="fill:none;{grid_style}"/>')
    for label, t, v in before:
        out.append(f'<g class="jl-earlier-run"><title>{esc(label)}</title>')
        if len(t) > 1:
            pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in t)
            out.append(f'<polyline points="{pts}" style="fill:none;stroke:{EARLIER_COLOR};stroke-width:1;'
                       f'stroke-dasharray:4 3;opacity:.8"/>')
        if len(v) > 1:
            pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in v)
            out.append(f'<polyline points="{pts}" style="fill:none;stroke:{EARLIER_COLOR};stroke-width:1.5"/>')
        for x, y in v:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" style="fill:{EARLIER_COLOR}"/>')
        out.append("</g>")
    if tr:
        pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in tr)
        out.append(f'<polyline class="jl-train-curve" points="{pts}" '
                   f'style="fill:none;stroke:{TRAIN_COLOR};stroke-width:1.5;stroke-linejoin:round"/>')
    if va:
        pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in va)
        if len(va) > 1:
            out.append(f'<polyline class="jl-val-curve" points="{pts}" '
                       f'style="fill:none;stroke:{VAL_COLOR};stroke-width:2"/>')
        for x, y in va:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" style="fill:{VAL_COLOR}">'
                       f"<title>validation loss {y:.3f} at step {x:.0f}</title></circle>")
    out.append("</svg>")
    return "".join(out)
