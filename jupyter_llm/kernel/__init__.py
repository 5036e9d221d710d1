"""The kernel end of the JupyterLab extension: the comm target ``jupyter_llm``.

``%load_ext jupyter_llm`` calls :func:`register_comm`; from then on the
JupyterLab front end (the drafting panel, inline completion, "Show attention
for selection") reaches the models of this kernel through one comm per front
end widget. The messages are described in :mod:`jupyter_llm.kernel.protocol`
and ``docs/protocol.md``.

>>> from jupyter_llm.kernel import register_comm
>>> register_comm(get_ipython())        # doctest: +SKIP
True

Nothing here imports TensorFlow: the first request that needs a model does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._version import __version__
from .channel import Channel, Worker
from ..shell import state_of
from .models import ModelRegistry
from .protocol import TARGET, VERSION, Envelope

__all__ = ["TARGET", "register_comm", "unregister_comm", "is_registered"]

log = logging.getLogger("jupyter_llm.kernel")


@dataclass
class _Registration:
    """The comm target of one shell and the channels opened on it."""

    models: ModelRegistry
    worker: Worker = field(default_factory=Worker)
    channels: list[Channel] = field(default_factory=list)

    def open(self, comm: Any, msg: dict[str, Any]) -> None:
        """The comm target: called by the kernel when a front end opens a comm."""
        self.channels = [c for c in self.channels if not c.closed]
        channel = Channel(comm, self.models, self.worker)
        self.channels.append(channel)
        data = msg.get("content", {}).get("data")
        if data:  # the front end sends its hello with the comm_open
            channel.handle(data)

    def insert_cell(self, text: str, cell_type: str, anchor: str) -> bool:
        """Ask the front ends to insert a cell below the one whose output holds ``anchor``.

        One ``insert_cell`` event, the same id on every open channel: a front end
        inserts only where it finds the anchor, and once per event id. Returns
        whether any front end was told (False: no channel is open).
        """
        envelope = Envelope("event", "insert_cell", payload={"text": text, "cell_type": cell_type, "anchor": anchor})
        sent = False
        for channel in [c for c in self.channels if not c.closed]:
            sent = channel.notify(envelope.to_dict()) or sent
        return sent


def _comm_manager(ipython: Any) -> Any:
    manager = getattr(getattr(ipython, "kernel", None), "comm_manager", None)
    if manager is None:
        import comm

        manager = comm.get_comm_manager()
    return manager


def register_comm(ipython: Any = None) -> bool:
    """Register the comm target ``jupyter_llm`` with the kernel of ``ipython``.

    Idempotent: a second call does nothing. Outside a kernel (plain IPython, a
    script) there is no comm to register and it returns False.

    After registering, it tells the front ends that are already open (a comm
    opened from the kernel carrying a ``ready`` event), so a drafting panel
    that found the kernel without jupyter_llm connects at once.
    """
    if ipython is None:
        from IPython import get_ipython

        ipython = get_ipython()
    if ipython is None or getattr(ipython, "kernel", None) is None:
        return False
    manager = _comm_manager(ipython)
    state = state_of(ipython, create=True)
    registration = state.channel
    if registration is not None and manager.targets.get(TARGET) == registration.open:
        return True
    if registration is None:
        registration = state.channel = _Registration(ModelRegistry(state.resolver))
    manager.register_target(TARGET, registration.open)
    _announce()
    return True


def unregister_comm(ipython: Any = None) -> None:
    """Remove the comm target and close the open channels (``%unload_ext``)."""
    if ipython is None:
        from IPython import get_ipython

        ipython = get_ipython()
    state = state_of(ipython)
    registration = state.channel if state is not None else None
    if registration is None:
        return
    state.channel = None
    manager = _comm_manager(ipython)
    if manager.targets.get(TARGET) == registration.open:
        manager.unregister_target(TARGET, registration.open)
    for channel in registration.channels:
        channel._on_close()
        try:
            channel.comm.close()
        except Exception:
            log.debug("jupyter_llm: could not close a channel", exc_info=True)


def is_registered(ipython: Any = None) -> bool:
    """Whether the comm target is registered with the kernel of ``ipython``."""
    if ipython is None:
        from IPython import get_ipython

        ipython = get_ipython()
    state = state_of(ipython)
    registration = state.channel if state is not None else None
    return registration is not None and \
        _comm_manager(ipython).targets.get(TARGET) == registration.open


def _announce() -> None:
    """Open and close a comm from the kernel: front ends waiting for jupyter_llm reconnect."""
    try:
        import comm

        ready = Envelope("event", "ready", payload={"protocol": VERSION, "version": __version__}).to_dict()
        announcement = comm.create_comm(target_name=TARGET, data=ready)
        announcement.close()
    except Exception:  # a front end without the extension: nothing to tell
        log.debug("jupyter_llm: could not announce the kernel channel", exc_info=True)
