"""The notes skill: notes and to-dos, added, listed, completed, searched and deleted."""

from __future__ import annotations

import re

from ..reply import Reply
from ..state import Note
from .base import Context, Skill
from .common import table_html

# What people say before the note itself, when the model did not mark the note.
_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:make a note(?: that)?|take a note|note to self|note that|note|write (?:this )?down|jot down|"
    r"remember that|remember|save a note|add a note(?: saying)?|add a todo|add a task(?: to)?|new task|new todo|todo|to do|task|"
    r"i need to|i have to|记一下|记下来|记住|记录|备忘|做个笔记|笔记|新任务|待办事项|待办|添加待办|加个任务|任务|我得|我要)[:：,，\s]*",
    re.IGNORECASE)


class NotesSkill(Skill):
    name = "notes"
    intents = {
        "add_note": ("take a note: 'note that the wifi password is tulip42'", "记笔记：“记一下wifi密码是tulip42”"),
        "add_todo": ("add a to-do: 'add buy milk to my to-do list'", "添加待办：“把买牛奶加到待办”"),
        "list_notes": ("list notes", "查看笔记"),
        "list_todos": ("list open to-dos", "查看待办"),
        "complete_todo": ("complete a to-do: 'mark buy milk as done'", "完成待办：“买牛奶完成了”"),
        "search_notes": ("search notes: 'find my notes about wifi'", "搜索笔记：“找一下关于wifi的笔记”"),
        "delete_note": ("delete a note or to-do (asks for --yes)", "删除笔记或待办（需要 --yes）"),
    }
    destructive = frozenset({"delete_note"})

    def _text(self, ctx: Context, *slots: str) -> str | None:
        value = ctx.span_text(*slots)
        if value is None and ctx.attached:
            value = ctx.attached.strip()
        if value is None:
            stripped = _LEAD.sub("", ctx.message).strip()
            value = stripped if stripped and stripped != ctx.message.strip() else None
        return value

    def do_add_note(self, ctx: Context) -> Reply:
        return self._add(ctx, "note", ("note", "task"),
                         ("What should the note say? Expected e.g. 'note that the wifi password is tulip42'.",
                          "笔记要写什么？例如“记一下wifi密码是tulip42”。"),
                         ("Noted (#{i}): {t}", "已记下（#{i}）：{t}"))

    def do_add_todo(self, ctx: Context) -> Reply:
        return self._add(ctx, "todo", ("task", "note"),
                         ("What is the task? Expected e.g. 'add buy milk to my to-do list'.", "待办是什么？例如“把买牛奶加到待办”。"),
                         ("Added to-do #{i}: {t}", "已添加待办 #{i}：{t}"))

    def _add(self, ctx: Context, kind: str, slots: tuple[str, ...], missing: tuple[str, str],
             done: tuple[str, str]) -> Reply:
        """Store a note or a to-do from the message's slots (in that order of preference)."""
        text = self._text(ctx, *slots)
        if not text:
            return ctx.error(*missing)
        note = ctx.assistant.store.add_note(text, kind, ctx.lang)
        return ctx.reply(ctx.say(*done, i=note.id, t=note.text), data={"note": note.to_dict()})

    def _listing(self, ctx: Context, notes: list[Note], empty: str, title: str) -> Reply:
        if not notes:
            return ctx.reply(empty, data={"notes": []})
        header = ctx.say("#|text|kind|done", "#|内容|类型|完成").split("|")
        rows = [(n.id, n.text, ctx.say(n.kind, "待办" if n.kind == "todo" else "笔记"), "✓" if n.done else "") for n in notes]
        plain = [f"  #{n.id} {'[x] ' if n.done else '[ ] ' if n.kind == 'todo' else ''}{n.text}" for n in notes]
        return ctx.reply(title, body_html=table_html(header, rows), extra=plain, data={"notes": [n.to_dict() for n in notes]})

    def do_list_notes(self, ctx: Context) -> Reply:
        notes = ctx.assistant.store.notes("note")
        return self._listing(ctx, notes, ctx.say("No notes yet.", "还没有笔记。"),
                             ctx.say("{n} note(s):", "共{n}条笔记：", n=len(notes)))

    def do_list_todos(self, ctx: Context) -> Reply:
        notes = ctx.assistant.store.notes("todo", include_done=False)
        return self._listing(ctx, notes, ctx.say("Nothing left to do.", "没有未完成的待办。"),
                             ctx.say("{n} open to-do(s):", "还有{n}项待办：", n=len(notes)))

    def do_search_notes(self, ctx: Context) -> Reply:
        query = self._text(ctx, "query", "note", "task")
        if not query:
            return ctx.error("Search for what? Expected e.g. 'find my notes about wifi'.", "要搜索什么？例如“找一下关于wifi的笔记”。")
        found = ctx.assistant.store.search_notes(query)
        return self._listing(ctx, found, ctx.say("Nothing matches '{q}'.", "没有与“{q}”匹配的内容。", q=query),
                             ctx.say("{n} match(es) for '{q}':", "与“{q}”匹配的有{n}条：", n=len(found), q=query))

    def _pick(self, ctx: Context, kind: str | None, include_done: bool) -> tuple[Note | None, Reply | None]:
        query = self._text(ctx, "task", "query", "note")
        if not query:
            return None, ctx.error("Which one? Expected its words, e.g. 'mark buy milk as done'.", "是哪一条？请说出它的内容。")
        found = ctx.assistant.store.search_notes(query, kind, include_done)
        if not found:
            return None, ctx.error("Nothing matches '{q}'.", "没有与“{q}”匹配的内容。", q=query)
        from .common import match_score

        best = match_score(query, found[0].text)
        tied = [n for n in found if match_score(query, n.text) == best]
        if len(tied) > 1:
            names = "; ".join(f"#{n.id} {n.text}" for n in tied[:5])
            return None, ctx.error("Several match '{q}': {n}. Expected more precise words.", "有多条与“{q}”匹配：{n}。请说得更具体。",
                                   q=query, n=names)
        return found[0], None

    def do_complete_todo(self, ctx: Context) -> Reply:
        note, problem = self._pick(ctx, "todo", include_done=False)
        if problem:
            return problem
        done = ctx.assistant.store.complete_note(note.id)
        return ctx.reply(ctx.say("Done: {t} ✓", "已完成：{t} ✓", t=done.text), data={"note": done.to_dict()})

    def do_delete_note(self, ctx: Context) -> Reply:
        note, problem = self._pick(ctx, None, include_done=True)
        if problem:
            return problem
        if not ctx.yes:
            return ctx.confirm("This would delete {k} #{i}: {t}.", "将删除{k} #{i}：{t}。",
                               k=ctx.say(note.kind, "待办" if note.kind == "todo" else "笔记"), i=note.id, t=note.text)
        ctx.assistant.store.delete_note(note.id)
        return ctx.reply(ctx.say("Deleted #{i}: {t}. `%assistant undo` brings it back.", "已删除 #{i}：{t}。用 `%assistant undo` 可以恢复。",
                                 i=note.id, t=note.text), data={"note": note.to_dict()})
