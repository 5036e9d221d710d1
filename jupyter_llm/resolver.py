"""Which model a name means: the one rule every surface uses.

A *spec* names a model in one of these ways, looked up in this order:

1. a variable of the user's namespace holding a ``LanguageModel``;
2. a model bundled with jupyter_llm or saved in the store under that name
   (when both exist, ``prefer`` decides: ``"bundled"``, the default, or ``"user"``);
3. a model folder at that path.

A *key* ``"origin:name"`` (``"saved:shakespeare"``, ``"bundled:shakespeare"``,
``"variable:lm"``) names exactly one model of the listing, so two models of
one name stay apart. Without a spec the *default* model is used: the model a
surface made current (``%llm train``), else the configured default
(``JupyterLLM.default_model``), else the bundled default (``shakespeare``).

The magics, the panels, the kernel channel, the assistant and the CLI all ask
one :class:`Resolver`; the JupyterLab front end picks from its listing. Loaded
models are cached by folder and modification time (thread-safe), so a cell run
again does not read the weights again; two threads asking for one folder at
once (the warm-up and a cell) load it once. Loading a model also starts its
:meth:`~jupyter_llm.model.language_model.LanguageModel.prepare` on a background
thread, so its first generation finds the compiled functions ready
(:meth:`Resolver.prepare` waits for them). Listing never imports TensorFlow;
loading a model does, once.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from . import store
from .errors import JupyterLLMError, ModelNotFoundError, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .model.language_model import LanguageModel

__all__ = ["ORIGINS", "LABELS", "PICKER_LABELS", "DEFAULT_BUNDLED", "ModelEntry", "Resolved", "Resolver",
           "is_language_model", "split_key", "bundled_model"]

#: Where a model comes from. ``memory``: a model object a surface was handed or made (not saved).
ORIGINS = ("variable", "saved", "bundled", "folder", "memory")
#: How each origin is shown to the user, on every surface.
LABELS = {"variable": "variable", "saved": "saved", "bundled": "bundled", "folder": "folder",
          "memory": "in memory"}
#: What a picker says after a model's name (``"lm — this notebook's variable"``): words a user knows.
PICKER_LABELS = {"variable": "this notebook's variable", "saved": "saved", "bundled": "bundled",
                 "folder": "from a folder", "memory": "in this notebook, not saved"}
#: Old names of origins (the kernel protocol's first ``source`` values), still understood.
ALIASES = {"namespace": "variable", "store": "saved", "user": "saved", "path": "folder"}
#: The bundled model used when no model has been chosen.
DEFAULT_BUNDLED = "shakespeare"
#: How many loaded models the cache keeps.
CACHE_SIZE = 4


def is_language_model(value: Any) -> bool:
    """Whether ``value`` is a LanguageModel, without importing the model code (and TensorFlow)."""
    module = sys.modules.get("jupyter_llm.model.language_model")
    cls = getattr(module, "LanguageModel", None)  # None while another thread is still importing it
    return cls is not None and isinstance(value, cls)


def origin_of(value: str | None) -> str | None:
    """An origin from its name or an old alias; None stays None."""
    if value is None:
        return None
    origin = ALIASES.get(value, value)
    if origin not in ORIGINS:
        raise invalid("source", f"one of {', '.join(ORIGINS[:3])} or None", value)
    return origin


def split_key(spec: str) -> tuple[str | None, str]:
    """``("saved", "poems")`` for the key ``"saved:poems"``; ``(None, spec)`` for a plain name or a path."""
    origin, sep, name = spec.partition(":")
    if sep and (origin in ORIGINS or origin in ALIASES) and name:
        return ALIASES.get(origin, origin), name
    return None, spec


def bundled_model(name: str | None = None) -> Path | None:
    """The folder of a model shipped inside jupyter_llm (``None``: the default one), if it is there.

    A source checkout has them only after ``scripts/train_default_models.py`` has run.
    """
    folder = store.bundled_dir() / (name or DEFAULT_BUNDLED)
    return folder if store.is_name(folder.name) and (folder / store.MANIFEST).is_file() else None


class _Named:
    """The key and the label of a model with a ``name`` and an ``origin``: one spelling everywhere."""

    name: str
    origin: str

    @property
    def key(self) -> str:
        return f"{self.origin}:{self.name}"

    @property
    def label(self) -> str:
        return f"{self.name} — {PICKER_LABELS[self.origin]}"


@dataclass(frozen=True)
class ModelEntry(_Named):
    """One model of the listing: what every picker shows and what the kernel channel sends."""

    name: str
    origin: str
    path: str | None = None
    parameters: int | None = None
    tokenizer: str | None = None
    val_loss: float | None = None
    created: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The protocol's ``model_info``."""
        return {"key": self.key, "name": self.name, "origin": self.origin, "label": self.label,
                "parameters": _int_or_none(self.parameters), "tokenizer": _str_or_none(self.tokenizer),
                "val_loss": _finite_or_none(self.val_loss), "created": _str_or_none(self.created)}


