""""Insert below": put generated text into a new notebook cell.

A button click reaches the kernel as a widget message, not as an execution, so
IPython's ``set_next_input`` (which rides on an execute reply) cannot act at
once. Without a front-end extension the most robust thing that works in every
front end that honours ``set_next_input`` (JupyterLab, Notebook 7) is to queue
the text and create the cell when the next cell runs: it then appears below
that cell.

A front end that can do better (the jupyter_llm JupyterLab extension, through
its comm) registers a handler with :func:`register_insert_handler`; handlers are
tried first, newest first, and the queue is only the fallback.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

InsertHandler = Callable[[str], bool]

_handlers: list[InsertHandler] = []
_lock = threading.Lock()
_pending: dict[int, str] = {}  # id(shell) -> text queued for the next execution

QUEUED = ("Queued: the text will appear in a new cell below the next cell you run "
          "(Shift+Enter in any cell).")
INSERTED = "Inserted the text in a new cell."


def register_insert_handler(handler: InsertHandler) -> Callable[[], None]:
    """Add ``handler(text) -> bool`` (True when it inserted the cell); returns a function that removes it."""
    with _lock:
        _handlers.append(handler)

    def remove() -> None:
        with _lock:
            if handler in _handlers:
                _handlers.remove(handler)

    return remove


def insert_below(text: str, shell: Any = None) -> str:
    """Insert ``text`` in a new code cell; returns a sentence saying what happened.

    Raises RuntimeError outside IPython when no handler took the text.
    """
    with _lock:
        handlers = list(reversed(_handlers))
    for handler in handlers:
        try:
            if handler(text):
                return INSERTED
        except Exception:  # a broken handler falls back to the queue
            continue
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None:
        raise RuntimeError("Insert below needs a notebook: IPython is not running.")
    with _lock:
        first = id(shell) not in _pending
        _pending[id(shell)] = text  # the latest text wins
    if first:
        shell.events.register("post_run_cell", _make_flush(shell))
    return QUEUED


def pending(shell: Any) -> str | None:
    """The text waiting to be inserted by ``shell``'s next execution, if any."""
    with _lock:
        return _pending.get(id(shell))


def _make_flush(shell: Any) -> Callable[..., None]:
    def flush(*args: Any) -> None:
        with _lock:
            text = _pending.pop(id(shell), None)
        try:
            shell.events.unregister("post_run_cell", flush)
        except ValueError:
            pass
        if text is not None:
            shell.set_next_input(text, replace=False)

    return flush
