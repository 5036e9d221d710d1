"""AssistantPanel (the chat widget over the shell's assistant)."""

from __future__ import annotations

import pytest
from assistant_support import assistant, assistant_models, clock, namespace  # noqa: F401

from jupyter_llm.widgets import AssistantPanel


def test_panel_talks_confirms_and_undoes(assistant):
    panel = AssistantPanel(assistant)
    seen = []
    panel.on_reply(lambda message, reply: seen.append((message, reply.intent)))
    panel.input.value = "add buy milk to my list of things to do"  # Enter
    assert panel.input.value == ""
    assert seen == [("add buy milk to my list of things to do", "add_todo")]
    assert "buy milk" in panel.conversation.value and "Added to-do" in panel.conversation.value
    reply = panel.send("delete the task buy milk")
    assert reply.status == "confirm"
    (yes,) = panel.actions.children
    assert yes.description == "Yes, do it"
    yes.click()
    assert panel.history[-1][1].status == "done" and assistant.store.notes() == []
    panel.undo_button.click()
    assert panel.history[-1][1].text.startswith("Undone")
    assert [n.text for n in assistant.store.notes()] == ["buy milk"]


def test_panel_offers_candidates_when_unsure(assistant):
    assistant.threshold = 1.0
    panel = AssistantPanel(assistant)
    panel.send("show me my to-dos")
    buttons = panel.actions.children
    assert len(buttons) == 3 and buttons[0].description.startswith("list_todos")
    assistant.threshold = 0.5
    buttons[0].click()
    assert panel.history[-1][1].status == "done" and panel.history[-1][1].intent == "list_todos"


def test_panel_explain_and_escaping(assistant):
    panel = AssistantPanel(assistant)
    panel.explain.value = True
    panel.send("note that <b>bold</b> & co")
    assert "jupyter-llm-word-attention" in panel.conversation.value
    assert "<b>bold</b>" not in panel.conversation.value and "&lt;b&gt;bold&lt;/b&gt;" in panel.conversation.value
    panel.send("   ")  # an empty message is refused, not sent
    assert panel.history[-1][1].status == "error"
    panel.clear()
    assert panel.conversation.value == "" and panel.history == []
