"""The mood skill: the sentiment of a text or of the user's message, and a mood journal.

The sentiment comes from a small GRU-attention classifier (an
:class:`~jupyter_llm.nlu.IntentSlotModel` whose "intents" are positive,
negative and neutral) trained on a few hundred shipped sentences in English
and Chinese. Its attention over the words shows what drove the verdict. It is
simple and knows only everyday language: irony, negation of rare words and
domain jargon fool it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ...nlu.prediction import WordAttention
from ..charts import line_chart
from ..reply import Reply
from ..timeparse import parse_range
from .base import Context, Skill
from .common import table_html

__all__ = ["MoodSkill", "Sentiment", "analyze"]

_QUOTED = re.compile(r"[\"“「『'‘](.+?)[\"”」』'’]")
_AFTER_COLON = re.compile(r"[:：]\s*(.+)$", re.DOTALL)


@dataclass
class Sentiment:
    """The mood of a text.

    Attributes:
        label: ``"positive"``, ``"negative"`` or ``"neutral"``.
        score: ``P(positive) - P(negative)``, in ``[-1, 1]``.
        confidence: the probability of the label.
        attention: which words the classifier read the mood from.
    """

    text: str
    label: str
    score: float
    confidence: float
    attention: WordAttention

    def to_dict(self) -> dict:
        return {"text": self.text, "label": self.label, "score": round(self.score, 4),
                "confidence": round(self.confidence, 4), "attention": self.attention.to_dict()}


def analyze(model, text: str) -> Sentiment:
    """The :class:`Sentiment` of ``text`` according to the mood model."""
    p = model.predict(text, top_k=3)
    probs = dict(p.candidates)
    score = probs.get("positive", 0.0) - probs.get("negative", 0.0)
    return Sentiment(text, p.intent, score, p.confidence, p.attention)


_LABELS_ZH = {"positive": "积极", "negative": "消极", "neutral": "中性"}
_COLORS = {"positive": "44,160,44", "negative": "214,39,40", "neutral": "127,127,127"}


class MoodSkill(Skill):
    name = "mood"
    intents = {
        "log_mood": ("tell it how you feel: 'I feel great today' (kept in the mood journal)", "说说心情：“我今天心情很好”（记入心情日记）"),
        "analyze_mood": ("the sentiment of a text: 'what's the sentiment of \"...\"'", "分析一段文字的情绪：“分析一下这句话的情绪：……”"),
        "mood_journal": ("the mood journal over time, with a chart", "心情日记和走势图"),
    }

    def _show(self, ctx: Context, s: Sentiment) -> tuple[str, str]:
        label = _LABELS_ZH[s.label] if ctx.lang == "zh" else s.label
        drivers = ", ".join(f"'{w}'" for w, _ in s.attention.top(3))
        text = ctx.say("{l} (score {s:+.2f}, {c:.0%} sure); read mostly from {d}.",
                       "{l}（得分 {s:+.2f}，把握 {c:.0%}），主要依据：{d}。", l=label, s=s.score, c=s.confidence, d=drivers)
        html = (f'<div style="line-height:1.9">{s.attention.to_html(_COLORS[s.label])}</div>'
                f'<div style="font-size:11px;opacity:.7">'
                f'{ctx.say("shading: the words the mood was read from", "底色越深，越是判断情绪的依据")}</div>')
        return text, html

    def do_log_mood(self, ctx: Context) -> Reply:
        text = ctx.attached.strip() if ctx.attached else ctx.message
        s = analyze(ctx.assistant.mood_model, text)
        ctx.assistant.store.add_mood(text, s.label, s.score, ctx.lang)
        said, html = self._show(ctx, s)
        return ctx.reply(ctx.say("Noted in your mood journal: ", "已记入心情日记：") + said, body_html=html, data=s.to_dict())

    def do_analyze_mood(self, ctx: Context) -> Reply:
        text = ctx.attached.strip() if ctx.attached and ctx.attached.strip() else ctx.slot("text")
        if text is None:
            m = _QUOTED.search(ctx.message) or _AFTER_COLON.search(ctx.message)
            text = m.group(1).strip() if m else None
        if not text:
            return ctx.error("Which text? Expected it after a colon or in quotes, or in the body of %%assistant.",
                             "要分析哪段文字？请放在冒号后、引号里，或写在 %%assistant 单元格里。")
        s = analyze(ctx.assistant.mood_model, text)
        said, html = self._show(ctx, s)
        return ctx.reply(said, body_html=html, data=s.to_dict())

    def do_mood_journal(self, ctx: Context) -> Reply:
        phrase = ctx.slot("time")
        if phrase:
            start, end, label = parse_range(phrase, ctx.now, ctx.lang)
        else:
            start, end, label = ctx.now - dt.timedelta(days=30), ctx.now + dt.timedelta(seconds=1), ctx.say("the last 30 days", "最近30天")
        entries = [m for m in ctx.assistant.store.moods(start) if m["ts"] < end]
        if not entries:
            return ctx.reply(ctx.say("No mood entries for {l}. Tell me how you feel, e.g. 'I feel great today'.",
                                     "{l}没有心情记录。说说你的心情吧，例如“我今天心情很好”。", l=label), data={"entries": []})
        mean = sum(m["score"] for m in entries) / len(entries)
        chart = line_chart([(m["ts"], m["score"]) for m in entries], title=ctx.say("Mood, {l}", "心情，{l}", l=label))
        rows = [(m["ts"].strftime("%Y-%m-%d %H:%M"), _LABELS_ZH[m["label"]] if ctx.lang == "zh" else m["label"],
                 f"{m['score']:+.2f}", m["text"]) for m in entries[-8:]]
        header = ctx.say("when|mood|score|what you said", "时间|情绪|得分|原话").split("|")
        text = ctx.say("{n} entries for {l}; average {a:+.2f} ({t}).", "{l}共{n}条记录，平均 {a:+.2f}（{t}）。", n=len(entries),
                       l=label, a=mean, t=ctx.say("mostly positive", "总体积极") if mean > 0.15 else
                       ctx.say("mostly negative", "总体消极") if mean < -0.15 else ctx.say("mixed or neutral", "平稳或起伏"))
        return ctx.reply(text, body_html=chart + table_html(header, rows),
                         data={"entries": [{**m, "ts": m["ts"].isoformat()} for m in entries], "average": mean})
