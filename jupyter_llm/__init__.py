"""jupyter_llm: a small, private GRU-attention language model in your Jupyter kernel.

>>> import jupyter_llm as jl
>>> lm = jl.train("some text ...", epochs=1)          # doctest: +SKIP
>>> lm.generate("To be", max_tokens=50, seed=0)        # doctest: +SKIP

Importing this package does not import TensorFlow: the first call that needs
the model pays that cost, once. The heavy names below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _hooks
from ._version import __version__
from .config import SIZES, ModelConfig
from .errors import (
    CorruptModelError,
    DataError,
    InvalidArgumentError,
    JupyterLLMError,
    ModelExistsError,
    ModelNotFoundError,
    NoCopyIndexError,
    PromptTooLongError,
    TrainingDivergedError,
)

if TYPE_CHECKING:  # pragma: no cover
    from .model.attention import AttentionMap
    from .model.copied import CopiedSpan, Copies, CopyIndex
    from .model.explain import Explanation, Saliency
    from .model.language_model import LanguageModel
    from .run_history import delete_model, runs
    from .store import list_models
    from .text.tokenizers import BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer
    from .training.events import ProgressEvent
    from .training.prepare import build_model
    from .training.trainer import train

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY = {
    "train": ".training.trainer",
    "build_model": ".training.prepare",
    "ProgressEvent": ".training.events",
    "LanguageModel": ".model.language_model",
    "AttentionMap": ".model.attention",
    "Explanation": ".model.explain",
    "Saliency": ".model.explain",
    "CopiedSpan": ".model.copied",
    "Copies": ".model.copied",
    "CopyIndex": ".model.copied",
    "list_models": ".store",
    "delete_model": ".run_history",
    "runs": ".run_history",
    "Tokenizer": ".text.tokenizers",
    "CharTokenizer": ".text.tokenizers",
    "WordTokenizer": ".text.tokenizers",
    "BPETokenizer": ".text.tokenizers",
    "TrainingPanel": ".widgets",
    "GeneratePanel": ".widgets",
    "AttentionView": ".widgets",
}

__all__ = [
    "__version__",
    "train",
    "build_model",
    "load",
    "list_models",
    "delete_model",
    "runs",
    "LanguageModel",
    "ModelConfig",
    "SIZES",
    "AttentionMap",
    "Explanation",
    "Saliency",
    "CopiedSpan",
    "Copies",
    "CopyIndex",
    "ProgressEvent",
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "TrainingPanel",
    "GeneratePanel",
    "AttentionView",
    "JupyterLLMError",
    "InvalidArgumentError",
    "DataError",
    "ModelNotFoundError",
    "ModelExistsError",
    "CorruptModelError",
    "PromptTooLongError",
    "TrainingDivergedError",
    "NoCopyIndexError",
    "load_ipython_extension",
    "unload_ipython_extension",
]


#: Subpackages reachable as attributes (``jl.nlu``) without being imported up front.
_SUBMODULES = {"nlu", "assistant", "widgets", "magics", "datasets", "sources"}


def load(path_or_name: Any, prefer: str = "bundled", prepare: bool | None = None) -> "LanguageModel":
    """Load a model saved by :meth:`LanguageModel.save`: by name (bundled or saved) or folder path.

    ``prefer="user"`` loads your own model when it has the name of a bundled one
    (by default the bundled one is loaded). The model's generation is compiled
    on a background thread (``prepare``; see :meth:`LanguageModel.load`).
    """
    from .model.language_model import LanguageModel

    return LanguageModel.load(path_or_name, prefer=prefer, prepare=prepare)


def _attention_renderer() -> Any:
    """The renderer of :class:`AttentionMap` (the core type calls it; it never imports display)."""
    from .display import attention

    return attention


def _explain_renderer() -> Any:
    """The renderer of :class:`Explanation` and :class:`Saliency` (core types that never import display)."""
    from .display import explain

    return explain


# The seams through which lower rooms reach up without importing (#11, jupyter_llm/_hooks.py).
_hooks.attention_renderer = _attention_renderer
_hooks.explain_renderer = _explain_renderer


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext jupyter_llm``: registers the magics (no TensorFlow)."""
    from .extension import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by ``%unload_ext jupyter_llm``."""
    from .extension import unload_ipython_extension as _unload

    _unload(ipython)
