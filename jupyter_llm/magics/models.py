"""Which model a magic means: a variable, a saved model, a folder, or the default.

``-m NAME`` is looked up in this order:

1. a variable of the user namespace holding a ``LanguageModel``;
2. a model bundled with jupyter_llm, or saved in the store, under that name
   (when both exist, the bundled one unless ``JupyterLLM.prefer_user_models``);
3. a model folder at that path.

Without ``-m`` the *current* model is used: the last one ``%llm train`` made
(unsaved), else ``JupyterLLM.default_model`` (set by ``%llm use``, ``%llm load``,
``%config`` or ``ipython_config.py``), else the bundled default (``shakespeare``).

Loaded models are cached by folder and modification time, so a cell run again
does not load the weights again. Nothing here imports TensorFlow until a
model is actually loaded.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from IPython.core.error import UsageError

from .. import store
from ..errors import JupyterLLMError
from .config import JupyterLLM

if TYPE_CHECKING:  # pragma: no cover
    from ..model.language_model import LanguageModel

#: How many loaded models the cache keeps.
CACHE_SIZE = 4

#: The bundled model ``%%generate`` uses when no model has been chosen.
DEFAULT_BUNDLED = "shakespeare"


def bundled_model(name: str | None) -> Path | None:
    """The folder of a model shipped inside jupyter_llm (``None``: the default one), if it is there.

    The one place where the magics look for bundled models; a source checkout
    has them only after ``scripts/train_default_models.py`` has run.
    """
    folder = store.bundled_dir() / (name or DEFAULT_BUNDLED)
    return folder if store.is_name(folder.name) and (folder / store.MANIFEST).is_file() else None


def is_language_model(value: Any) -> bool:
    """Whether ``value`` is a LanguageModel, without importing the model code (and TensorFlow)."""
    module = sys.modules.get("jupyter_llm.model.language_model")
    return module is not None and isinstance(value, module.LanguageModel)


@dataclass
class Resolved:
    """A model and how the user named it (for messages and provenance)."""

    model: "LanguageModel"
    label: str  # the name shown to the user: variable, store name or path
    origin: str  # "variable", "store", "path", "bundled" or "session"


class ModelSession:
    """The models the magics of one shell know about."""

    def __init__(self, config: JupyterLLM, namespace: Callable[[], Mapping[str, Any]]) -> None:
        self.config = config
        self._namespace = namespace  # a getter: the shell may replace its namespace
        self.current: Resolved | None = None  # an unsaved model made by %llm train
        self._cache: OrderedDict[Path, tuple[int, "LanguageModel"]] = OrderedDict()
        config.observe(self._default_changed, names="default_model")

    @property
    def prefer(self) -> str:
        """Which of a bundled and a saved model of the same name a name means (``store.locate``)."""
        return "user" if self.config.prefer_user_models else "bundled"

    @property
    def namespace(self) -> Mapping[str, Any]:
        return self._namespace()

    def close(self) -> None:
        self.config.unobserve(self._default_changed, names="default_model")
        self._cache.clear()
        self.current = None

    def _default_changed(self, change) -> None:
        self.current = None  # the most recent choice wins

    # === Looking models up ===

    def resolve(self, spec: str | None, option: str = "-m") -> Resolved:
        """The model ``spec`` names, or the current model when ``spec`` is None."""
        if spec is None:
            return self.default()
        spec = spec.strip()
        value = self.namespace.get(spec) if spec.isidentifier() else None
        if is_language_model(value):
            return Resolved(value, spec, "variable")
        try:
            if store.is_name(spec):
                folder = store.locate(spec, self.prefer)
                if (folder / store.MANIFEST).is_file():
                    origin = "bundled" if folder.parent == store.bundled_dir() else "store"
                    return Resolved(self.load(folder), spec, origin)
            elif store.exists(spec):
                return Resolved(self.load(store.resolve(spec)), spec, "path")
        except JupyterLLMError as e:  # a malformed name
            raise UsageError(str(e)) from None
        if value is not None:
            raise UsageError(
                f"{option} {spec} names a variable of type {type(value).__name__}, not a LanguageModel. "
                f"Expected a variable holding a model, or a saved model ({self._available()})."
            )
        if not store.is_name(spec):  # a path: the store explains what is wrong with the folder
            try:
                return Resolved(self.load(store.resolve(spec)), spec, "path")
            except JupyterLLMError as e:
                raise UsageError(str(e)) from None
        raise UsageError(f"There is no model named '{spec}'. Expected a model variable, a saved model "
                         f"({self._available()}) or a model folder.")

    def default(self) -> Resolved:
        """The model to use when none is named."""
        if self.current is not None:
            return self.current
        spec = self.config.default_model
        if spec:
            try:
                return self.resolve(spec, option="JupyterLLM.default_model")
            except UsageError as e:
                raise UsageError(f"The default model (JupyterLLM.default_model = {spec!r}) cannot be used: "
                                 f"{str(e)[0].lower()}{str(e)[1:]}") from None
        bundled = bundled_model(None)
        if bundled is not None:
            return Resolved(self.load(bundled), bundled.name, "bundled")
        saved = [m.name for m in store.list_models() if not m.bundled]
        if saved:
            names = ", ".join(repr(n) for n in saved)
            raise UsageError(f"No model is selected: choose one of the saved models ({names}) with "
                             "%llm use NAME, or pass -m NAME.")
        raise UsageError("There is no model yet: train one with %llm train SOURCE --name NAME "
                         "(for example %llm train my_text --name mine --size tiny), or load one with "
                         "%llm load PATH.")

    def load(self, folder: Path) -> "LanguageModel":
        """Load a saved model, or take it from the cache if its files have not changed."""
        folder = Path(folder).resolve()
        stamp = _stamp(folder)
        hit = self._cache.get(folder)
        if hit is not None and hit[0] == stamp:
            self._cache.move_to_end(folder)
            return hit[1]
        from ..store import load

        try:
            model = load(folder)
        except JupyterLLMError as e:
            raise UsageError(str(e)) from None
        self.remember(folder, model)
        return model

    def remember(self, folder: Path, model: "LanguageModel") -> None:
        """Put a model just saved or loaded from ``folder`` in the cache."""
        folder = Path(folder).resolve()
        self._cache[folder] = (_stamp(folder), model)
        self._cache.move_to_end(folder)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def forget(self, folder: Path) -> None:
        self._cache.pop(Path(folder).resolve(), None)

    # === What exists ===

    def variables(self) -> list[str]:
        """Names of the user's variables that hold a LanguageModel."""
        return sorted(k for k, v in self.namespace.items() if not k.startswith("_") and is_language_model(v))

    def _available(self) -> str:
        saved = [m.name for m in store.list_models()]
        shown = [f"'{n}'" for n in saved] + [f"variable {v}" for v in self.variables()]
        if not shown:
            return "none yet: train one with %llm train SOURCE --name NAME"
        return "available: " + ", ".join(shown)


def _stamp(folder: Path) -> int:
    try:
        return (folder / store.MANIFEST).stat().st_mtime_ns
    except OSError:
        return -1
