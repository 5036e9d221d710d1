"""The TrainingPanel and its parts: the source picker, the size table, the run state and the view."""

from __future__ import annotations

from .panel import TrainingPanel

__all__ = ["TrainingPanel"]
