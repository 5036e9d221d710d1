"""What every skill shares: the :class:`Context` of a request and the :class:`Skill` base."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ...nlu.prediction import Prediction
from ..reply import Reply
from .common import say

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Assistant

__all__ = ["Context", "Skill"]

_OPEN = set("<([{\"'“‘《「『【")
_CLOSE = set(">)]}\"'”’》」』】")


@dataclass
class Context:
    """One request as a skill sees it.

    Attributes:
        message: the request as typed.
        prediction: what the intent and slot model understood.
        intent: the intent acted on (the model's, or the one forced with ``--intent``).
        slots: ``{slot: value}``.
        lang: ``"en"`` or ``"zh"`` (the language of the message).
        now: the current naive local time.
        yes: the user confirmed a destructive action (``--yes``).
        attached: longer text given with the request (the body of ``%%assistant``).
        assistant: the :class:`~jupyter_llm.assistant.Assistant` (state, namespace, models).
    """

    message: str
    prediction: Prediction
    intent: str
    slots: dict[str, str]
    lang: str
    now: dt.datetime
    yes: bool
    assistant: "Assistant"
    attached: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def slot(self, *names: str) -> str | None:
        """The value of the first of ``names`` that was found, stripped (None: none found)."""
        for name in names:
            value = self.slots.get(name)
            if value and value.strip():
                return value.strip()
        return None

    def span_text(self, *names: str) -> str | None:
        """Like :meth:`slot`, but widened over brackets and quotes attached to the value.

        The tokenizer splits punctuation off words, so ``note that "<b>" is bold``
        tags ``b>" is bold``; this gives back ``"<b>" is bold`` as typed.
        """
        for name in names:
            span = next((s for s in self.prediction.spans if s.slot == name), None)
            if span is None or self.prediction.text != self.message:
                continue
            start, end = span.start, span.end
            while start > 0 and self.message[start - 1] in _OPEN:
                start -= 1
            while end < len(self.message) and self.message[end] in _CLOSE:
                end += 1
            value = self.message[start:end].strip()
            if value:
                return value
        return self.slot(*names)

    def say(self, en: str, zh: str, **values: Any) -> str:
        return say(self.lang, en, zh, **values)

    def reply(self, text: str, **kwargs: Any) -> Reply:
        return Reply(text, lang=self.lang, **kwargs)

    def error(self, en: str, zh: str, **values: Any) -> Reply:
        return Reply(say(self.lang, en, zh, **values), status="error", lang=self.lang)

    def confirm(self, en: str, zh: str, **values: Any) -> Reply:
        """A destructive action that waits for ``--yes``."""
        text = say(self.lang, en, zh, **values)
        text += say(self.lang, " Run the same request again with --yes to do it.", " 确认请加 --yes 再运行一次。")
        return Reply(text, status="confirm", lang=self.lang)

    @property
    def namespace(self) -> Mapping[str, Any]:
        return self.assistant.namespace


class Skill:
    """A group of intents and what the assistant does for each.

    A subclass lists its ``intents`` (name -> what it does, for ``help``) and
    defines one method ``do_<intent>(ctx) -> Reply`` per intent. Intents in
    ``destructive`` must check ``ctx.yes`` before acting.
    """

    name: ClassVar[str] = ""
    intents: ClassVar[dict[str, tuple[str, str]]] = {}  # intent -> (English, Chinese) description
    destructive: ClassVar[frozenset[str]] = frozenset()

    def handle(self, ctx: Context) -> Reply:
        return getattr(self, f"do_{ctx.intent}")(ctx)
