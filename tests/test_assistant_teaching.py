"""Teaching: right after ``%assistant --teach`` the example parses as taught (intent and slots), or the reply says not.

Twenty different examples (every kind of intent, English and Chinese, words
the shipped examples lack), each taught with its own seed, must all come back
as taught. The extra rounds and the plain "did not learn it" reply are tested
by starving the first round of the taught example.
"""

from __future__ import annotations

import pytest
from assistant_support import assistant_models, clock, ip, say, shell  # noqa: F401

from jupyter_llm.assistant import Assistant
from jupyter_llm.assistant import teaching
from jupyter_llm.nlu.data import Example

#: (intent, example) taught with seed = its index; none is a shipped example.
TAUGHT = [
    ("add_todo", "stick [oat milk](task) on the shopping pile"),
    ("add_note", "scribble down [the bike lock is 0912](note)"),
    ("add_reminder", "[明晚8点](time)提醒我[收快递](task)"),
    ("add_event", "pencil in [a call with Grandma](title) [on sunday at 5pm](time)"),
    ("search_notes", "dig up whatever i wrote about [the boiler](query)"),
    ("complete_todo", "[the garage](task) is finally tidy"),
    ("list_todos", "what's left on my plate"),
    ("greet", "ahoy matey"),
    ("help", "what tricks do you know"),
    ("log_mood", "feeling on top of the world"),
    ("mood_journal", "chart how i've been feeling [since monday](time)"),
    ("draft", "pen a [note](doc_type) to [Grandma](recipient) about [sunday lunch](topic)"),
    ("data_summary", "peek at [orders_2024](dataframe)"),
    ("data_compare", "split [revenue](measure) by [quarter](group) for [orders](dataframe)"),
    ("cancel_event", "scratch [the call with Grandma](title) off the calendar"),
    ("move_event", "slide [the standup](title) to [half past nine](time)"),
    ("add_todo", "清单上添一项[买猫粮](task)"),
    ("add_note", "备注一下[车钥匙在玄关抽屉](note)"),
    ("delete_note", "那条关于[车钥匙](query)的笔记不要了"),
    ("export_calendar", "把日程打包成[trip.ics](file)"),
]


@pytest.fixture(autouse=True)
def fresh_models(monkeypatch):
    """No model taught earlier in the session is reused: each test fine-tunes its own."""
    from jupyter_llm.assistant import understanding

    monkeypatch.setattr(understanding, "_CACHE", {})


def use_assistant(shell, mood, clock, **training) -> Assistant:  # noqa: F811
    from jupyter_llm.shell import state_of

    a = Assistant(namespace=lambda: shell.user_ns, mood=mood, now=clock, training=training)
    state_of(shell).assistant = a
    return a


def test_the_taught_examples_are_new():
    from jupyter_llm.assistant.understanding import shipped_examples

    shipped = {ex.utterance.lower() for ex in shipped_examples()}
    assert len(TAUGHT) == 20 and not [text for _, text in TAUGHT
                                      if Example.from_markdown(text, "x").utterance.lower() in shipped]


@pytest.mark.parametrize("seed", range(len(TAUGHT)), ids=[f"{i}-{intent}" for i, (intent, _) in enumerate(TAUGHT)])
def test_a_taught_example_parses_as_taught_right_after_teach(ip, assistant_models, clock, seed):
    intent, text = TAUGHT[seed]
    use_assistant(ip, assistant_models[1], clock, teach_seed=seed)
    expected = Example.from_markdown(text, intent)
    r = say(ip, f'--teach {intent} "{text}"')
    assert (r.status, r.data["learned"]) == ("done", True), r.text
    assert r.intent == intent and r.prediction.text == expected.utterance
    assert [(s.slot, s.value) for s in r.prediction.spans] == expected.slots()
    assert say(ip, f"--explain {expected.utterance}").intent == intent  # and it stays learned


def test_an_example_the_first_round_missed_gets_extra_rounds(ip, assistant_models, clock, monkeypatch):
    monkeypatch.setattr(teaching, "TAUGHT_COPIES", 0)  # the first round never sees the example
    a = use_assistant(ip, assistant_models[1], clock)
    r = say(ip, '--teach add_todo "stick [oat milk](task) on the shopping pile"')
    assert r.status == "done" and r.data["learned"] and r.slots == {"task": "oat milk"}
    assert 1 <= r.data["extra_rounds"] == a.nlu.metadata["teach_rounds"] <= teaching.EXTRA_ROUNDS


def test_an_example_not_learned_is_kept_and_the_reply_says_why(ip, assistant_models, clock, monkeypatch):
    monkeypatch.setattr(teaching, "TAUGHT_COPIES", 0)
    monkeypatch.setattr(teaching, "EXTRA_ROUNDS", 0)  # and no extra round: it cannot be learned
    a = use_assistant(ip, assistant_models[1], clock)
    say(ip, "note that the spare fuse is in the hall")  # something the user has, not to be lost
    r = say(ip, '--teach add_todo "stick [oat milk](task) on the shopping pile"')
    assert (r.status, r.data["learned"]) == ("error", False)
    assert r.text.startswith("I kept the example but did not learn it: I expected 'stick oat milk on the shopping "
                             "pile' to be add_todo with task='oat milk', but even after 0 extra rounds")
    assert r.text.count(". ") == 0 and "undo" in r.text  # one sentence, with the way back
    assert [row[1:] for row in a.store.examples()] == [("add_todo", "stick [oat milk](task) on the shopping pile")]
    assert [n.text for n in a.store.notes()] == ["the spare fuse is in the hall"]
    assert say(ip, "undo").text == "Undone: teach add_todo: 'stick [oat milk](task) on the shopping pile'."
    assert a.store.examples() == [] and a.nlu.metadata.get("taught") is None  # back to the default model
