"""The magics' view of the shell's model resolver: the same rule, with errors as ``UsageError``.

Which model ``-m NAME`` (or no ``-m``) means is decided by
:class:`jupyter_llm.resolver.Resolver`, the one rule the panels, the kernel
channel, the assistant and the CLI use too; this only turns its one-sentence
errors into IPython's ``UsageError`` (no traceback) and names the option.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..resolver import DEFAULT_BUNDLED, Resolved
from .output import WaitingNote
from .parsing import user_errors

if TYPE_CHECKING:  # pragma: no cover
    from ..model.language_model import LanguageModel
    from ..shell import ShellState

__all__ = ["DEFAULT_BUNDLED", "ModelSession", "Resolved"]


class ModelSession:
    """The models the magics of one shell know about (a thin view of ``state.resolver``)."""

    def __init__(self, state: "ShellState") -> None:
        self.state = state
        self.resolver = state.resolver
        self.config = state.config

    @property
    def current(self) -> Resolved | None:
        return self.resolver.current

    @current.setter
    def current(self, value: Resolved | None) -> None:
        self.resolver.current = value

    @property
    def prefer(self) -> str:
        return self.resolver.prefer

    def resolve(self, spec: str | None, option: str = "-m", note: Callable[[str], None] | None = None) -> Resolved:
        """The model ``spec`` names, or the current model when ``spec`` is None.

        If the warm-up (``%load_ext``) is still running, this waits for it: for
        all of it when it is loading this model, else until TensorFlow is in.
        ``note`` is told what the cell waits for (``"loading model shakespeare…"``),
        a model read from disk included; without one, the warm-up's stages are
        shown on a line of their own, emptied when the model is there.
        """
        own = note is None and self.state.warm_up.running
        if own:
            note = WaitingNote(self.state.shell)
        try:
            with user_errors():
                self.wait_for_warm_up(spec, note)
                with self.resolver.noting(note):
                    return self.resolver.resolve(spec, what=option)
        finally:
            if own:
                note.clear()

    def wait_for_warm_up(self, spec: str | None, note: Callable[[str], None] | None = None) -> None:
        """Wait for the warm-up if it runs (see :meth:`resolve`); its own failure is not raised here."""
        warm = self.state.warm_up
        if not warm.running:
            return
        warm.wait(note, model=spec is None or self._key(spec) in (None, warm.key))

    def _key(self, spec: str) -> str | None:
        try:
            return self.resolver.key_for(spec)
        except Exception:  # noqa: BLE001  (resolving reports a malformed spec, once the warm-up is done)
            return None

    def prepare(self, resolved: Resolved, note: Callable[[str], None] | None = None) -> None:
        """Wait for the model's compiled functions if they are being prepared in the background (since its load)."""
        if self.resolver.preparing(resolved.model):
            if note is not None:
                note(f"preparing model {resolved.name}…")
            self.resolver.prepare(resolved.model)

    def load(self, folder: Path) -> "LanguageModel":
        with user_errors():
            return self.resolver.load(folder)

    def remember(self, folder: Path, model: Any) -> None:
        self.resolver.remember(folder, model)

    def forget(self, folder: Path) -> None:
        self.resolver.forget(folder)

    def variables(self) -> list[str]:
        """Names of the user's variables that hold a LanguageModel."""
        return list(self.resolver.variables())
