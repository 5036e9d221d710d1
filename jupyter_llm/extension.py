"""``%load_ext jupyter_llm``: make the shell's state and register every surface on it.

Loading builds one :class:`~jupyter_llm.shell.ShellState` (settings, model
resolver, assistant), registers ``%%generate``/``%generate``, ``%llm`` and
``%assistant`` with it, adds the settings to ``%config``, and registers the
kernel channel's comm target (in a kernel; a no-op in plain IPython), so the
JupyterLab front end connects without ever sending code. It imports no
TensorFlow on the caller's thread: it starts the warm-up
(:mod:`jupyter_llm.warm_up`, unless ``JupyterLLM.warm_up`` is off), which imports
TensorFlow, loads the default model and prepares it on a daemon thread; the
first magic that needs them waits for it, saying what it waits for.
"""

from __future__ import annotations

from typing import Any

from .shell import drop_state, state_of

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, the settings and the comm target with ``ipython`` (idempotent)."""
    state = state_of(ipython, create=True)
    if state.magics:
        return
    from .kernel import register_comm
    from .magics import AssistantMagics, GenerateMagics, LLMMagics

    state.magics = [GenerateMagics(ipython, state), LLMMagics(ipython, state), AssistantMagics(ipython, state)]
    for magics in state.magics:
        ipython.register_magics(magics)
    for configurable in (state.config, state.assistant_config):
        if configurable not in ipython.configurables:
            ipython.configurables.append(configurable)
    register_comm(ipython)  # the JupyterLab extension's channel (a no-op outside a kernel)
    if state.config.warm_up:
        state.warm_up.start()


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` added (``%unload_ext jupyter_llm``)."""
    state = state_of(ipython)
    if state is None:
        return
    from .kernel import unregister_comm

    unregister_comm(ipython)
    manager = ipython.magics_manager
    for magics in state.magics:
        for kind, table in magics.magics.items():
            for name, func in table.items():
                if manager.magics[kind].get(name) == func:
                    del manager.magics[kind][name]
        manager.registry.pop(type(magics).__name__, None)
    for configurable in (state.config, state.assistant_config):
        if configurable in ipython.configurables:
            ipython.configurables.remove(configurable)
    state.close()
    drop_state(ipython)
