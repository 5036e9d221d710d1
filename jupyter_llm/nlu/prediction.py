"""What the intent and slot model understood, and how it displays (no TensorFlow).

:class:`Prediction` unpacks as ``intent, confidence, slots, attention`` and
also reads by attribute or key::

    intent, confidence, slots, attention = model.predict("play jazz")
    p = model.predict("play jazz"); p.intent == p["intent"]
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Prediction", "WordAttention", "SlotSpan"]


@dataclass(frozen=True)
class SlotSpan:
    """One slot found in an utterance.

    Attributes:
        slot: the slot's name.
        value: the text it covers, as written.
        start, end: character offsets in the utterance (``text[start:end] == value``).
        token_start, token_end: the token range ``[token_start, token_end)``.
        confidence: the mean probability of its tags.
    """

    slot: str
    value: str
    start: int
    end: int
    token_start: int
    token_end: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class WordAttention:
    """The intent attention over the words of an utterance: what the intent was read from.

    Attributes:
        tokens: the T words.
        weights: ``(T,)`` floats summing to 1.
    """

    def __init__(self, tokens: list[str], weights: Any, label: str = "intent") -> None:
        self.tokens = list(tokens)
        self.weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        if self.weights.shape != (len(self.tokens),):
            raise ValueError(f"Invalid value for argument weights. Expected shape ({len(self.tokens)},) for "
                             f"{len(self.tokens)} tokens. Received: weights.shape={self.weights.shape}")
        self.label = label

    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self):
        return iter(zip(self.tokens, self.weights.tolist()))

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k words with the most attention: ``(word, weight)``."""
        order = np.argsort(-self.weights, kind="stable")[:k]
        return [(self.tokens[i], float(self.weights[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "weights": np.round(self.weights, 4).tolist(), "label": self.label}

    def to_text(self) -> str:
        return " ".join(f"{t}({w:.2f})" for t, w in zip(self.tokens, self.weights))

    def to_html(self, color: str = "255,140,0") -> str:
        """The words shaded by their weight (inline styles only, every word escaped)."""
        peak = float(self.weights.max()) if len(self.weights) else 1.0
        spans = "".join(
            f'<span title="{w:.3f}" style="background:rgba({color},{(w / peak if peak else 0):.2f});'
            f'padding:1px 2px;border-radius:3px">{html.escape(t)}</span> '
            for t, w in zip(self.tokens, self.weights)
        )
        return f'<span class="jupyter-llm-word-attention">{spans}</span>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"WordAttention({self.to_text()})"


class _Fields(NamedTuple):
    intent: str
    confidence: float
    slots: dict[str, str]
    attention: WordAttention


class Prediction(_Fields):
    """The intent, its confidence, the slots and the attention over the words.

    Attributes:
        intent: the most likely intent.
        confidence: its probability, in ``[0, 1]``.
        slots: ``{slot name: value}`` (the first value when a slot occurs twice; see ``spans``).
        attention: a :class:`WordAttention`.
        text: the utterance.
        tokens, tags: the words and their BIO tags.
        spans: every slot as a :class:`SlotSpan`, in order.
        candidates: the most likely intents as ``(intent, probability)``, best first.
    """

    def __new__(cls, intent: str, confidence: float, slots: dict[str, str], attention: WordAttention, *,
                text: str = "", tokens: list[str] | None = None, tags: list[str] | None = None,
                spans: list[SlotSpan] | None = None, candidates: list[tuple[str, float]] | None = None):
        self = super().__new__(cls, intent, float(confidence), dict(slots), attention)
        self.text = text
        self.tokens = list(tokens or [])
        self.tags = list(tags or [])
        self.spans = list(spans or [])
        self.candidates = list(candidates or [(intent, float(confidence))])
        return self

    def __getitem__(self, key):  # p["intent"] as well as p[0]
        if isinstance(key, str):
            try:
                return getattr(self, key)
            except AttributeError:
                raise KeyError(key) from None
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything above."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "slots": dict(self.slots),
            "spans": [s.to_dict() for s in self.spans],
            "candidates": [[name, round(p, 4)] for name, p in self.candidates],
            "tokens": self.tokens,
            "tags": self.tags,
            "attention": self.attention.to_dict(),
        }

    def __repr__(self) -> str:
        slots = ", ".join(f"{k}={v!r}" for k, v in self.slots.items())
        return f"Prediction(intent={self.intent!r}, confidence={self.confidence:.2f}, slots={{{slots}}})"

    def to_html(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(s.slot)}</td><td>{html.escape(s.value)}</td><td>{s.confidence:.2f}</td></tr>"
            for s in self.spans
        )
        slots = (f'<table style="border-collapse:collapse;margin-top:4px"><tr><th>slot</th><th>value</th>'
                 f'<th>conf.</th></tr>{rows}</table>') if rows else "<div>no slots</div>"
        return (f"<div><b>{html.escape(self.intent)}</b> ({self.confidence:.0%})</div>"
                f"<div style='margin:4px 0'>{self.attention.to_html()}</div>{slots}")

    def _repr_html_(self) -> str:
        return self.to_html()
