"""Rich displays: mime bundles and static HTML renderings (no TensorFlow).

The package root registers :mod:`jupyter_llm.display.attention` as the renderer of
:class:`~jupyter_llm.AttentionMap` (a core type that never imports this package).
"""

from .attention import AttentionMap

__all__ = ["AttentionMap"]
