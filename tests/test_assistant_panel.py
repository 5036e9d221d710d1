"""AssistantPanel (the chat widget) and handle_request (the kernel channel's assistant request)."""

from __future__ import annotations

import json

import pytest
from assistant_support import assistant, assistant_models, clock, namespace  # noqa: F401

from jupyter_llm.assistant import AssistantPanel, handle_request
from jupyter_llm.errors import InvalidArgumentError


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


def test_handle_request_ask_undo_intents(assistant):
    out = handle_request({"message": "please remind me to phone Bob tomorrow at 3pm"}, assistant)
    json.dumps(out)  # JSON-ready for the channel
    assert out["action"] == "ask" and out["intent"] == "add_reminder" and out["status"] == "done"
    assert out["slots"] == {"task": "phone Bob", "time": "tomorrow at 3pm"}
    assert "Tue 11 Mar 2025 15:00" in out["text"] and out["html"].startswith("<div")
    assert out["attention"]["tokens"][:4] == ["please", "remind", "me", "to"]
    out = handle_request({"action": "ask", "message": "明天下午3点提醒我给妈妈打个电话"}, assistant)
    assert out["lang"] == "zh" and out["intent"] == "add_reminder"
    assert handle_request({"action": "undo"}, assistant)["text"].startswith("Undone")
    intents = handle_request({"action": "intents"}, assistant)["intents"]
    assert intents["add_reminder"]["zh"] and len(intents) >= 20
    assert handle_request({"action": "explain", "message": "hello"}, assistant)["status"] == "info"


@pytest.mark.parametrize("payload, fragment", [
    ("hello", "Expected a JSON object"),
    ({"action": "dance"}, "Expected one of ask"),
    ({"message": ""}, "Expected a non-empty string"),
    ({"message": "hi", "yes": "yes"}, "Expected true or false"),
    ({"action": "teach", "intent": "greet"}, "example"),
])
def test_handle_request_rejects_bad_payloads(assistant, payload, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        handle_request(payload, assistant)
