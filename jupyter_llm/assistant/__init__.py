"""A local, private personal assistant whose understanding is a teachable intent and slot model.

>>> from jupyter_llm.assistant import Assistant              # doctest: +SKIP
>>> Assistant().ask("remind me to call Bob tomorrow at 3pm")  # doctest: +SKIP

In a notebook, ``%load_ext jupyter_llm`` then ``%assistant MESSAGE``, or the
chat widget ``jupyter_llm.widgets.AssistantPanel()`` (see ``docs/assistant.md``). Its state (events, notes, the mood journal, taught
examples) lives in one SQLite file, ``home()/assistant.db``.

Importing this package imports nothing heavy (no TensorFlow, numpy or
ipywidgets): the models load on the first message. Its magic, panel and
settings live with the other surfaces (``jupyter_llm.magics``,
``jupyter_llm.widgets``, ``jupyter_llm.settings``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..settings import JupyterLLMAssistant
    from .core import Assistant
    from .reply import Reply
    from .state import AssistantStore, default_db_path

__all__ = [
    "Assistant",
    "Reply",
    "AssistantStore",
    "JupyterLLMAssistant",
    "default_db_path",
]

# name -> module that defines it, imported on first access: registering the magic stays cheap.
_LAZY = {
    "Assistant": ".core",
    "Reply": ".reply",
    "AssistantStore": ".state",
    "default_db_path": ".state",
    "JupyterLLMAssistant": "..settings",
}


#: Names that moved to the rooms of the other surfaces in 0.2 (#11), and where they are now.
_MOVED = {"AssistantPanel": "jupyter_llm.widgets", "AssistantMagics": "jupyter_llm.magics"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if name in _MOVED:
        raise AttributeError(f"{name} moved to {_MOVED[name]} in jupyter_llm 0.2. Expected: "
                             f"from {_MOVED[name]} import {name}")
    if module is None:
        raise AttributeError(f"module 'jupyter_llm.assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
