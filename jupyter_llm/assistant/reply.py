"""The assistant's answer: what it understood, what it did, and how that displays.

A :class:`Reply` shows in any front end (``text/html`` with inline styles and
no script, ``text/plain`` elsewhere) and converts to a JSON-ready dict for
the kernel channel. Every piece of user or model text is escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from ..nlu.prediction import Prediction

__all__ = ["Reply"]

#: A command quoted in a message (`%assistant undo`): plain text keeps the backticks, HTML shows it as code.
_COMMAND = re.compile(r"`(%[^`\n]+)`")


def _with_commands(text: str) -> str:
    """``text`` escaped for HTML, each quoted ``%command`` in ``<code>`` (its text escaped too)."""
    return _COMMAND.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


@dataclass
class Reply:
    """One answer of the assistant.

    Attributes:
        text: the answer in plain words (what was done, or what is needed).
        intent, confidence, slots: what was understood (None when nothing was).
        status: ``"done"`` (an action was taken or an answer given), ``"confirm"``
            (a destructive action waits for ``--yes``), ``"unsure"`` (confidence
            below the threshold: ``candidates`` are offered), ``"error"`` (the
            action could not be done: ``text`` says why), ``"info"``.
        body_html: rich content (tables, charts) shown under the text.
        candidates: ``(intent, probability)`` of the most likely intents.
        reminders: reminders that fell due, shown above the answer.
        data: what the skill did, as JSON-ready values (ids, rows, scores ...).
        prediction: the full :class:`~jupyter_llm.nlu.Prediction`.
        explain: show the attention over the words and the slot tags.
        lang: ``"en"`` or ``"zh"``.
    """

    text: str
    intent: str | None = None
    confidence: float | None = None
    slots: dict[str, str] = field(default_factory=dict)
    status: str = "done"
    body_html: str = ""
    candidates: list[tuple[str, float]] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    prediction: Prediction | None = None
    explain: bool = False
    lang: str = "en"
    extra: list[str] = field(default_factory=list)  # further plain-text lines (notes, assumptions)

    @property
    def needs_confirmation(self) -> bool:
        return self.status == "confirm"

    @property
    def understood(self) -> str:
        """``"add_reminder (93%) task='call Bob' time='tomorrow at 3pm'"``."""
        if self.intent is None:
            return ""
        conf = f" ({self.confidence:.0%})" if self.confidence is not None else ""
        slots = " ".join(f"{k}={v!r}" for k, v in self.slots.items())
        return f"{self.intent}{conf}" + (f" {slots}" if slots else "")

    # === Plain text ===

    def to_text(self) -> str:
        lines = [f"⏰ {r}" for r in self.reminders]
        if self.intent is not None:
            lines.append(("理解为: " if self.lang == "zh" else "Understood: ") + self.understood)
        lines.append(self.text)
        lines += self.extra
        if self.status == "unsure" and self.candidates:
            lines += [f"  - {name} ({p:.0%})" for name, p in self.candidates]
        if self.explain and self.prediction is not None:
            lines.append("Attention: " + self.prediction.attention.to_text())
            lines.append("Tags: " + " ".join(f"{t}/{g}" for t, g in zip(self.prediction.tokens, self.prediction.tags)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    # === HTML ===

    def to_html(self) -> str:
        e = html.escape
        out = ['<div class="jupyter-llm-assistant" style="font-family:var(--jp-content-font-family,sans-serif);'
               'border-left:3px solid #1f77b4;padding:4px 10px;margin:4px 0">']
        for r in self.reminders:
            out.append(f'<div style="background:#fff3cd;padding:3px 6px;margin-bottom:4px">⏰ {e(r)}</div>')
        if self.intent is not None:
            chips = "".join(
                f'<span style="background:#e8f0fe;border-radius:3px;padding:0 4px;margin-right:4px">'
                f"{e(k)}: {e(v)}</span>" for k, v in self.slots.items())
            conf = f" ({self.confidence:.0%})" if self.confidence is not None else ""
            label = "理解为" if self.lang == "zh" else "Understood"
            out.append(f'<div style="font-size:12px;opacity:.75">{label}: <b>{e(self.intent)}</b>{conf} {chips}</div>')
        color = {"error": "#b00020", "confirm": "#8a6d00", "unsure": "#8a6d00"}.get(self.status, "inherit")
        out.append(f'<div style="white-space:pre-wrap;color:{color};margin:3px 0">{_with_commands(self.text)}</div>')
        for line in self.extra:
            out.append(f'<div style="font-size:12px;opacity:.75;white-space:pre-wrap">{_with_commands(line)}</div>')
        if self.status == "unsure" and self.candidates:
            items = "".join(f"<li><code>{e(n)}</code> ({p:.0%})</li>" for n, p in self.candidates)
            out.append(f"<ul style='margin:2px 0'>{items}</ul>")
        if self.body_html:
            out.append(f'<div style="margin-top:4px">{self.body_html}</div>')
        if self.explain and self.prediction is not None:
            out.append(self._explain_html())
        out.append("</div>")
        return "".join(out)

    def _explain_html(self) -> str:
        p = self.prediction
        e = html.escape
        title = "注意力（意图）" if self.lang == "zh" else "Attention of the intent over the words"
        tags = "".join(
            f'<td style="padding:1px 6px;text-align:center">{e(t)}<br><span style="font-size:10px;opacity:.7">'
            f"{e(g)}</span></td>" for t, g in zip(p.tokens, p.tags))
        cands = ", ".join(f"{e(n)} {q:.0%}" for n, q in p.candidates)
        return (f'<div style="margin-top:6px;font-size:12px"><div style="opacity:.75">{title}:</div>'
                f'<div style="margin:3px 0;line-height:1.8">{p.attention.to_html()}</div>'
                f'<table style="border-collapse:collapse"><tr>{tags}</tr></table>'
                f'<div style="opacity:.75">candidates: {cands}</div></div>')

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/html": self.to_html(), "text/plain": self.to_text()}

    # === JSON ===

    def to_dict(self) -> dict[str, Any]:
        """What the kernel channel sends back for an ``assistant`` request."""
        return {
            "text": self.text,
            "status": self.status,
            "intent": self.intent,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "slots": dict(self.slots),
            "candidates": [[n, round(p, 4)] for n, p in self.candidates],
            "reminders": list(self.reminders),
            "needs_confirmation": self.needs_confirmation,
            "notes": list(self.extra),
            "html": self.to_html(),
            "plain": self.to_text(),
            "data": self.data,
            "attention": self.prediction.attention.to_dict() if self.prediction is not None else None,
            "lang": self.lang,
        }