@dataclass(frozen=True)
class Resolved(_Named):
    """A model and how it was named (for messages and provenance)."""

    model: "LanguageModel"
    name: str  # what the user called it: a variable, a store name or a path
    origin: str  # one of ORIGINS


class Resolver:
    """Resolves, lists and caches the models of one shell (or of a script: no namespace).

    Args:
        namespace: a function returning the user's namespace (the shell may replace it), or None.
        prefer: ``"bundled"`` or ``"user"``, or a function returning one (a setting that may change).
        default: a function returning the configured default spec (``JupyterLLM.default_model``), or None.
    """

    def __init__(self, namespace: Callable[[], Mapping[str, Any]] | None = None,
                 prefer: str | Callable[[], str] = "bundled",
                 default: Callable[[], str | None] | None = None) -> None:
        self._namespace = namespace or dict
        self._variables = namespace is not None  # a script or the CLI has no variables to look in
        self._prefer = prefer
        self._default = default or (lambda: None)
        self.current: Resolved | None = None  # the model a surface made current (an unsaved %llm train)
        self._cache: OrderedDict[Path, tuple[int, "LanguageModel"]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Path, threading.Lock] = {}  # one per folder being read: a second reader waits
        self._preparing: "weakref.WeakKeyDictionary[Any, threading.Thread]" = weakref.WeakKeyDictionary()
        self._notes = threading.local()  # .note: told "loading model NAME…" before a folder is read

    @property
    def prefer(self) -> str:
        return self._prefer() if callable(self._prefer) else self._prefer

    def namespace(self) -> dict[str, Any]:
        return dict(self._namespace())  # a copy: the user's thread may change it meanwhile

    # === Resolving ===

    def resolve(self, spec: Any = None, *, source: str | None = None, what: str = "model") -> Resolved:
        """The model ``spec`` means (see the module's docstring); ``source`` limits where to look.

        Raises:
            ModelNotFoundError: nothing by that name; the message says what exists.
            JupyterLLMError: the name is malformed, or the folder is not a model.
        """
        if is_language_model(spec):
            return Resolved(spec, spec.name or "model", "memory")
        if spec is None:
            return self.default()
        if not isinstance(spec, str) or not spec.strip():
            raise invalid(what, "a model name, a key such as 'saved:NAME', or a model folder", spec)
        origin, name = split_key(spec.strip())
        origin = origin or origin_of(source)
        if origin is None:
            return self._by_name(name, what)
        found = self._from(origin, name)
        if found is None:
            raise ModelNotFoundError(f"There is no {LABELS[origin]} model named '{name}'. "
                                     f"Expected one of: {self._available(listing=True)}.")
        return found

    def _by_name(self, spec: str, what: str) -> Resolved:
        value = self.namespace().get(spec) if spec.isidentifier() else None
        if is_language_model(value):
            return Resolved(value, spec, "variable")
        if store.is_name(spec):
            folder = store.locate(spec, self.prefer)
            if (folder / store.MANIFEST).is_file():
                origin = "bundled" if folder.parent == store.bundled_dir() else "saved"
                return Resolved(self.load(folder), spec, origin)
        elif store.exists(spec):
            return Resolved(self.load(store.resolve(spec)), spec, "folder")
        if value is not None:
            raise ModelNotFoundError(
                f"{what} {spec} names a variable of type {type(value).__name__}, not a LanguageModel. "
                f"Expected a variable holding a model, or a saved model ({self._available()}).")
        if not store.is_name(spec):  # a path: the store explains what is wrong with the folder
            return Resolved(self.load(store.resolve(spec)), spec, "folder")
        kinds = "a model variable, a saved model" if self._variables else "a saved or bundled model"
        raise ModelNotFoundError(f"There is no model named '{spec}'. Expected {kinds} "
                                 f"({self._available()}) or a model folder.")

    def _from(self, origin: str, name: str) -> Resolved | None:
        if origin in ("variable", "memory"):
            value = self.namespace().get(name)
            if origin == "memory" and self.current is not None and self.current.name == name:
                return self.current
            return Resolved(value, name, "variable") if is_language_model(value) else None
        if origin == "folder":
            return Resolved(self.load(store.resolve(name)), name, "folder")
        root = store.bundled_dir() if origin == "bundled" else store.models_dir()
        folder = root / name
        if not store.is_name(name) or not (folder / store.MANIFEST).is_file():
            return None
        return Resolved(self.load(folder), name, origin)

    def default(self) -> Resolved:
        """The model to use when none is named."""
        if self.current is not None:
            return self.current
        spec = self._default()
        if spec:
            try:
                return self.resolve(spec, what="JupyterLLM.default_model")
            except JupyterLLMError as e:
                raise ModelNotFoundError(f"The default model (JupyterLLM.default_model = {spec!r}) cannot be used: "
                                         f"{str(e)[0].lower()}{str(e)[1:]}") from None
        bundled = bundled_model(None)
        if bundled is not None:
            return Resolved(self.load(bundled), bundled.name, "bundled")
        saved = [m.name for m in store.list_models() if not m.bundled]
        if saved:
            names = ", ".join(repr(n) for n in saved)
            raise ModelNotFoundError(f"No model is selected: choose one of the saved models ({names}) with "
                                     "%llm use NAME, or pass -m NAME.")
        raise ModelNotFoundError("There is no model yet: train one with %llm train SOURCE --name NAME "
                                 "(for example %llm train my_text --name mine --size tiny) or jl.train, "
                                 "or load one with %llm load PATH.")

    def has_choice(self) -> bool:
        """Whether a default model was chosen (made current, or configured), rather than the fallback."""
        return self.current is not None or bool(self._default())

    def default_key(self) -> str | None:
        """The key of the model :meth:`default` would use, without loading it (None: there is none)."""
        if self.current is not None:
            return self.current.key
        spec = self._default()
        if spec:
            return self.key_for(spec)
        return f"bundled:{DEFAULT_BUNDLED}" if bundled_model(None) is not None else None

    def key_for(self, spec: str) -> str:
        """The key of the model ``spec`` means, by the rule of :meth:`resolve`, without loading it."""
        origin, name = split_key(spec.strip())
        if origin:
            return f"{origin}:{name}"
        value = self.namespace().get(name) if name.isidentifier() else None
        if is_language_model(value):
            return f"variable:{name}"
        if store.is_name(name):
            folder = store.locate(name, self.prefer)
            return f"{'bundled' if folder.parent == store.bundled_dir() else 'saved'}:{name}"
        return f"folder:{name}"

    # === Listing ===

    def variables(self) -> dict[str, "LanguageModel"]:
        """The user's variables that hold a LanguageModel (private names excluded), by name."""
        return {k: v for k, v in sorted(self.namespace().items())
                if not k.startswith("_") and is_language_model(v)}

    def list(self) -> list[ModelEntry]:
        """Every usable model, one entry (one key) each: variables, then stored models by name.

        Of a saved and a bundled model of one name, the one a plain name means
        (``prefer``) comes first.
        """
        out = []
        for name, lm in self.variables().items():
            metrics = lm.metadata.get("metrics") or {}
            out.append(ModelEntry(name, "variable", None, lm.num_parameters, lm.tokenizer.kind,
                                  metrics.get("val_loss"), lm.metadata.get("created")))
        first = "saved" if self.prefer == "user" else "bundled"
        stored = sorted(store.list_models(), key=lambda m: (m.name, ("saved" if not m.bundled else "bundled") != first))
        for m in stored:
            if getattr(m, "damaged", None):
                continue
            out.append(ModelEntry(m.name, "bundled" if m.bundled else "saved", str(m.path), m.parameters,
                                  m.tokenizer, m.val_loss, m.created))
        return out

    def _available(self, listing: bool = False) -> str:
        """What exists, as the listing names it: ``available: 'lm' (variable), 'poems' (saved), ...``."""
        shown = [f"'{e.name}' ({LABELS[e.origin]})" for e in self.list()]
        if listing:
            return ", ".join(shown) if shown else "none yet (train one with jl.train or %llm train)"
        if not shown:
            return "none yet: train one with %llm train SOURCE --name NAME"
        return "available: " + ", ".join(shown)

    # === The cache ===

    def load(self, folder: str | Path) -> "LanguageModel":
        """Load a saved model, or take it from the cache if its files have not changed.

        A model read from disk starts preparing its generation in the background
        (:meth:`prepare`). Two threads loading one folder at once read it once.
        """
        folder = Path(folder).resolve()
        stamp = _stamp(folder)
        hit = self._cached(folder, stamp)
        if hit is not None:
            return hit
        with self._lock:
            reading = self._loading.setdefault(folder, threading.Lock())
        try:
            with reading:
                hit = self._cached(folder, stamp)  # loaded by another thread meanwhile
                if hit is not None:
                    return hit
                note = getattr(self._notes, "note", None)
                if note is not None:
                    tensorflow = "" if "tensorflow" in sys.modules else "TensorFlow and "
                    note(f"loading {tensorflow}model {folder.name}…")
                from .model.language_model import LanguageModel

                model = LanguageModel.load(folder, prepare=False)  # prepared below, where cells can wait for it
                self.remember(folder, model)
        finally:
            with self._lock:
                self._loading.pop(folder, None)
        self._prepare_in_background(model)
        return model

    def _cached(self, folder: Path, stamp: int) -> "LanguageModel | None":
        with self._lock:
            hit = self._cache.get(folder)
            if hit is not None and hit[0] == stamp:
                self._cache.move_to_end(folder)
                return hit[1]
        return None

    @contextlib.contextmanager
    def noting(self, note: Callable[[str], None] | None) -> Iterator[None]:
        """Within the block, ``note("loading model NAME…")`` is called (on this thread) before a folder is read."""
        before = getattr(self._notes, "note", None)
        self._notes.note = note
        try:
            yield
        finally:
            self._notes.note = before

    # === Preparing ===

    def _prepare_in_background(self, model: "LanguageModel") -> None:
        """Start ``model.prepare()`` on a daemon thread (what it compiles is then ready for the first cell)."""
        if not callable(getattr(model, "prepare_in_background", None)):
            return
        with self._lock:
            self._preparing[model] = model.prepare_in_background()

    def preparing(self, model: Any) -> bool:
        """Whether ``model`` is being prepared in the background now."""
        with self._lock:
            thread = self._preparing.get(model)
        return thread is not None and thread.is_alive()

    def prepare(self, model: "LanguageModel") -> None:
        """Have ``model``'s generation prepared: wait for the background preparation if one runs, else prepare now.

        Waiting for the thread, rather than calling ``model.prepare()`` beside
        it, leaves one thread building the model's decoder.
        """
        with self._lock:
            thread = self._preparing.get(model)
        if thread is not None:
            thread.join()
        elif callable(getattr(model, "prepare", None)):
            model.prepare()

    def remember(self, folder: str | Path, model: "LanguageModel") -> None:
        """Put a model just saved or loaded from ``folder`` in the cache."""
        folder = Path(folder).resolve()
        with self._lock:
            self._cache[folder] = (_stamp(folder), model)
            self._cache.move_to_end(folder)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def forget(self, folder: str | Path) -> None:
        with self._lock:
            self._cache.pop(Path(folder).resolve(), None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
        self.current = None


def _stamp(folder: Path) -> int:
    try:
        return (folder / store.MANIFEST).stat().st_mtime_ns
    except OSError:
        return -1


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _finite_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
