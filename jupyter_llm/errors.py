"""Exceptions raised by jupyter_llm.

Every error a user can cause is a :class:`JupyterLLMError` whose message is one
sentence saying what was expected and what was received. The surfaces (magics,
CLI, widgets, kernel channel) catch this one class and show the sentence
without a traceback.
"""

from __future__ import annotations


class JupyterLLMError(Exception):
    """Base class of every error a user of jupyter_llm can cause."""


class InvalidArgumentError(JupyterLLMError, ValueError):
    """An argument has the wrong type or value."""


class DataError(JupyterLLMError, ValueError):
    """A training or evaluation source cannot be used (empty, too short, unreadable)."""


class ModelNotFoundError(JupyterLLMError, FileNotFoundError):
    """No saved model exists under the given path or name."""


class ModelExistsError(JupyterLLMError, FileExistsError):
    """A model is already saved under the given path or name."""


class CorruptModelError(JupyterLLMError, ValueError):
    """A saved model is truncated, tampered with, or not a jupyter_llm model."""


class PromptTooLongError(JupyterLLMError, ValueError):
    """A prompt is longer than the model can attend to."""


class NoCopyIndexError(JupyterLLMError, LookupError):
    """A model has no copied-text index (trained with ``copy_index=False``, or before there was one)."""


class TrainingDivergedError(JupyterLLMError, RuntimeError):
    """Training diverged (a NaN loss, or one far above the uniform guess) before reaching weights better
    than those it started from; they were kept and nothing was saved."""


def invalid(argument: str, expected: str, received: object) -> InvalidArgumentError:
    """Build the standard one-sentence error for a bad argument.

    >>> str(invalid("temperature", "a number > 0", -1))
    'Invalid value for argument temperature. Expected a number > 0. Received: temperature=-1'
    """
    return InvalidArgumentError(
        f"Invalid value for argument {argument}. Expected {expected}. "
        f"Received: {argument}={received!r}"
    )
