"""The magics' view of the shell's model resolver: the same rule, with errors as ``UsageError``.

Which model ``-m NAME`` (or no ``-m``) means is decided by
:class:`jupyter_llm.resolver.Resolver`, the one rule the panels, the kernel
channel, the assistant and the CLI use too; this only turns its one-sentence
errors into IPython's ``UsageError`` (no traceback) and names the option.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..resolver import DEFAULT_BUNDLED, Resolved
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

    def resolve(self, spec: str | None, option: str = "-m") -> Resolved:
        """The model ``spec`` names, or the current model when ``spec`` is None."""
        with user_errors():
            return self.resolver.resolve(spec, what=option)

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
