"""The draft skill: an email, message, summary or ad copy, its template filled from the slots.

The template (greeting, subject, the topic) comes from the slots; a generation
model — the one named with ``--model``, else the configured default — then
continues it. Without a model the draft is the template alone, with a note
saying so. A summary of a text given with the request (the body of
``%%assistant``, or a variable holding a string) is extractive: its most
representative sentences, in their order — no model invents facts there.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter

from ...errors import JupyterLLMError
from ..reply import Reply
from .base import Context, Skill
from .common import escape, words_of

__all__ = ["DraftSkill", "extractive_summary", "KINDS"]

#: Words naming each kind of draft.
KINDS = {
    "email": ("email", "e-mail", "mail", "letter", "reply", "邮件", "信", "回信"),
    "summary": ("summary", "summarize", "summarise", "recap", "摘要", "总结", "概要", "纪要"),
    "ad": ("ad", "ad copy", "advert", "advertisement", "slogan", "tagline", "copy", "广告", "文案", "口号", "广告文案"),
    "message": ("message", "text", "sms", "note", "dm", "消息", "短信", "信息", "留言"),
}

TEMPLATES = {
    "en": {
        "email": "Subject: {topic_cap}\n\nDear {recipient},\n\nI am writing about {topic}. ",
        "message": "Hi {recipient}, about {topic}: ",
        "summary": "Summary of {topic}: ",
        "ad": "{topic_cap}: ",
    },
    "zh": {
        "email": "主题：{topic}\n\n{recipient}，您好：\n\n关于{topic}，",
        "message": "{recipient}，关于{topic}：",
        "summary": "{topic}摘要：",
        "ad": "{topic}——",
    },
}
CLOSINGS = {"en": {"email": "\n\nBest regards,\n"}, "zh": {"email": "\n\n此致\n敬礼\n"}}
DEFAULT_RECIPIENT = {"en": "there", "zh": "你好"}
MAX_TOKENS = 80


def _kind(ctx: Context) -> str:
    named = (ctx.slot("doc_type") or "").lower()
    for kind, words in KINDS.items():
        if named and any(named == w or named.startswith(w) or w in named for w in words):
            return kind
    message = ctx.message.lower()
    for kind in ("summary", "email", "ad", "message"):
        if any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", message) for w in KINDS[kind]):
            return kind
    return "message"


def extractive_summary(text: str, sentences: int = 3) -> str:
    """The ``sentences`` sentences of ``text`` whose words are most frequent in it, in their order."""
    parts = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s*", text) if s.strip()]
    if len(parts) <= sentences:
        return " ".join(parts)
    freq = Counter(w for s in parts for w in words_of(s))

    def weight(s: str) -> float:
        ws = words_of(s)
        return sum(freq[w] for w in ws) / math.sqrt(len(ws) or 1)

    best = sorted(sorted(range(len(parts)), key=lambda i: -weight(parts[i]))[:sentences])
    joiner = "" if re.search(r"[。！？]", text) else " "
    return joiner.join(parts[i] for i in best)


class DraftSkill(Skill):
    name = "draft"
    intents = {
        "draft": ("draft an email, message, summary or ad copy: 'draft an email to Bob about the deadline'",
                  "起草邮件、消息、摘要或广告文案：“给老王写一封邮件，关于项目截止日期”"),
    }

    def do_draft(self, ctx: Context) -> Reply:
        kind = _kind(ctx)
        topic = ctx.slot("topic") or ctx.say("our plans", "我们的计划")
        recipient = ctx.slot("recipient") or DEFAULT_RECIPIENT[ctx.lang]
        if kind == "summary":
            source = self._source_text(ctx, topic)
            if source is not None:
                summary = extractive_summary(source)
                return ctx.reply(ctx.say("Summary (the most representative sentences of the text):", "摘要（原文中最有代表性的句子）："),
                                 body_html=f"<blockquote style='white-space:pre-wrap'>{escape(summary)}</blockquote>",
                                 extra=[summary], data={"kind": kind, "draft": summary, "generated": ""})
        template = TEMPLATES[ctx.lang][kind].format(topic=topic, topic_cap=topic[:1].upper() + topic[1:], recipient=recipient)
        model, label, problem = ctx.assistant.draft_model(ctx.options.get("model"), ctx.lang)
        generated, notes = "", []
        if model is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # symbols the model never saw map to <unk>: the draft goes on
                    generated = model.generate(template, max_tokens=int(ctx.options.get("max_tokens") or MAX_TOKENS),
                                               temperature=0.7, seed=ctx.options.get("seed"))
            except JupyterLLMError as e:
                notes.append(ctx.say("The model could not continue the template ({e}).", "模型无法续写模板（{e}）。", e=e))
            notes.append(ctx.say("Continued by the model '{m}': check every word before sending.",
                                 "由模型“{m}”续写：发送前请逐字检查。", m=label))
        else:
            notes.append(problem or ctx.say(
                "No generation model is configured, so this is the template only. Train or load one (`%llm use NAME`) "
                "or pass --model NAME.", "没有可用的生成模型，这里只有模板。请训练或加载一个模型（`%llm use NAME`），或加 --model NAME。"))
        closing = CLOSINGS.get(ctx.lang, {}).get(kind, "")
        draft = template + generated + closing
        body = (f"<pre style='white-space:pre-wrap;font-family:inherit;margin:2px 0'>{escape(template)}"
                f"<span style='background:#eef6ee' title='generated'>{escape(generated)}</span>{escape(closing)}</pre>")
        return ctx.reply(ctx.say("Draft {k}:", "草稿（{k}）：", k=ctx.say(kind, {"email": "邮件", "message": "消息", "summary": "摘要",
                                                                            "ad": "广告"}[kind])),
                         body_html=body, extra=[draft] + notes,
                         data={"kind": kind, "draft": draft, "template": template, "generated": generated, "model": label,
                               "fingerprint": getattr(model, "fingerprint", None)})

    @staticmethod
    def _source_text(ctx: Context, topic: str) -> str | None:
        if ctx.attached and ctx.attached.strip():
            return ctx.attached
        name = topic.strip()
        value = ctx.namespace.get(name) if name.isidentifier() else None
        return value if isinstance(value, str) and value.strip() else None
