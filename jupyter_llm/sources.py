"""Training text from where a user keeps it: ``jl.sources.notebooks(...)``, ``jl.sources.folder(...)``.

>>> import jupyter_llm as jl
>>> notes = jl.sources.notebooks("notes/**/*.ipynb", cells="markdown")   # doctest: +SKIP
>>> print(notes.report)                 # files, cells, characters; what was skipped and why  # doctest: +SKIP
>>> lm = jl.train(notes, epochs=3)      # any training call takes it  # doctest: +SKIP

Strings, files, globs, lists and DataFrames need no helper: pass them to
``jl.train`` as they are. No TensorFlow is imported here.
"""

from __future__ import annotations

from .text.collect import CELLS, TEXT_SUFFIXES, CollectedSource, ReadReport, folder, notebooks

__all__ = ["notebooks", "folder", "CollectedSource", "ReadReport", "CELLS", "TEXT_SUFFIXES"]
