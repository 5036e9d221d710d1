"""The models the kernel channel can use: the shell's resolver, seen from the channel.

A request names a model by ``model``: a key of the listing (``"saved:poems"``,
``"bundled:shakespeare"``, ``"variable:lm"``) or a plain name, which means
what it means everywhere (:mod:`jupyter_llm.resolver`: a variable, then the
saved or bundled model as ``JupyterLLM.prefer_user_models`` says, then a
folder). An optional ``source`` (``variable``, ``saved`` or ``bundled``; the
old ``namespace`` and ``store`` too) limits the search to one origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..resolver import Resolver

if TYPE_CHECKING:  # pragma: no cover
    from ..model.language_model import LanguageModel

__all__ = ["ModelRegistry"]


class ModelRegistry:
    """Lists and loads models for the requests of one kernel (thread-safe: the resolver's cache has a lock).

    Args:
        resolver: the shell's :class:`~jupyter_llm.resolver.Resolver`, or a function returning a namespace
            (a resolver over it is made, bundled models first).
    """

    def __init__(self, resolver: Resolver | Callable[[], Mapping[str, Any]]) -> None:
        self.resolver = resolver if isinstance(resolver, Resolver) else Resolver(namespace=resolver)

    def list(self) -> list[dict[str, Any]]:
        """Every usable model as a ``model_info`` dict (see ``protocol.json``)."""
        return [entry.to_dict() for entry in self.resolver.list()]

    def default(self) -> str | None:
        """The key of the model used when a request names none (None: there is none)."""
        return self.resolver.default_key()

    def get(self, name: str | None, source: str | None = None) -> "LanguageModel":
        """The model ``name`` means (a key or a name; None: the default model).

        Raises:
            ModelNotFoundError: nothing of that name; the message lists what exists.
        """
        return self.resolver.resolve(name, source=source, what="model").model

    def clear(self) -> None:
        self.resolver.clear()
