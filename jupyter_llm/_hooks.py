"""Seams that the package root connects, so that a lower room never imports a higher one (#11).

The core never imports ``display/``. Where it must still reach up, it calls a function held here,
which ``jupyter_llm/__init__.py`` fills when the package is imported (with
functions that import what they need on first call). This module imports
nothing.
"""

from __future__ import annotations

from typing import Any, Callable

#: Returns the renderer of an :class:`~jupyter_llm.model.attention.AttentionMap`: an object with
#: ``to_html(amap)``, ``to_text(amap, k)`` and ``mime_bundle(amap)`` (``jupyter_llm.display.attention``).
attention_renderer: Callable[[], Any] | None = None

#: Returns the renderer of an :class:`~jupyter_llm.model.explain.Explanation` or
#: :class:`~jupyter_llm.model.explain.Saliency`: an object with ``mime_bundle(obj)``,
#: ``to_html(obj)`` and ``to_text(obj)`` (``jupyter_llm.display.explain``).
explain_renderer: Callable[[], Any] | None = None
