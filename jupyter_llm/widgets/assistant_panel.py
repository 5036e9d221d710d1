"""``AssistantPanel``: a chat-like widget over the same :class:`Assistant` as ``%assistant``.

>>> from jupyter_llm.widgets import AssistantPanel    # doctest: +SKIP
>>> AssistantPanel()                                    # doctest: +SKIP

Type a message and press Enter (or Send). A cancel or delete shows a
"Yes, do it" button instead of acting; a message it is unsure about shows one
button per likely intent; Undo reverts the last change; "Explain" adds the
attention over the words to each reply; the Teach row adds an example.
The widget holds no logic of its own: every button calls the Assistant.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..assistant.core import Assistant
from ..assistant.reply import Reply
from ..errors import JupyterLLMError

__all__ = ["AssistantPanel"]


class AssistantPanel(widgets.VBox):
    """A chat panel: the conversation above, the input and buttons below.

    Args:
        assistant: the :class:`Assistant` to talk to (None: the one ``%assistant`` uses).
        height: CSS height of the conversation area.

    Attributes:
        history: ``(message, Reply)`` of every turn, oldest first.
    """

    def __init__(self, assistant: Assistant | None = None, height: str = "360px", **kwargs: Any) -> None:
        if assistant is None:
            from ..shell import shared_assistant

            assistant = shared_assistant()
        self.assistant = assistant
        self.history: list[tuple[str, Reply]] = []
        self._callbacks: list[Callable[[str, Reply], None]] = []
        self._pending: tuple[str, str | None] | None = None  # the message waiting for --yes

        # === Widgets ===
        self.conversation = widgets.HTML(layout=widgets.Layout(height=height, overflow="auto", border="1px solid #ddd",
                                                      padding="4px"))
        self.input = widgets.Text(placeholder="Ask me anything I know… (English or 中文)", continuous_update=False,
                                  layout=widgets.Layout(flex="1"))
        self.send_button = widgets.Button(description="Send", button_style="primary", tooltip="Send the message")
        self.undo_button = widgets.Button(description="Undo", tooltip="Revert the last change")
        self.explain = widgets.ToggleButton(value=False, description="Explain", tooltip="Show the attention under replies")
        self.actions = widgets.HBox([])  # confirm or candidate buttons, when a reply asks for them
        self.teach_intent = widgets.Dropdown(options=sorted(assistant.intents), description="Teach",
                                             layout=widgets.Layout(width="260px"))
        self.teach_example = widgets.Text(placeholder='an example, slots as [value](slot)', layout=widgets.Layout(flex="1"))
        self.teach_button = widgets.Button(description="Teach", tooltip="Add the example and retrain (seconds)")
        self.status = widgets.HTML()

        self.input.observe(self._on_input, names="value")
        self.send_button.on_click(lambda _: self._submit(self.input.value))
        self.undo_button.on_click(lambda _: self.undo())
        self.teach_button.on_click(lambda _: self.teach(self.teach_intent.value, self.teach_example.value))
        super().__init__([
            self.conversation,
            self.actions,
            widgets.HBox([self.input, self.send_button, self.undo_button, self.explain]),
            widgets.HBox([self.teach_intent, self.teach_example, self.teach_button]),
            self.status,
        ], **kwargs)

    # === Events ===

    def on_reply(self, callback: Callable[[str, Reply], None], remove: bool = False) -> None:
        """Call ``callback(message, reply)`` after every reply (``remove=True`` unregisters it)."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def _on_input(self, change) -> None:
        if change.new and change.new.strip():  # Enter (continuous_update=False); clearing it sends nothing
            self._submit(change.new)

    def _submit(self, message: str) -> None:
        if not message or not message.strip():
            return
        self.input.value = ""
        self.send(message)

    # === Talking ===

    def send(self, message: str, yes: bool = False, intent: str | None = None) -> Reply | None:
        """Send a message as if typed; returns the reply (None when the message was refused)."""
        return self._turn(message, lambda: self.assistant.ask(message, yes=yes, intent=intent, explain=self.explain.value))

    def undo(self) -> Reply | None:
        return self._turn("undo", lambda: self.assistant.undo())

    def teach(self, intent: str, example: str) -> Reply | None:
        reply = self._turn(f"teach {intent}: {example}", lambda: self.assistant.teach(intent, example))
        if reply is not None and reply.status != "error":
            self.teach_example.value = ""
        return reply

    def _turn(self, message: str, act: Callable[[], Reply]) -> Reply | None:
        self.status.value = "<i>…</i>"
        self.actions.children = ()
        try:
            reply = act()
        except JupyterLLMError as e:
            reply = Reply(str(e), status="error")
        finally:
            self.status.value = ""
        self.history.append((message, reply))
        self._render()
        self._offer(message, reply)
        for callback in list(self._callbacks):
            callback(message, reply)
        return reply

    def _offer(self, message: str, reply: Reply) -> None:
        """Buttons for what the reply asks: confirming, or choosing an intent."""
        buttons = []
        if reply.status == "confirm":
            forced = reply.intent if reply.confidence == 1.0 else None
            yes = widgets.Button(description="Yes, do it", button_style="warning")
            yes.on_click(lambda _: self.send(message, yes=True, intent=forced))
            buttons.append(yes)
        elif reply.status == "unsure":
            for name, p in reply.candidates:
                b = widgets.Button(description=f"{name} ({p:.0%})", tooltip=f"Act on {name}")
                b.on_click(lambda _, name=name: self.send(message, intent=name))
                buttons.append(b)
        self.actions.children = tuple(buttons)

    def _render(self) -> None:
        turns = []
        for message, reply in self.history[-50:]:
            turns.append(f'<div style="text-align:right;margin:6px 0"><span style="background:#1f77b4;color:white;'
                         f'border-radius:10px;padding:3px 10px;display:inline-block;white-space:pre-wrap">'
                         f"{html.escape(message)}</span></div>{reply.to_html()}")
        self.conversation.value = "".join(turns)

    def clear(self) -> None:
        """Forget the conversation shown (the assistant's state is kept)."""
        self.history.clear()
        self._render()
        self.actions.children = ()
