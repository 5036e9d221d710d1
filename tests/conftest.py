"""Shared fixtures: a private model store per test and a tiny trained model per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# No warm-up thread loading the default model behind every test that loads the extension (it would race
# with the stores the tests swap in, on a machine of two cores); tests/test_magics_warm_up.py turns it on.
os.environ.setdefault("JUPYTER_LLM_WARM_UP", "0")
# The decoding loop without XLA: the same text (tests/test_decoding_loop.py checks it), without compiling
# every tiny model's loop (it more than doubles the time of the generation tests). The decoding loop's own
# tests, the demo notebooks and the browser tests run with XLA, as users do.
os.environ.setdefault("JUPYTER_LLM_XLA", "0")

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


#: corpus file -> the excerpt of it shipped in jupyter_llm.datasets (the same text, cut shorter)
_EXCERPTS = {"tinyshakespeare.txt": "shakespeare", "tang_poetry.txt": "tang-poetry"}


def _read(name: str, n: int) -> str:
    """The first ``n`` characters of a corpus: from ../shared/corpora, else from the package's excerpt."""
    path = CORPORA / name
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            return f.read(n)
    from jupyter_llm import datasets

    text = datasets.load(_EXCERPTS[name])
    if len(text) < n:
        pytest.skip(f"corpus {path} is not available and the shipped excerpt is shorter than {n:,} characters")
    return text[:n]


#: Where IPython, Jupyter and Keras keep their per-user files: the suite gives them a temporary folder
#: of its own (subprocesses inherit it), so no test writes into the home folder.
_USER_DIRS = {"IPYTHONDIR": "ipython", "JUPYTER_RUNTIME_DIR": "jupyter/runtime", "JUPYTER_DATA_DIR": "jupyter/data",
              "JUPYTER_CONFIG_DIR": "jupyter/config", "KERAS_HOME": "keras", "JUPYTER_LLM_HOME": "jupyter_llm"}
_HOME: list[str] = []


def pytest_configure(config):
    import tempfile

    home = tempfile.mkdtemp(prefix="jupyter_llm-tests-")
    _HOME.append(home)
    for variable, folder in _USER_DIRS.items():
        os.environ[variable] = os.path.join(home, folder)


def pytest_unconfigure(config):
    import shutil

    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def jl_home(tmp_path, monkeypatch):
    """Every test gets an empty model store of its own."""
    home = tmp_path / "jl_home"
    monkeypatch.setenv("JUPYTER_LLM_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def corpora() -> Path:
    return CORPORA


@pytest.fixture(scope="session")
def shakespeare_text() -> str:
    """The first 50,000 characters of tiny Shakespeare."""
    return _read("tinyshakespeare.txt", 50_000)


@pytest.fixture(scope="session")
def tang_text() -> str:
    """The first 30,000 characters of the Tang poetry corpus."""
    return _read("tang_poetry.txt", 30_000)


@pytest.fixture(scope="session")
def tiny_lm(shakespeare_text, tmp_path_factory):
    """A tiny character model trained for a few seconds (shared: do not train it further)."""
    import jupyter_llm as jl

    old = os.environ.get("JUPYTER_LLM_HOME")
    os.environ["JUPYTER_LLM_HOME"] = str(tmp_path_factory.mktemp("session_home"))
    try:
        lm = jl.train(shakespeare_text, size="tiny", seq_len=32, batch_size=32, epochs=1,
                      steps_per_epoch=40, progress=False, sample_tokens=0, seed=0)
        _TINY_LM_FIRST[id(lm)] = (lm.name, dict(lm.metadata))  # see _tiny_lm_keeps_its_name
        return lm
    finally:
        if old is None:
            os.environ.pop("JUPYTER_LLM_HOME", None)
        else:
            os.environ["JUPYTER_LLM_HOME"] = old


#: id(tiny_lm) -> its name and metadata as trained
_TINY_LM_FIRST: dict[int, tuple] = {}


@pytest.fixture(autouse=True)
def _tiny_lm_keeps_its_name(request):
    """Give the shared tiny model its first name and metadata back after each test that used it.

    Saving a model names it: after the store name (``save("lm")``), or after the folder when it
    had none (``tiny_lm.save(tmp / "m")`` names it ``m``); a later test's output would carry that
    name as its provenance. (Module-scoped fixtures that save it use a copy: see ``copy_of``.)
    """
    if "tiny_lm" not in request.fixturenames:
        yield
        return
    lm = request.getfixturevalue("tiny_lm")
    name, metadata = _TINY_LM_FIRST[id(lm)]
    yield
    lm.name, lm.metadata = name, dict(metadata)


# === No quiet skips in the full run ===

#: Set by scripts/test.sh (and so by CI): a test that skips fails instead, naming its reason, unless the
#: reason starts with one of ACCEPTED_SKIPS (each one explained in docs/testing.md).
STRICT = "JUPYTER_LLM_NO_SKIPS"
ACCEPTED_SKIPS: tuple[str, ...] = ()


def _refuse_skip(report, what: str) -> None:
    if not report.skipped or os.environ.get(STRICT) != "1" or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(ACCEPTED_SKIPS):
        return
    report.outcome = "failed"
    report.longrepr = (f"{what} skipped ({reason}), and {STRICT}=1 (set by scripts/test.sh) turns every skip "
                       "into a failure: install what it needs, or accept the reason in docs/testing.md and "
                       "ACCEPTED_SKIPS in tests/conftest.py.")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _refuse_skip(outcome.get_result(), item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _refuse_skip(outcome.get_result(), collector.nodeid)  # a module-level skip or importorskip
