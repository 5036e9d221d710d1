"""The per-shell state: what every surface of one IPython shell shares.

``%load_ext jupyter_llm`` makes one :class:`ShellState` for its shell
(:mod:`jupyter_llm.extension`); the magics, the panels and the kernel channel
all reach the same settings, model resolver and assistant through it::

    state = state_of(get_ipython())
    state.resolver.resolve("poems")      # the model %%generate -m poems uses
    state.assistant.ask("what's on today")

Outside a shell (a script, a test without IPython) :func:`state_of` returns
None and the surfaces make what they need themselves. Nothing here imports
TensorFlow.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from .resolver import Resolver
from .settings import JupyterLLM, JupyterLLMAssistant
from .warm_up import WarmUp

if TYPE_CHECKING:  # pragma: no cover
    from .assistant.core import Assistant

__all__ = ["ShellState", "state_of", "current_state", "shared_assistant"]


class ShellState:
    """The settings, the model resolver, the assistant and the channel of one shell.

    Attributes:
        shell: the IPython shell.
        config: the ``JupyterLLM`` settings (``%config JupyterLLM...``).
        assistant_config: the ``JupyterLLMAssistant`` settings.
        resolver: which model a name means, the listing and the loaded-model cache.
        warm_up: TensorFlow and the default model made ready in the background (started by
            ``%load_ext`` when ``JupyterLLM.warm_up`` is on); the magics wait for it.
        channel: the kernel channel's registration (set by :mod:`jupyter_llm.kernel`; None outside a kernel).
        magics: the magics registered with the shell (to remove them on unload).
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.config = JupyterLLM(parent=shell)
        self.assistant_config = JupyterLLMAssistant(parent=shell)
        self.resolver = Resolver(namespace=lambda: shell.user_ns,
                                 prefer=lambda: "user" if self.config.prefer_user_models else "bundled",
                                 default=lambda: self.config.default_model)
        self.warm_up = WarmUp(self.resolver)
        self.channel: Any = None
        self.magics: list[Any] = []
        self._assistant: "Assistant | None" = None
        self.config.observe(self._default_changed, names="default_model")
        self.assistant_config.observe(self._assistant_settings_changed, names=["db", "threshold"])

    # === The assistant ===

    @property
    def assistant(self) -> "Assistant":
        """The assistant of this shell: ``%assistant``, the AssistantPanel and the channel share it."""
        if self._assistant is None:
            from .assistant.core import Assistant

            self._assistant = Assistant(db=self.assistant_config.db, namespace=lambda: self.shell.user_ns,
                                        draft_model=self._draft_spec, threshold=self.assistant_config.threshold,
                                        resolver=self.resolver)
        return self._assistant

    @assistant.setter
    def assistant(self, value: "Assistant") -> None:
        self._assistant = value

    def _draft_spec(self) -> str | None:
        """``JupyterLLMAssistant.draft_model``; None lets the assistant use the shell's default model."""
        return self.assistant_config.draft_model or None

    def _assistant_settings_changed(self, change: Any) -> None:
        if self._assistant is None:
            return
        if change.name == "threshold":
            self._assistant.threshold = change.new
        else:
            self._assistant = None  # another database: open it on next use

    def _default_changed(self, change: Any) -> None:
        self.resolver.current = None  # the most recent choice wins

    def close(self) -> None:
        self.config.unobserve(self._default_changed, names="default_model")
        self.assistant_config.unobserve(self._assistant_settings_changed, names=["db", "threshold"])
        self.resolver.clear()


# shell -> its state; weak, so a shell that goes away takes its state with it.
_STATES: "weakref.WeakKeyDictionary[Any, ShellState]" = weakref.WeakKeyDictionary()


def state_of(shell: Any, create: bool = False) -> ShellState | None:
    """The state of ``shell`` (made when ``create`` and there is none yet), or None."""
    if shell is None:
        return None
    state = _STATES.get(shell)
    if state is None and create:
        state = _STATES[shell] = ShellState(shell)
    return state


def drop_state(shell: Any) -> ShellState | None:
    """Forget the state of ``shell`` (``%unload_ext``); returns it."""
    return _STATES.pop(shell, None)


def current_state() -> ShellState | None:
    """The state of the running IPython shell, if jupyter_llm is loaded in it."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the package
        return None
    return state_of(get_ipython())


_PROCESS_ASSISTANT: "Assistant | None" = None


def shared_assistant() -> "Assistant":
    """The assistant of the running shell (the one ``%assistant`` uses), else one for this process."""
    global _PROCESS_ASSISTANT
    state = current_state()
    if state is not None:
        return state.assistant
    if _PROCESS_ASSISTANT is None:
        from .assistant.core import Assistant

        _PROCESS_ASSISTANT = Assistant()
    return _PROCESS_ASSISTANT
