"""%assistant through a real IPython shell: every skill in English and Chinese, --yes, undo, --teach, --explain."""

from __future__ import annotations

import datetime as dt

import pytest
from assistant_support import assistant_models, clock, ip, say, shell  # noqa: F401
from IPython.core.error import UsageError

from jupyter_llm.assistant import Assistant


# === Schedule ===

def test_reminders_and_events_in_english(ip, clock):
    r = say(ip, "please remind me to phone Bob tomorrow at 3pm")
    assert (r.intent, r.status) == ("add_reminder", "done")
    assert r.slots == {"task": "phone Bob", "time": "tomorrow at 3pm"}
    assert "Tue 11 Mar 2025 15:00" in r.text  # the interpreted time is always shown
    r = say(ip, "set up a meeting with Anna for tomorrow at 3pm")
    assert r.intent == "add_event" and r.data["event"]["title"] == "meeting with Anna"
    r = say(ip, "add dentist appointment tomorrow at 3:30pm")
    assert r.intent == "add_event" and r.data["conflicts"]  # overlaps the meeting
    assert any("Conflicts with 'meeting with Anna'" in line for line in r.extra)
    r = say(ip, "what do i have tomorrow")
    assert r.intent == "list_events" and len(r.data["events"]) == 3
    r = say(ip, "push the dentist appointment back to friday at 11am")
    assert r.intent == "move_event" and r.data["event"]["start"] == "2025-03-14T11:00:00"
    # The reminder falls due: it shows with the next message, once.
    clock.advance(days=1, hours=7)
    r = say(ip, "hey there assistant")
    assert r.reminders == ["Reminder: phone Bob (Tue 11 Mar 2025 15:00)"]
    assert say(ip, "hi again").reminders == []


def test_destructive_actions_ask_for_yes_and_undo(ip):
    say(ip, "schedule yoga class every monday at 6pm")
    r = say(ip, "cancel yoga class")
    assert (r.intent, r.status, r.needs_confirmation) == ("cancel_event", "confirm", True)
    assert "--yes" in r.text
    assert len(say(ip, "what's in my calendar").data["events"]) >= 1
    r = say(ip, "--yes cancel yoga class")
    assert r.status == "done" and "Cancelled 'yoga class'" in r.text
    assert say(ip, "show me all my events").data["events"] == []
    r = say(ip, "undo")
    assert r.text == "Undone: cancel 'yoga class'."
    events = say(ip, "which events have i got").data["events"]
    assert events and events[0]["rrule"] == "FREQ=WEEKLY;BYDAY=MO"


def test_schedule_in_chinese(ip):
    r = say(ip, "明天下午3点提醒我给妈妈打个电话")
    assert r.intent == "add_reminder" and r.lang == "zh"
    assert r.slots == {"time": "明天下午3点", "task": "给妈妈打个电话"}
    assert "2025年3月11日(周二) 15:00" in r.text
    r = say(ip, "每周三下午5点要上钢琴课")
    assert r.intent == "add_event" and "每周三" in r.text
    r = say(ip, "明天有什么安排")
    assert r.intent == "list_events" and [e["title"] for e in r.data["events"]] == ["给妈妈打个电话"]
    r = say(ip, "取消钢琴课")
    assert r.status == "confirm" and "--yes" in r.text
    assert say(ip, "--yes 取消钢琴课").text.startswith("已取消")


def test_ics_export_and_import(ip, tmp_path):
    say(ip, "schedule team standup every weekday at 9:30am")
    target = tmp_path / "cal.ics"
    r = say(ip, f"export my calendar to {target}")
    assert r.intent == "export_calendar" and target.is_file() and r.data["count"] == 1
    assert "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" in target.read_text()
    r = say(ip, f"export my calendar to {target}")
    assert r.status == "confirm"  # it would replace a file
    from jupyter_llm.assistant.ics import write_ics
    from jupyter_llm.assistant.state import Event

    other = tmp_path / "invite.ics"
    write_ics([Event(0, "party-1@example.com", "event", "Party", dt.datetime(2025, 3, 15, 20), None, None, False, "en")],
              other)
    r = say(ip, f"import {other}")
    assert r.intent == "import_calendar" and len(r.data["imported"]) == 1
    assert say(ip, f"import {other}").data["skipped"] == 1


