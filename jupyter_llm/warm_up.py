"""The warm-up: TensorFlow and the default model, made ready on a daemon thread when the extension loads.

A fresh kernel's first ``%%generate`` used to show nothing for seconds:
TensorFlow's import, the model's load and the tracing of its functions.
``%load_ext jupyter_llm`` now starts a :class:`WarmUp` (unless
``JupyterLLM.warm_up`` is False or ``$JUPYTER_LLM_WARM_UP`` is ``0``), which does
those three things on a thread of its own through the shell's resolver, so that
they are done, or under way, when the first cell needs them::

    warm = WarmUp(state.resolver).start()   # returns at once
    warm.wait(note=print)                   # loading TensorFlow… / loading model shakespeare… / ...

A cell that comes before it is done waits for it (:meth:`WarmUp.wait`),
hearing what it waits for, and never does the same work twice: the model the
warm-up loaded is in the resolver's cache. A warm-up that fails (no default
model, a broken TensorFlow) says nothing and keeps its error in
:attr:`WarmUp.error`; the cell that needs the model then does its usual work and
reports the usual one-sentence error.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Callable

from . import _background

if TYPE_CHECKING:  # pragma: no cover
    from .model.language_model import LanguageModel
    from .resolver import Resolver

__all__ = ["ENV", "WarmUp", "enabled_by_environment"]

#: The environment variable that turns the warm-up off (``0``, ``false``, ``no``, ``off``) where
#: ``JupyterLLM.warm_up`` is not set: a test suite or a CI shell that wants no background work.
ENV = "JUPYTER_LLM_WARM_UP"

#: The stages, in order; a cell that needs only TensorFlow waits until ``"model"``.
STAGES = ("tensorflow", "model", "prepare", "done")

#: Seconds the interpreter waits at exit for a warm-up still running (TensorFlow dislikes being
#: torn down under a thread that is inside it).
EXIT_WAIT = 60.0


def enabled_by_environment() -> bool:
    """Whether ``$JUPYTER_LLM_WARM_UP`` leaves the warm-up on (it is on when the variable is unset)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class WarmUp:
    """Import TensorFlow, load the default model and prepare it, on a daemon thread.

    Args:
        resolver: the shell's resolver; the model goes into its cache, where the cells find it.

    Attributes:
        key: the key of the default model when the warm-up started (``"bundled:shakespeare"``), or None.
        model: the model it loaded and prepared (None until then, or if it failed).
        error: what went wrong (never raised, never printed; None if all went well).
        seconds: how long each stage took (``{"tensorflow": 3.1, "model": 0.6, "prepare": 2.0}``), as it ends.
    """

    def __init__(self, resolver: "Resolver") -> None:
        self.resolver = resolver
        self.key: str | None = None
        self.model: "LanguageModel | None" = None
        self.error: BaseException | None = None
        self._stage = len(STAGES) - 1  # "done" until started
        self._message: str | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.seconds: dict[str, float] = {}
        self._since = 0.0

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and STAGES[self._stage] != "done"

    @property
    def message(self) -> str | None:
        """What it is doing now (``"loading TensorFlow…"``), None when done."""
        return self._message

    def start(self) -> "WarmUp":
        """Start the thread (once); returns at once."""
        with self._changed:
            if self._thread is not None:
                return self
            self._stage, self._message, self._since = 0, "loading TensorFlow…", time.monotonic()
            try:
                self.key = self.resolver.default_key()  # which model it loads, for the cells to compare
            except Exception:  # noqa: BLE001  (the cell that needs the default model reports it)
                self.key = None
            self._thread = threading.Thread(target=self._run, name="jupyter_llm-warm-up", daemon=True)
        _background.keep(self._thread)  # the exit waits for it
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            from . import _tf  # noqa: F401  (TensorFlow, without its start-up notices)

            name = self.key.partition(":")[2] if self.key else "default"
            self._enter("model", f"loading model {name}…")
            model = self.resolver.default().model
            self._enter("prepare", f"preparing model {name}…")
            self.resolver.prepare(model)
            self.model = model
        except BaseException as error:  # noqa: BLE001  (kept for whoever asks; the cell reports its own)
            self.error = error
        finally:
            self._enter("done", None)

    def _enter(self, stage: str, message: str | None) -> None:
        with self._changed:
            now = time.monotonic()
            self.seconds[STAGES[self._stage]] = round(now - self._since, 3)
            self._stage, self._message, self._since = STAGES.index(stage), message, now
            self._changed.notify_all()

    def wait(self, note: Callable[[str], None] | None = None, *, model: bool = True) -> None:
        """Wait until the warm-up is done (``model=False``: until TensorFlow is imported).

        ``note`` is called, on the caller's thread, with each message of the
        stages waited through (``"loading TensorFlow…"``, ``"loading model shakespeare…"``,
        ``"preparing model shakespeare…"``). Returns at once if it is done or never started;
        raises nothing of the warm-up's own (see :attr:`error`).
        """
        until = STAGES.index("done" if model else "model")
        shown = None
        while True:
            with self._changed:
                while self._stage < until and self._message == shown and self._alive():
                    self._changed.wait(0.25)  # a timeout keeps Ctrl-C responsive
                if self._stage >= until or not self._alive():
                    return
                shown = self._message
            if note is not None and shown:
                note(shown)

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

