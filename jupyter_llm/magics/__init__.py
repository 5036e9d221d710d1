"""IPython magics: ``%%generate`` / ``%generate`` and ``%llm``.

Load them with ``%load_ext jupyter_llm`` (or list ``jupyter_llm`` in
``c.InteractiveShellApp.extensions``). Loading registers the magics and the
``JupyterLLM`` configuration and imports no TensorFlow: the first magic that
needs a model pays that cost, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IPython.core.magic import Magics

from .config import JupyterLLM
from .generate import GenerateMagics
from .llm import LLMMagics
from .models import ModelSession

__all__ = ["JupyterLLM", "GenerateMagics", "LLMMagics", "load_ipython_extension", "unload_ipython_extension"]


@dataclass
class _Loaded:
    config: JupyterLLM
    session: ModelSession
    magics: list[Magics]


# One entry per shell the extension is loaded in (normally one).
_LOADED: dict[int, _Loaded] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and the ``JupyterLLM`` configurable with ``ipython``."""
    if id(ipython) in _LOADED:
        return
    config = JupyterLLM(parent=ipython)
    session = ModelSession(config, lambda: ipython.user_ns)
    magics: list[Magics] = [GenerateMagics(ipython, session), LLMMagics(ipython, session)]
    for m in magics:
        ipython.register_magics(m)
    ipython.configurables.append(config)
    _LOADED[id(ipython)] = _Loaded(config, session, magics)
    from ..assistant import register_magics as register_assistant
    from ..kernel import register_comm

    register_assistant(ipython)
    register_comm(ipython)  # the JupyterLab extension's channel (a no-op outside a kernel)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` added (``%unload_ext jupyter_llm``)."""
    loaded = _LOADED.pop(id(ipython), None)
    if loaded is None:
        return
    from ..assistant import unregister_magics as unregister_assistant
    from ..kernel import unregister_comm

    unregister_assistant(ipython)
    unregister_comm(ipython)
    manager = ipython.magics_manager
    for m in loaded.magics:
        for kind, table in m.magics.items():
            for name, func in table.items():
                if manager.magics[kind].get(name) == func:
                    del manager.magics[kind][name]
        manager.registry.pop(type(m).__name__, None)
    if loaded.config in ipython.configurables:
        ipython.configurables.remove(loaded.config)
    loaded.session.close()