# === Notes and to-dos ===

def test_notes_and_todos_in_english(ip):
    assert say(ip, "add buy milk to my list of things to do").data["note"]["text"] == "buy milk"
    say(ip, "i have to fix the bike, add it to my to-dos")
    assert say(ip, "jot down that the wifi password is tulip42").intent == "add_note"
    r = say(ip, "show me my to-dos")
    assert [n["text"] for n in r.data["notes"]] == ["buy milk", "fix the bike"]
    r = say(ip, "buy milk is done, tick it off")
    assert r.intent == "complete_todo" and r.data["note"]["done"]
    assert [n["text"] for n in say(ip, "show me my to-dos").data["notes"]] == ["fix the bike"]
    r = say(ip, "look through my notes for wifi")
    assert r.intent == "search_notes" and [n["text"] for n in r.data["notes"]] == ["the wifi password is tulip42"]
    r = say(ip, "please delete my note about wifi")
    assert r.status == "confirm"
    assert say(ip, "--yes please delete my note about wifi").status == "done"
    assert say(ip, "let me see my notes").data["notes"] == []
    say(ip, "undo")
    assert len(say(ip, "let me see my notes").data["notes"]) == 1


def test_notes_and_todos_in_chinese(ip):
    r = say(ip, "待办里加一个买牛奶")
    assert r.intent == "add_todo" and r.data["note"]["text"] == "买牛奶"
    r = say(ip, "帮我记一下wifi密码是tulip42")
    assert r.intent == "add_note" and "tulip42" in r.data["note"]["text"]
    assert [n["text"] for n in say(ip, "我的待办清单上有什么").data["notes"]] == ["买牛奶"]
    r = say(ip, "买牛奶已经搞定了")
    assert r.intent == "complete_todo" and r.text.startswith("已完成")
    r = say(ip, "帮我找找wifi的笔记")
    assert r.intent == "search_notes" and len(r.data["notes"]) == 1


def test_user_text_is_escaped(ip):
    r = say(ip, "note that <script>alert(1)</script> is bad")
    html = r.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_quoted_command_shows_as_code_in_html_and_stays_escaped(ip):
    """#14 point 6: the footer showed literal backticks in its HTML."""
    say(ip, "add dentist appointment tomorrow at 3:30pm")
    shown = ip.display_pub.outputs[-1]["data"]
    assert "Not right? <code>%assistant undo</code>, then say it again." in shown["text/html"]
    assert "`" not in shown["text/html"]
    assert "Not right? `%assistant undo`, then say it again." in shown["text/plain"]  # plain text keeps them
    from jupyter_llm.assistant.reply import Reply

    html = Reply("ok", extra=["Skipped '<b>x</b>': `%assistant cancel <b>x</b>` removes it."]).to_html()
    assert "<code>%assistant cancel &lt;b&gt;x&lt;/b&gt;</code>" in html and "<b>x</b>" not in html


# === Mood ===

def test_mood_in_english(ip, clock):
    r = say(ip, "i'm feeling great this morning")
    assert r.intent == "log_mood" and r.data["label"] == "positive"
    assert "jupyter-llm-word-attention" in r.body_html  # what drove it
    clock.advance(days=1)
    r = say(ip, "what's the mood of this: the soup was cold and the waiter was rude")
    assert r.intent == "analyze_mood" and r.data["label"] == "negative"
    r = say(ip, "does this read as positive?", cell="Thanks so much, you made my day, the team did an outstanding job.")
    assert r.intent == "analyze_mood" and r.data["label"] == "positive"
    clock.advance(days=1)
    say(ip, "i'm completely exhausted today")
    r = say(ip, "let me see my mood journal")
    assert r.intent == "mood_journal" and len(r.data["entries"]) == 2  # analyses are not journal entries
    assert r.body_html.startswith("<svg")


