"""The models the kernel channel can use: variables of the user, then saved models.

A request names a model by ``model`` (a name) and optionally ``source``:

* ``"namespace"``: a variable of the user namespace holding a ``LanguageModel``;
* ``"store"``: a model saved in the user's store (``jl.list_models()``);
* ``"bundled"``: a model shipped with jupyter_llm.

Without ``source`` the first match in that order wins, as in the magics.
Loaded models are kept (a few, by folder and modification time), so the
second request does not read the weights again. Listing models never imports
TensorFlow; loading one does, once.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .. import store
from ..errors import ModelNotFoundError, invalid

if TYPE_CHECKING:  # pragma: no cover
    from ..model.language_model import LanguageModel

#: How many loaded models are kept in memory.
CACHE_SIZE = 4
SOURCES = ("namespace", "store", "bundled")


def is_language_model(value: Any) -> bool:
    """Whether ``value`` is a LanguageModel, without importing the model code (and TensorFlow)."""
    module = sys.modules.get("jupyter_llm.model.language_model")
    return module is not None and isinstance(value, module.LanguageModel)


class ModelRegistry:
    """Lists and loads models for the requests of one kernel (thread-safe)."""

    def __init__(self, namespace: Callable[[], Mapping[str, Any]]) -> None:
        self._namespace = namespace  # a getter: the shell may replace its namespace
        self._cache: OrderedDict[Path, tuple[int, "LanguageModel"]] = OrderedDict()
        self._lock = threading.Lock()

    # === Listing ===

    def variables(self) -> dict[str, "LanguageModel"]:
        """The user's variables that hold a LanguageModel (private names excluded)."""
        ns = dict(self._namespace())  # a copy: the user's thread may change it meanwhile
        return {k: v for k, v in sorted(ns.items()) if not k.startswith("_") and is_language_model(v)}

    def list(self) -> list[dict[str, Any]]:
        """Every usable model as a ``model_info`` dict (see ``protocol.SPEC["shapes"]``)."""
        import jupyter_llm as jl

        out = []
        for name, lm in self.variables().items():
            metrics = lm.metadata.get("metrics") or {}
            out.append(_info(name, "namespace", lm.num_parameters, lm.tokenizer.kind,
                             metrics.get("val_loss"), lm.metadata.get("created")))
        for m in jl.list_models():
            out.append(_info(m.name, "bundled" if m.bundled else "store", m.parameters, m.tokenizer,
                             m.val_loss, m.created))
        return out

    # === Loading ===

    def get(self, name: str, source: str | None = None) -> "LanguageModel":
        """The model called ``name`` (from ``source``, or the first source that has it).

        Raises:
            ModelNotFoundError: nothing of that name; the message lists what exists.
        """
        import jupyter_llm as jl

        if source is not None and source not in SOURCES:
            raise invalid("source", f"one of {', '.join(SOURCES)} or null", source)
        if source in (None, "namespace"):
            value = self._namespace().get(name)
            if is_language_model(value):
                return value
        if source is None and store.is_name(name):
            folder = store.locate(name)  # a bundled model before a saved one of the same name, as everywhere
            if (folder / store.MANIFEST).is_file():
                return self._load(folder)
        elif source in ("store", "bundled"):
            for m in jl.list_models():
                if m.name == name and (source is None or (source == "bundled") == m.bundled):
                    return self._load(Path(m.path))
        available = [f"{m['name']} ({m['source']})" for m in self.list()]
        where = f" among the {source} models" if source else ""
        raise ModelNotFoundError(
            f"There is no model named '{name}'{where}. Expected one of: "
            f"{', '.join(available) if available else 'none yet (train one with jl.train or %llm train)'}."
        )

    def _load(self, folder: Path) -> "LanguageModel":
        import jupyter_llm as jl

        folder = folder.resolve()
        stamp = _stamp(folder)
        with self._lock:
            hit = self._cache.get(folder)
            if hit is not None and hit[0] == stamp:
                self._cache.move_to_end(folder)
                return hit[1]
        lm = jl.load(folder)
        with self._lock:
            self._cache[folder] = (stamp, lm)
            self._cache.move_to_end(folder)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return lm

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def _info(name: str, source: str, parameters: Any, tokenizer: Any, val_loss: Any, created: Any) -> dict[str, Any]:
    return {
        "name": name,
        "source": source,
        "parameters": int(parameters) if isinstance(parameters, (int, float)) else None,
        "tokenizer": tokenizer if isinstance(tokenizer, str) else None,
        "val_loss": float(val_loss) if isinstance(val_loss, (int, float)) and math.isfinite(val_loss) else None,
        "created": created if isinstance(created, str) else None,
    }


def _stamp(folder: Path) -> int:
    try:
        return (folder / "manifest.json").stat().st_mtime_ns
    except OSError:
        return -1
