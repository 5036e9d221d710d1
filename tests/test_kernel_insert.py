""""Insert below" through the kernel channel: one insert_cell event, else the queue said plainly."""

from __future__ import annotations

from types import SimpleNamespace

import comm as comm_package
import pytest

from jupyter_llm.kernel import register_comm, unregister_comm
from jupyter_llm.kernel.protocol import SPEC, TARGET, check_fields
from jupyter_llm.widgets.insert import (FLUSHED, QUEUED_MARKDOWN, insert_below, inserted_as, markdown_source,
                                        pending)


class FakeComm:
    """Records what the channel sends."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.close_callback = None

    def send(self, data):
        self.sent.append(data)

    def on_msg(self, callback):
        pass

    def on_close(self, callback):
        self.close_callback = callback

    def close(self):
        pass


def fake_shell():
    """A shell with a kernel's comm manager (hashable and weak-referenceable like a real one)."""
    from traitlets.config import Configurable

    shell = Configurable()
    shell.kernel = SimpleNamespace(comm_manager=comm_package.base_comm.CommManager())
    shell.user_ns = {}
    return shell


def _open(shell) -> FakeComm:
    fake = FakeComm()
    shell.kernel.comm_manager.targets[TARGET](fake, {"content": {"data": None}})
    return fake


def test_a_connected_front_end_gets_one_insert_cell_event_per_open_channel():
    shell = fake_shell()
    register_comm(shell)
    try:
        first, second, gone = _open(shell), _open(shell), _open(shell)
        gone.close_callback()
        note = insert_below("ROMEO:\n<b>hi</b>", shell, cell_type="markdown", anchor="jl-anchor-1")
        assert note == inserted_as("markdown") == "Inserted the text below this cell, as a Markdown cell."
        (event,) = first.sent
        assert event["kind"] == "event" and event["name"] == "insert_cell"
        assert event["payload"] == {"text": "ROMEO:\\\n\\<b\\>hi\\</b\\>", "cell_type": "markdown",
                                    "anchor": "jl-anchor-1"}  # shown as written: no markup, lines kept
        check_fields(event["payload"], SPEC["events"]["insert_cell"], "the insert_cell event")
        assert second.sent == [event]  # the same id: a front end inserts once per id
        assert gone.sent == []
        assert pending(shell) is None
        note = insert_below("x", shell, cell_type="code", anchor="a")
        assert note == "Inserted the text below this cell, as a code cell."
    finally:
        unregister_comm(shell)


def test_without_a_connected_front_end_markdown_is_queued_as_a_markdown_cell_and_said_so():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    made, told = [], []
    shell.set_next_input = lambda text, replace=False: made.append(text)
    try:
        note = insert_below("To be", shell, cell_type="markdown", anchor="jl-anchor-2",
                            on_inserted=lambda: told.append(FLUSHED))
        assert note == QUEUED_MARKDOWN and "not connected" in note and "%%markdown" in note
        assert made == [] and pending(shell) == "%%markdown\nTo be"
        shell.run_cell("1 + 1")
        assert made == ["%%markdown\nTo be"] and told == [FLUSHED]
    finally:
        del shell.set_next_input


def test_markdown_source_shows_the_text_as_written():
    verse = "ROMEO:\nBut, soft! what light\nthrough yonder window breaks?\n\nJULIET:\nAy me!"
    assert markdown_source(verse) == ("ROMEO:\\\nBut, soft! what light\\\nthrough yonder window breaks?\n\n"
                                      "JULIET:\\\nAy me!")  # hard line breaks; a blank line stays a paragraph
    assert markdown_source("<img src=x onerror=alert(1)> & *a* _b_ `c` [d](e) #f") == (
        "\\<img src=x onerror=alert(1)\\> \\& \\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\#f")
    assert markdown_source("- one\n2. two\n  + three") == "\\- one\\\n2\\. two\\\n  \\+ three"
    assert markdown_source("plain text, nothing to do.") == "plain text, nothing to do."


def test_an_unknown_cell_type_is_one_sentence():
    with pytest.raises(ValueError, match="Expected one of \\('markdown', 'code'\\). Received: cell_type='raw'"):
        insert_below("x", cell_type="raw")