def test_mood_in_chinese(ip):
    r = say(ip, "今天心情非常好")
    assert r.intent == "log_mood" and r.data["label"] == "positive" and "积极" in r.text
    r = say(ip, "这句话是什么情绪：服务太慢了，菜也凉了")
    assert r.intent == "analyze_mood" and r.data["label"] == "negative"
    assert say(ip, "打开我的心情日记").data["entries"]


# === Draft ===

def test_draft_with_a_generation_model(ip, tiny_lm):
    ip.user_ns["poet"] = tiny_lm
    r = say(ip, "-m poet --seed 1 could you write an email to Bob about the project deadline")
    assert r.intent == "draft" and r.slots["recipient"] == "Bob"
    assert r.data["kind"] == "email" and r.data["template"].startswith("Subject: The project deadline\n\nDear Bob,")
    assert r.data["generated"] and r.data["draft"].endswith("Best regards,\n")
    r = say(ip, "-m poet 帮我给老王写封邮件，关于项目截止日期")
    assert r.intent == "draft" and r.data["template"].startswith("主题：项目截止日期\n\n老王，您好")


def test_draft_without_a_model_is_the_template(ip):
    r = say(ip, "-m no_such_model write a quick message to Anna about dinner on friday")
    assert r.intent == "draft" and r.data["generated"] == "" and r.data["template"] == "Hi Anna, about dinner on friday: "
    assert any("no_such_model" in line for line in r.extra)


def test_summary_of_attached_text_is_extractive(ip):
    text = ("The model trains in the kernel. It uses a GRU with attention. The weather was nice. "
            "Attention shows which words the model used. The GRU model is small and trains fast on a laptop.")
    r = say(ip, "please summarize this article", cell=text)
    assert r.intent == "draft" and r.data["kind"] == "summary"
    assert all(sentence in text for sentence in r.data["draft"].split(". "))
    assert "weather" not in r.data["draft"]


# === Data ===

@pytest.fixture
def frames(ip):
    pd = pytest.importorskip("pandas")
    ip.user_ns["sales"] = pd.DataFrame({"region": ["north", "south", "north", "south", "east"],
                                        "revenue": [10.0, 20.0, 30.0, 40.0, 5.0], "units": [1, 2, 3, 4, 1]})
    ip.user_ns["cars"] = pd.DataFrame({"model": ["A", "B", "C"], "price": [20000, 25000, 30000],
                                       "safety": [3, 4, 5], "comfort": [2, 5, 4]})


def test_data_in_english(ip, frames):
    r = say(ip, "give me a quick summary of sales")
    assert r.intent == "data_summary" and r.data["rows"] == 5 and "<svg" in r.body_html
    r = say(ip, "compare the revenue of each region in sales")
    assert r.intent == "data_compare" and r.data["means"] == {"south": 30.0, "north": 20.0, "east": 5.0}
    r = say(ip, "rank the options in cars by price -0.4 safety 0.4 comfort 0.2")
    assert r.intent == "data_decide" and r.data["best"] == "B"
    assert r.data["directions"] == {"price": "lower", "safety": "higher", "comfort": "higher"}
    assert r.data["weights"] == pytest.approx({"price": 0.4, "safety": 0.4, "comfort": 0.2})


def test_data_in_chinese(ip, frames):
    r = say(ip, "帮我概括一下sales")
    assert r.intent == "data_summary" and r.lang == "zh" and "行" in r.text
    r = say(ip, "sales里按region对比一下revenue")
    assert r.intent == "data_compare" and r.data["group"] == "region" and r.data["measure"] == "revenue"
    r = say(ip, "cars里哪一个最值得买")
    assert r.intent == "data_decide" and r.data["dataframe"] == "cars" and r.data["best"] in {"A", "B", "C"}


# === Understanding: threshold, explain, teach ===

