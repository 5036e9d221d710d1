"""IPython magics: ``%%generate`` / ``%generate``, ``%llm`` and ``%assistant``.

Load them with ``%load_ext jupyter_llm`` (or list ``jupyter_llm`` in
``c.InteractiveShellApp.extensions``): :mod:`jupyter_llm.extension` makes the
shell's state (:mod:`jupyter_llm.shell`) and registers these magics on it.
Loading imports no TensorFlow: the first magic that needs a model pays that
cost, once.
"""

from __future__ import annotations

from ..settings import JupyterLLM, JupyterLLMAssistant
from .assistant import AssistantMagics
from .generate import GenerateMagics
from .llm import LLMMagics

__all__ = ["JupyterLLM", "JupyterLLMAssistant", "GenerateMagics", "LLMMagics", "AssistantMagics"]
