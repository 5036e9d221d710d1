"""The attention map of a text: its tokens and a causal weight matrix (a core data type).

Its renderings (the mime bundle, the static HTML heatmap, the text summary)
live in :mod:`jupyter_llm.display.attention`; this module never imports them
(#11: the core never imports ``display/``). The display methods below call the
renderer that the package root registers in :mod:`jupyter_llm._hooks`, so an
:class:`AttentionMap` still shows in a notebook with nothing else imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _hooks

#: The version of the JSON payload of :meth:`AttentionMap.to_dict`.
SCHEMA_VERSION = 1


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

    # === Display: jupyter_llm.display.attention, reached through the hook ===

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _renderer().mime_bundle(self)

    def to_text(self, k: int = 3) -> str:
        """A plain-text summary: for each token, the k tokens it attended to most."""
        return _renderer().to_text(self, k)

    def to_html(self) -> str:
        """A static heatmap and the tokens shaded by the attention of the last token (no script)."""
        return _renderer().to_html(self)


def _renderer() -> Any:
    if _hooks.attention_renderer is None:  # pragma: no cover (the package root registers it on import)
        raise RuntimeError("No renderer for AttentionMap is registered: import jupyter_llm to register it.")
    return _hooks.attention_renderer()
