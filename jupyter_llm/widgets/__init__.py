"""Widget panels: train and generate interactively, and explore attention.

>>> import jupyter_llm.widgets as jw
>>> jw.open_panel("train")              # doctest: +SKIP
>>> jw.GeneratePanel(lm)                # doctest: +SKIP
>>> jw.AttentionView(lm.attention(text))  # doctest: +SKIP
>>> jw.AssistantPanel()                 # doctest: +SKIP

The panels are plain ipywidgets (plus HTML and CSS, no custom front-end code),
so they work in JupyterLab, Notebook 7 and VS Code without any extension.
Importing this package imports neither TensorFlow nor the panels themselves:
each is loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable

from ..errors import invalid

if TYPE_CHECKING:  # pragma: no cover
    from .assistant_panel import AssistantPanel
    from .attention_view import AttentionView
    from .generate_panel import GeneratePanel
    from .training import TrainingPanel

_LAZY = {
    "TrainingPanel": ".training",
    "GeneratePanel": ".generate_panel",
    "AttentionView": ".attention_view",
    "AssistantPanel": ".assistant_panel",
}

__all__ = ["TrainingPanel", "GeneratePanel", "AttentionView", "AssistantPanel", "open_panel", "register_panel", "PANELS"]

#: kind -> the panel's class, or "module:Class" (relative to this package, or absolute) imported on first use.
PANELS: dict[str, str | Callable[..., Any]] = {
    "train": ".training:TrainingPanel",
    "generate": ".generate_panel:GeneratePanel",
    "assistant": ".assistant_panel:AssistantPanel",
}


def register_panel(kind: str, factory: str | Callable[..., Any]) -> None:
    """Make ``open_panel(kind)`` (and ``%llm panel KIND``) build a panel with ``factory(**kwargs)``.

    >>> register_panel("notes", "my_package.panels:NotesPanel")   # doctest: +SKIP
    """
    PANELS[kind] = factory


def open_panel(kind: str, **kwargs: Any) -> Any:
    """A new panel of ``kind`` (``"train"`` or ``"generate"``), built with ``kwargs``; display it to show it.

    >>> open_panel("generate", model="poems", prompt="The sea")   # doctest: +SKIP
    """
    factory = PANELS.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise invalid("kind", f"one of {sorted(PANELS)}", kind)
    if isinstance(factory, str):
        module, _, name = factory.partition(":")
        factory = getattr(_import(module), name)
    return factory(**kwargs)


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module, __name__)
    except ModuleNotFoundError as e:
        if e.name == "ipywidgets":
            raise ModuleNotFoundError("The jupyter_llm panels need ipywidgets 8. Expected it installed: "
                                      "pip install 'jupyter_llm[notebook]'.", name="ipywidgets") from None
        raise


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_llm.widgets' has no attribute {name!r}")
    value = getattr(_import(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
