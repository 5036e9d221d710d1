""""Insert below": put generated text into a new notebook cell.

A button click reaches the kernel as a widget message, not as an execution, so
IPython's ``set_next_input`` (which rides on an execute reply) cannot act at
once. In order, :func:`insert_below` tries:

1. a handler registered with :func:`register_insert_handler` (newest first);
2. the jupyter_llm JupyterLab extension, through the kernel channel of the
   shell (``ShellState.channel.insert_cell``): it inserts the cell at once,
   below the cell whose output holds ``anchor`` (a CSS class of the panel),
   as a Markdown cell by default;
3. the queue: the cell is created when the next cell runs, below that cell,
   in every front end that honours ``set_next_input`` (JupyterLab, Notebook 7).
   That cell is a code cell; Markdown is queued as a ``%%markdown`` cell, so it
   shows as Markdown and Run All does not break on it.

Text inserted as Markdown goes through :func:`markdown_source`: it shows as the
model wrote it, line breaks kept, and nothing in it is taken as markup or HTML.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable

InsertHandler = Callable[[str], bool]

#: The cell types "Insert below" offers.
CELL_TYPES = ("markdown", "code")

_handlers: list[InsertHandler] = []
_lock = threading.Lock()
_pending: dict[int, tuple[str, Callable[[], None] | None]] = {}  # id(shell) -> (source, on_inserted)

QUEUED = ("Queued: the text will appear in a new cell below the next cell you run "
          "(Shift+Enter in any cell).")
#: Said instead when the text is Markdown: the queued cell is a code cell.
QUEUED_MARKDOWN = ("The jupyter_llm JupyterLab extension is not connected, so the text is queued: it will appear "
                   "below the next cell you run (Shift+Enter in any cell), as a %%markdown code cell.")
INSERTED = "Inserted the text in a new cell."
#: Said when the queued cell was made.
FLUSHED = "Inserted the text in a new cell below the cell you ran."


#: Characters that mean something to Markdown (or are HTML) anywhere in a line: escaped with a backslash.
_MARKUP = re.compile(r"([\\`*_\[\]<>#&|~])")
#: What starts a list, a quote or a heading at the start of a line.
_LINE_START = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))", re.MULTILINE)


def markdown_source(text: str) -> str:
    r"""``text`` as the source of a Markdown cell that shows exactly ``text``.

    Markdown's special characters and HTML are escaped with a backslash (so
    ``<script>`` shows as text, never as HTML), a line that would start a list
    keeps its marker as text, and each line break is a hard one (a backslash at
    the end of the line), so verse keeps its lines. Blank lines stay paragraph breaks.

    For example ``"ROMEO:\n<b>hi</b>"`` becomes ``"ROMEO:\\\n\\<b\\>hi\\</b\\>"``.
    """
    escaped = _LINE_START.sub(_escape_line_start, _MARKUP.sub(r"\\\1", text))
    lines = escaped.split("\n")
    return "\n".join(line + "\\" if line.strip() and i + 1 < len(lines) and lines[i + 1].strip() else line
                     for i, line in enumerate(lines))


def _escape_line_start(m: re.Match) -> str:
    """``- a`` as ``\\- a``, ``1. a`` as ``1\\. a``: the marker stays text."""
    indent, sign, number, dot = m.groups()
    return f"{indent}\\{sign}" if sign else f"{indent}{number}\\{dot}"


def inserted_as(cell_type: str) -> str:
    """The sentence for a cell the JupyterLab extension inserted at once."""
    return f"Inserted the text below this cell, as a {'Markdown' if cell_type == 'markdown' else 'code'} cell."


def register_insert_handler(handler: InsertHandler) -> Callable[[], None]:
    """Add ``handler(text) -> bool`` (True when it inserted the cell); returns a function that removes it."""
    with _lock:
        _handlers.append(handler)

    def remove() -> None:
        with _lock:
            if handler in _handlers:
                _handlers.remove(handler)

    return remove


def insert_below(text: str, shell: Any = None, *, cell_type: str = "code", anchor: str | None = None,
                 on_inserted: Callable[[], None] | None = None) -> str:
    """Insert ``text`` in a new cell of ``cell_type``; returns a sentence saying what happened.

    Args:
        text: the cell's source.
        shell: the IPython shell (default: the running one).
        cell_type: ``"markdown"`` or ``"code"``.
        anchor: a CSS class of the element (the panel) below whose cell the text goes.
        on_inserted: called once a queued cell has been made (not when inserted at once).

    Raises RuntimeError outside IPython when nothing took the text.
    """
    if cell_type not in CELL_TYPES:
        raise ValueError(f"Invalid value for argument cell_type. Expected one of {CELL_TYPES}. "
                         f"Received: cell_type={cell_type!r}")
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
    if cell_type == "markdown":
        text = markdown_source(text)
    if _through_extension(shell, text, cell_type, anchor):
        return inserted_as(cell_type)
    source = f"%%markdown\n{text}" if cell_type == "markdown" else text
    with _lock:
        first = id(shell) not in _pending
        _pending[id(shell)] = (source, on_inserted)  # the latest text wins
    if first:
        shell.events.register("post_run_cell", _make_flush(shell))
    return QUEUED_MARKDOWN if cell_type == "markdown" else QUEUED


def _through_extension(shell: Any, text: str, cell_type: str, anchor: str | None) -> bool:
    """Ask the JupyterLab extension to insert the cell now (through the kernel channel); whether it was asked."""
    from ..shell import state_of

    state = state_of(shell)
    insert_cell = getattr(getattr(state, "channel", None), "insert_cell", None)
    if insert_cell is None or not anchor:
        return False
    try:
        return bool(insert_cell(text, cell_type, anchor))
    except Exception:  # a channel that cannot send: the queue still works
        return False


def pending(shell: Any) -> str | None:
    """The source of the cell waiting to be inserted by ``shell``'s next execution, if any."""
    with _lock:
        entry = _pending.get(id(shell))
    return entry[0] if entry is not None else None


def _make_flush(shell: Any) -> Callable[..., None]:
    def flush(*args: Any) -> None:
        with _lock:
            entry = _pending.pop(id(shell), None)
        try:
            shell.events.unregister("post_run_cell", flush)
        except ValueError:
            pass
        if entry is not None:
            source, on_inserted = entry
            shell.set_next_input(source, replace=False)
            if on_inserted is not None:
                on_inserted()

    return flush
