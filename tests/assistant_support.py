"""Fixtures shared by the assistant tests (imported by tests/test_assistant*.py).

The intent and mood models are made once per session with the settings the
assistant uses (so they are the models shipped in the package, loaded, not
trained) and handed to every Assistant, so no test trains its own.
Each test gets its own database (the autouse ``jl_home`` fixture gives it an
empty ``JUPYTER_LLM_HOME``) and a clock fixed at Monday 10 March 2025, 09:00.
"""

from __future__ import annotations

import datetime as dt

import pytest

from magics_support import shell  # noqa: F401  (the one session shell of the magics tests)

from jupyter_llm.assistant.understanding import INTENT_EPOCHS

#: Epochs of the session's intent model: the assistant's own setting.
TEST_EPOCHS = INTENT_EPOCHS
NOW = dt.datetime(2025, 3, 10, 9, 0)  # a Monday


class Clock:
    """A settable clock: ``clock()`` is the time, ``clock.advance(hours=2)`` moves it."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="session")
def assistant_models():
    """``(intent model, mood model)`` made once for the session: the shipped ones (not cached on disk)."""
    from jupyter_llm.assistant.understanding import ready_model, ready_mood_model

    return ready_model(epochs=TEST_EPOCHS, cache=False), ready_mood_model(cache=False)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def namespace():
    return {}


@pytest.fixture
def assistant(assistant_models, clock, namespace, jl_home):
    from jupyter_llm.assistant import Assistant

    nlu, mood = assistant_models
    return Assistant(namespace=namespace, nlu=nlu, mood=mood, now=clock, training={"epochs": TEST_EPOCHS})


@pytest.fixture
def ip(shell, assistant_models, clock, jl_home):
    """The shell with %assistant registered on an assistant using the session's models."""
    from IPython.core.displaypub import CapturingDisplayPublisher

    from jupyter_llm.assistant import Assistant
    from jupyter_llm.extension import load_ipython_extension, unload_ipython_extension

    before = set(shell.user_ns)
    load_ipython_extension(shell)
    magics = shell.magics_manager.registry["AssistantMagics"]
    nlu, mood = assistant_models
    magics.set_assistant(Assistant(namespace=lambda: shell.user_ns, nlu=nlu, mood=mood, now=clock,
                                   threshold=magics.settings.threshold))
    publisher = CapturingDisplayPublisher()
    old, shell.display_pub = shell.display_pub, publisher
    yield shell
    shell.display_pub = old
    unload_ipython_extension(shell)
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]


def replies(shell) -> list:
    """The texts/plain of everything displayed so far."""
    return [out["data"].get("text/plain", "") for out in shell.display_pub.outputs]


def say(shell, line: str, cell: str | None = None):
    """Run ``%assistant line`` (or ``%%assistant``) and return the Reply it displayed."""
    args = f"-o {line}" if not line.startswith("-o") else line
    if cell is None:
        return shell.run_line_magic("assistant", args)
    return shell.run_cell_magic("assistant", args, cell)
