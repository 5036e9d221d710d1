"""Fixtures and helpers shared by the magics tests (imported by tests/test_magics*.py).

The magics run in a real IPython ``InteractiveShell`` (the process-wide
singleton, as in a kernel). Each test loads the extension afresh, captures
what reaches the user through a ``CapturingDisplayPublisher`` and unloads the
extension at the end.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from jupyter_llm.shell import state_of


@pytest.fixture(scope="session")
def shell(tmp_path_factory):
    import os

    os.environ.setdefault("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    return InteractiveShell.instance(config=config)


@pytest.fixture
def ip(shell, jl_home, monkeypatch, tmp_path):
    """The shell with jupyter_llm loaded, an empty namespace and captured displays.

    No bundled model is visible (whether or not the package has them), unless
    a test puts one into ``store.bundled_dir()`` itself.
    """
    from jupyter_llm import store

    bundled = tmp_path / "bundled"
    bundled.mkdir()
    monkeypatch.setattr(store, "bundled_dir", lambda: bundled)
    before = set(shell.user_ns)
    shell.config.pop("JupyterLLM", None)  # %config of an earlier test persists in the shell's config
    shell.run_line_magic("load_ext", "jupyter_llm")
    publisher = CapturingDisplayPublisher()
    old_publisher, shell.display_pub = shell.display_pub, publisher
    shell.rl_next_input = None
    yield shell
    shell.display_pub = old_publisher
    shell.run_line_magic("unload_ext", "jupyter_llm")
    shell.config.pop("JupyterLLM", None)
    for name in set(shell.user_ns) - before:  # shell.reset() would be slow (it collects garbage)
        del shell.user_ns[name]


def settings(shell) -> Any:
    """The ``JupyterLLM`` configurable of the loaded extension."""
    return state_of(shell).config


def session(shell) -> Any:
    """The magics' view of the shell's model resolver."""
    from jupyter_llm.magics.models import ModelSession

    return ModelSession(state_of(shell))


def published(shell) -> list[dict[str, Any]]:
    """Everything published to the front end, updates included, in order."""
    return shell.display_pub.outputs


def outputs(shell) -> list[dict[str, Any]]:
    """The outputs as a notebook ends up with them: updates applied in place."""
    final: list[dict[str, Any]] = []
    where: dict[str, int] = {}
    for out in published(shell):
        display_id = (out.get("transient") or {}).get("display_id")
        if out["update"]:
            if display_id in where:
                final[where[display_id]] = {**out, "update": False}
            continue
        if display_id:
            where[display_id] = len(final)
        final.append(out)
    return final


def run(shell, source: str):
    """Run a cell as a user would (errors are shown, not raised); returns the ExecutionResult."""
    return shell.run_cell(source, store_history=True)


def error_of(shell, source: str) -> str:
    """Run a cell that must fail with a UsageError; returns its message."""
    from IPython.core.error import UsageError

    result = run(shell, source)
    assert isinstance(result.error_in_exec, UsageError), f"expected a UsageError, got {result.error_in_exec!r}"
    return str(result.error_in_exec)


def copy_of(lm):
    """A LanguageModel sharing ``lm``'s Keras model (so the session fixture itself stays untouched)."""
    from jupyter_llm import LanguageModel

    return LanguageModel(lm.model, lm.tokenizer, lm.config, dict(lm.metadata))


def provenance_of(output: dict[str, Any]) -> dict[str, Any]:
    return output["metadata"]["jupyter_llm"]
