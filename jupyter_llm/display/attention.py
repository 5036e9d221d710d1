"""The attention map of a text: tokens and a causal weight matrix, and how it displays.

An :class:`AttentionMap` shows in any Jupyter front end: JupyterLab with the
jupyter_llm extension draws ``application/vnd.jupyter-llm.attention+json``
interactively; everything else (Notebook, VS Code, GitHub, nbviewer) shows the
static ``text/html`` heatmap, which holds no script; a terminal gets text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIME_TYPE = "application/vnd.jupyter-llm.attention+json"
SCHEMA_VERSION = 1
#: The static HTML shows at most this many tokens (the JSON carries them all).
HTML_MAX_TOKENS = 120


@dataclass
class AttentionMap:
    """Which earlier tokens each token attended to.

    Attributes:
        tokens: the display strings of the T tokens.
        weights: ``(T, T)`` float array; row ``t`` is the attention of token
            ``t`` over tokens ``0..t``: rows sum to 1, zero above the diagonal.
        prompt_length: how many of the tokens were given (the rest were generated).
        layer: the name of the attention layer.
        meta: free-form provenance (model name, fingerprint, ...).
    """

    tokens: list[str]
    weights: np.ndarray
    prompt_length: int | None = None
    layer: str = "attention"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float32)
        t = len(self.tokens)
        if self.weights.shape != (t, t):
            raise ValueError(
                f"Invalid value for argument weights. Expected shape ({t}, {t}) for {t} tokens. "
                f"Received: weights.shape={self.weights.shape}"
            )

    def __len__(self) -> int:
        return len(self.tokens)

    def top(self, index: int, k: int = 5) -> list[tuple[int, str, float]]:
        """The k tokens that token ``index`` attended to most: ``(position, token, weight)``."""
        row = self.weights[index]
        order = np.argsort(-row, kind="stable")[:k]
        return [(int(i), self.tokens[i], float(row[i])) for i in order if row[i] > 0]

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload of the custom mime type (weights rounded to 4 places)."""
        return {
            "version": SCHEMA_VERSION,
            "tokens": list(self.tokens),
            "layers": [
                {"name": self.layer, "weights": np.round(self.weights.astype(np.float64), 4).tolist()}
            ],
            "prompt_length": self.prompt_length,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AttentionMap":
        layer = data["layers"][0]
        return cls(list(data["tokens"]), np.asarray(layer["weights"]), data.get("prompt_length"),
                   layer.get("name", "attention"), dict(data.get("meta") or {}))

    # === Display ===

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {
            MIME_TYPE: self.to_dict(),
            "text/html": self.to_html(),
            "text/plain": self.to_text(),
        }

    def to_text(self, k: int = 3) -> str:
        lines = [f"AttentionMap: {len(self)} tokens, layer '{self.layer}'"]
        shown = range(len(self)) if len(self) <= 12 else list(range(6)) + list(range(len(self) - 6, len(self)))
        for i in shown:
            tops = ", ".join(f"{_show(tok)}@{pos}:{w:.2f}" for pos, tok, w in self.top(i, k))
            lines.append(f"  {i:>4} {_show(self.tokens[i]):<8} -> {tops}")
            if len(self) > 12 and i == 5:
                lines.append("   ...")
        return "\n".join(lines)

    def to_html(self) -> str:
        """A static heatmap and the tokens shaded by the attention of the last token.

        Pure HTML with inline styles: no script, every token escaped.
        """
        t = min(len(self), HTML_MAX_TOKENS)
        start = len(self) - t
        w = self.weights[start:, start:]
        cell = 14 if t <= 40 else 8 if t <= 80 else 5
        last = w[-1] / (w[-1].max() or 1.0)
        text = "".join(
            f'<span title="{html.escape(repr(tok), quote=True)}: {self.weights[-1, start + i]:.3f}" '
            f'style="background:rgba(255,140,0,{last[i]:.2f});white-space:pre-wrap">{html.escape(tok)}</span>'
            for i, tok in enumerate(self.tokens[start:])
        )
        rows = []
        for i in range(t):
            peak = w[i].max() or 1.0
            cells = "".join(
                f'<td style="width:{cell}px;height:{cell}px;padding:0;background:rgba(31,119,180,{v / peak:.2f})"></td>'
                for v in w[i]
            )
            label = html.escape(_show(self.tokens[start + i]))
            rows.append(f'<tr><th style="font:10px monospace;text-align:right;padding:0 4px">{label}</th>{cells}</tr>')
        note = f"the last {t} of {len(self)} tokens" if start else f"{t} tokens"
        return (
            '<div class="jupyter-llm-attention-static" style="font-family:var(--jp-content-font-family,sans-serif)">'
            f'<div style="font-size:12px;opacity:.7">Attention ({html.escape(self.layer)}), {note}; '
            "orange: what the last token attended to; grid: row attends to column.</div>"
            f'<div style="margin:6px 0;line-height:1.6;font-family:monospace">{text}</div>'
            f'<table style="border-collapse:collapse;border-spacing:0">{"".join(rows)}</table></div>'
        )


def _show(token: str) -> str:
    return token.replace("\n", "\\n").replace("\t", "\\t") if token.strip() else repr(token)[1:-1] or "''"
