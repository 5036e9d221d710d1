"""The schedule skill: events and reminders with natural-language times, and .ics files."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ...errors import JupyterLLMError
from ..reply import Reply
from ..state import Event
from ..timeparse import ParsedTime, parse_range, parse_time
from ..timeparse import describe as _describe
from .base import Context, Skill
from .common import table_html

DEFAULT_ICS = "jupyter_llm_calendar.ics"


def describe(when: dt.datetime, rrule: str | None = None, lang: str = "en") -> str:
    """The time and repeat rule in words; a rule that cannot be put in words is shown as it is."""
    try:
        return _describe(when, rrule, lang)
    except (ValueError, KeyError, IndexError):
        return f"{_describe(when, None, lang)}, {rrule}"


def _skipped(ctx: Context, skipped: list[tuple[Event, str]]) -> list[str]:
    """One line for each event left out because its repeat rule cannot be read."""
    return [ctx.say("Skipped '{t}': {e} `%assistant cancel {t}` removes it.", "已跳过“{t}”：{e} 用 `%assistant 取消{t}` 删除它。",
                    t=ev.title, e=problem) for ev, problem in skipped]


class ScheduleSkill(Skill):
    name = "schedule"
    intents = {
        "add_event": ("add an event: 'schedule a meeting with Bob tomorrow at 3pm'", "添加日程：“明天下午3点和老王开会”"),
        "add_reminder": ("set a reminder: 'remind me to call mom every sunday at 7pm'", "设置提醒：“提醒我明天下午3点给妈妈打电话”"),
        "list_events": ("list events: 'what do I have this week'", "查看日程：“这周有什么安排”"),
        "move_event": ("move an event: 'move the dentist to friday at 11am'", "改时间：“把牙医预约改到周五上午11点”"),
        "cancel_event": ("cancel an event (asks for --yes)", "取消日程（需要 --yes）"),
        "export_calendar": ("export the calendar to an .ics file", "把日历导出为 .ics 文件"),
        "import_calendar": ("import events from an .ics file", "从 .ics 文件导入日程"),
    }
    destructive = frozenset({"cancel_event"})

    # === Adding ===

    def _when(self, ctx: Context) -> tuple[ParsedTime | None, Reply | None]:
        phrase = ctx.slot("time")
        if phrase is None:
            return None, ctx.error("I could not find a time in that. Expected something like 'tomorrow at 3pm' or 'every monday at 9am'.",
                                   "没有找到时间。请说明时间，例如“明天下午3点”或“每周一上午9点”。")
        when = parse_time(phrase, ctx.now, ctx.lang)
        if when is None:
            return None, ctx.error("I could not read the time '{p}'. Expected something like 'tomorrow at 3pm' or 'friday 10am'.",
                                   "无法理解时间“{p}”。请换一种说法，例如“明天下午3点”。", p=phrase)
        return when, None

    def _add(self, ctx: Context, kind: str) -> Reply:
        title = ctx.slot("task", "title") if kind == "reminder" else ctx.slot("title", "task")
        if title is None:
            return ctx.error("What is it about? Expected a title, e.g. 'remind me to call Bob at 5pm'.",
                             "请说明事项，例如“提醒我5点给老王打电话”。")
        when, problem = self._when(ctx)
        if problem:
            return problem
        clashes = ctx.assistant.store.conflicts(when.start, when.rrule) if kind == "event" else []
        ev = ctx.assistant.store.add_event(title, when.start, kind=kind, rrule=when.rrule, source=ctx.message, lang=ctx.lang)
        text = ctx.say("Added {k} '{t}': {w}.", "已添加{k}“{t}”：{w}。",
                       k=ctx.say(kind, "提醒" if kind == "reminder" else "日程"), t=title, w=describe(ev.start, ev.rrule, ctx.lang))
        extra = [ctx.say("Assumed {a}.", "假设：{a}。", a=a) for a in when.assumed]
        if clashes:
            shown = "; ".join(f"'{e.title}' {describe(w, None, ctx.lang)}" for w, e in clashes[:3])
            extra.append(ctx.say("⚠ Conflicts with {s}.", "⚠ 与以下日程冲突：{s}。", s=shown))
        extra.append(ctx.say("Not right? `%assistant undo`, then say it again.", "不对？用 `%assistant undo` 撤销后重说。"))
        return ctx.reply(text, extra=extra, data={"event": ev.to_dict(), "conflicts": [e.id for _, e in clashes]})

    def do_add_event(self, ctx: Context) -> Reply:
        return self._add(ctx, "event")

    def do_add_reminder(self, ctx: Context) -> Reply:
        return self._add(ctx, "reminder")

    # === Listing ===

    def do_list_events(self, ctx: Context) -> Reply:
        start, end, label = parse_range(ctx.slot("time"), ctx.now, ctx.lang)
        skipped: list[tuple[Event, str]] = []
        items = ctx.assistant.store.occurrences(start, end, skipped)
        if ctx.lang == "zh":
            label = {"the next 7 days": "未来7天"}.get(label, label)
        problems = _skipped(ctx, skipped)
        if not items:
            return ctx.reply(ctx.say("Nothing scheduled for {l}.", "{l}没有安排。", l=label), extra=problems,
                             data={"events": [], "skipped": [ev.id for ev, _ in skipped]})
        rows = [(describe(w, None, ctx.lang), ctx.say(e.kind, "提醒" if e.kind == "reminder" else "日程"), e.title,
                 describe(w, e.rrule, ctx.lang).split(", ", 1)[1] if e.rrule else "") for w, e in items]
        header = ctx.say("when|kind|title|repeats", "时间|类型|事项|重复").split("|")
        text = ctx.say("{n} item(s) for {l}:", "{l}共有{n}项：", n=len(items), l=label)
        plain = [f"  {r[0]}  {r[2]}" + (f" ({r[3]})" if r[3] else "") for r in rows]
        return ctx.reply(text, body_html=table_html(header, rows), extra=plain + problems,
                         data={"events": [{**e.to_dict(), "when": w.isoformat()} for w, e in items],
                               "skipped": [ev.id for ev, _ in skipped]})

    # === Changing ===

    def _find(self, ctx: Context) -> tuple[Event | None, Reply | None]:
        title = ctx.slot("title", "task", "query")  # "cancel water the plants" tags the title as a query
        if title is None:
            return None, ctx.error("Which event? Expected its title, e.g. 'move the dentist to friday'.",
                                   "是哪个日程？请说出它的名称。")
        found = ctx.assistant.store.find_events(title)
        if not found:
            return None, ctx.error("No event or reminder matches '{t}'. `%assistant what's on my calendar` lists them.",
                                   "没有与“{t}”匹配的日程或提醒。", t=title)
        if len(found) > 1:
            upcoming = [e for e in found if e.start >= ctx.now or e.rrule]
            if len(upcoming) == 1:
                return upcoming[0], None
            names = "; ".join(f"'{e.title}' {describe(e.start, e.rrule, ctx.lang)}" for e in found[:5])
            return None, ctx.error("Several events match '{t}': {n}. Expected a more precise title.",
                                   "有多个日程与“{t}”匹配：{n}。请说得更具体一些。", t=title, n=names)
        return found[0], None

    def do_move_event(self, ctx: Context) -> Reply:
        ev, problem = self._find(ctx)
        if problem:
            return problem
        when, problem = self._when(ctx)
        if problem:
            return problem
        start = when.start
        if not when.has_date:  # "move it to 3pm": same day, new time
            start = dt.datetime.combine(ev.start.date(), when.start.time())
        elif not when.has_time:  # "move it to friday": new day, same time
            start = dt.datetime.combine(when.start.date(), ev.start.time())
        clashes = ctx.assistant.store.conflicts(start, ev.rrule, exclude=ev.id) if ev.kind == "event" else []
        moved = ctx.assistant.store.move_event(ev.id, start)
        text = ctx.say("Moved '{t}' from {a} to {b}.", "已把“{t}”从{a}改到{b}。", t=ev.title,
                       a=describe(ev.start, None, ctx.lang), b=describe(moved.start, moved.rrule, ctx.lang))
        extra = []
        if clashes:
            extra.append(ctx.say("⚠ Conflicts with {s}.", "⚠ 与以下日程冲突：{s}。",
                                 s="; ".join(f"'{e.title}' {describe(w, None, ctx.lang)}" for w, e in clashes[:3])))
        return ctx.reply(text, extra=extra, data={"event": moved.to_dict()})

    def do_cancel_event(self, ctx: Context) -> Reply:
        ev, problem = self._find(ctx)
        if problem:
            return problem
        if not ctx.yes:
            return ctx.confirm("This would cancel '{t}' ({w}).", "将取消“{t}”（{w}）。", t=ev.title,
                               w=describe(ev.start, ev.rrule, ctx.lang))
        ctx.assistant.store.cancel_event(ev.id)
        return ctx.reply(ctx.say("Cancelled '{t}'. `%assistant undo` brings it back.", "已取消“{t}”。用 `%assistant undo` 可以恢复。",
                                 t=ev.title), data={"event": ev.to_dict()})

    # === Files ===

    def _path(self, ctx: Context, default: str | None) -> Path | None:
        raw = ctx.slot("file")
        # The tokenizer splits punctuation off a path's ends: take the whole path from the message.
        paths = re.findall(r"[^\s\"'“”]+\.ics\b", ctx.message, re.IGNORECASE)
        whole = [p for p in paths if raw and raw in p]
        raw = whole[0] if whole else raw if raw and raw.lower().endswith(".ics") else paths[0] if paths else raw or default
        return None if raw is None else Path(raw).expanduser()

    def do_export_calendar(self, ctx: Context) -> Reply:
        from ..ics import write_ics

        path = self._path(ctx, DEFAULT_ICS)
        events = ctx.assistant.store.events()
        if path.exists() and not ctx.yes:
            return ctx.confirm("'{p}' exists; exporting would replace it.", "“{p}”已存在，导出会覆盖它。", p=path)
        skipped: list[tuple[Event, str]] = []
        try:
            written = write_ics(events, path, ctx.now, skipped)
        except OSError as e:
            return ctx.error("Cannot write '{p}' ({e}). Expected a writable path.", "无法写入“{p}”（{e}）。", p=path, e=e.strerror or e)
        count = len(events) - len(skipped)
        return ctx.reply(ctx.say("Exported {n} event(s) to {p}; calendar apps can import this file.",
                                 "已把{n}个日程导出到 {p}，日历应用可以导入这个文件。", n=count, p=written),
                         extra=_skipped(ctx, skipped),
                         data={"path": str(written), "count": count, "skipped": [ev.id for ev, _ in skipped]})

    def do_import_calendar(self, ctx: Context) -> Reply:
        from ..ics import read_ics

        path = self._path(ctx, None)
        if path is None:
            return ctx.error("Which file? Expected the path of an .ics file, e.g. 'import holidays.ics'.",
                             "请给出 .ics 文件的路径，例如“导入 holidays.ics”。")
        refused: list[str] = []  # one sentence for each event that cannot be read
        try:
            items = read_ics(path, refused)
        except JupyterLLMError as e:
            return ctx.reply(str(e), status="error")
        ids = ctx.assistant.store.import_events([{**i, "lang": ctx.lang} for i in items])
        skipped = len(items) - len(ids)
        text = ctx.say("Imported {n} event(s) from {p}.", "已从 {p} 导入{n}个日程。", n=len(ids), p=path)
        extra = [ctx.say("{s} were already in the calendar.", "{s}个已经在日历里。", s=skipped)] if skipped else []
        return ctx.reply(text, extra=extra + refused, data={"imported": ids, "skipped": skipped, "refused": refused})
