"""A local, private personal assistant whose understanding is a teachable intent and slot model.

>>> from jupyter_llm.assistant import Assistant              # doctest: +SKIP
>>> Assistant().ask("remind me to call Bob tomorrow at 3pm")  # doctest: +SKIP

In a notebook, ``%load_ext jupyter_llm`` then ``%assistant MESSAGE`` (see
``docs/assistant.md``). Its state (events, notes, the mood journal, taught
examples) lives in one SQLite file, ``home()/assistant.db``.

Importing this package imports nothing heavy (no TensorFlow, numpy or
ipywidgets): the models load on the first message, the widget on first access
to ``AssistantPanel``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .channel import default_assistant, handle_request
    from .core import Assistant
    from .magics import AssistantMagics, JupyterLLMAssistant
    from .panel import AssistantPanel
    from .reply import Reply
    from .state import AssistantStore, default_db_path

__all__ = [
    "Assistant",
    "Reply",
    "AssistantStore",
    "AssistantPanel",
    "AssistantMagics",
    "JupyterLLMAssistant",
    "register_magics",
    "unregister_magics",
    "handle_request",
    "default_assistant",
    "default_db_path",
]

# name -> module that defines it, imported on first access: registering the magic stays cheap.
_LAZY = {
    "Assistant": ".core",
    "Reply": ".reply",
    "AssistantStore": ".state",
    "default_db_path": ".state",
    "handle_request": ".channel",
    "default_assistant": ".channel",
    "AssistantPanel": ".panel",
    "AssistantMagics": ".magics",
    "JupyterLLMAssistant": ".magics",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_llm.assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def register_magics(ipython: Any):
    """Register ``%assistant`` / ``%%assistant`` with ``ipython`` (called by ``load_ipython_extension``)."""
    from .magics import register_magics as _register

    return _register(ipython)


def unregister_magics(ipython: Any) -> None:
    """Remove ``%assistant`` from ``ipython`` (called by ``unload_ipython_extension``)."""
    from .magics import unregister_magics as _unregister

    _unregister(ipython)