def test_low_confidence_offers_candidates_and_does_nothing(ip):
    r = say(ip, "--threshold 1.0 add buy milk to my list of things to do")
    assert r.status == "unsure" and len(r.candidates) == 3 and r.candidates[0][0] == "add_todo"
    assert say(ip, "show me my to-dos").data["notes"] == []
    r = say(ip, "--intent add_todo add buy milk to my list of things to do")
    assert r.status == "done" and r.confidence == 1.0


def test_explain_shows_attention_without_acting(ip):
    r = say(ip, "--explain please remind me to phone Bob tomorrow at 3pm")
    assert r.status == "info" and r.intent == "add_reminder" and r.explain
    html = r.to_html()
    assert "jupyter-llm-word-attention" in html and "B-task" in html
    assert say(ip, "list my reminders").data["events"] == []
    say(ip, "hi again")
    assert say(ip, "--explain").prediction.text == "hi again"  # alone: the previous message


def test_teach_adds_an_example_that_is_understood_as_taught(ip, assistant_models, clock):
    from jupyter_llm.shell import state_of

    _, mood = assistant_models
    state_of(ip).assistant = Assistant(namespace=lambda: ip.user_ns, mood=mood, now=clock)
    r = say(ip, '--teach add_todo "stick [oat milk](task) on the shopping pile"')
    assert (r.status, r.data["intent"], r.data["learned"]) == ("done", "add_todo", True)
    assert (r.intent, r.slots) == ("add_todo", {"task": "oat milk"})  # checked right after, slots included
    r = say(ip, "stick oat milk on the shopping pile")
    assert r.intent == "add_todo" and r.data["note"]["text"] == "oat milk"
    with pytest.raises(UsageError, match="Invalid value for argument intent"):
        say(ip, '--teach no_such_intent "hello"')


def test_usage_errors_are_one_sentence(ip):
    with pytest.raises(UsageError, match="unrecognized arguments"):
        say(ip, "--frobnicate hello")
    with pytest.raises(UsageError, match="Expected one of the intents"):
        say(ip, "--intent nope hello")
    with pytest.raises(UsageError, match="threshold"):
        say(ip, "--threshold 2 hello")
    r = say(ip, "")
    assert r.status == "info" and "add_reminder" in r.to_text()  # no message: help
    with pytest.raises(UsageError, match=r"Invalid value for argument message\. Expected text whose characters"):
        say(ip, "note that \ud800 is half a character")
    r = say(ip, "show me the notes I have")
    assert r.intent == "list_notes" and r.data["notes"] == []  # nothing was stored


def test_loading_twice_leaves_one_set_of_magics_and_one_state(shell):
    from jupyter_llm.shell import state_of

    before = {kind: dict(table) for kind, table in shell.magics_manager.magics.items()}
    shell.run_line_magic("load_ext", "jupyter_llm")
    state = state_of(shell)
    shell.run_line_magic("reload_ext", "jupyter_llm")
    shell.run_line_magic("load_ext", "jupyter_llm")
    state = state_of(shell)
    m1 = shell.magics_manager.magics["line"]["assistant"].__self__
    for kind in ("line", "cell"):
        added = set(shell.magics_manager.magics[kind]) - set(before[kind])
        assert added <= {"assistant", "generate", "llm"} and shell.magics_manager.magics[kind]["assistant"].__self__ is m1
    assert m1.state is state and m1.settings is state.assistant_config
    assert [c for c in shell.configurables if type(c) is type(m1.settings)] == [m1.settings]  # one settings object
    shell.run_line_magic("unload_ext", "jupyter_llm")
    assert "assistant" not in shell.magics_manager.magics["line"]
    assert "assistant" not in shell.magics_manager.magics["cell"] and state_of(shell) is None
    assert m1.settings not in shell.configurables


def test_registering_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys; from IPython.core.interactiveshell import InteractiveShell; "
            "InteractiveShell.instance().run_line_magic('load_ext', 'jupyter_llm'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'numpy', 'ipywidgets', 'pandas'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
