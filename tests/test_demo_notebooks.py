"""The demo notebooks: each runs top to bottom in a real kernel (CI sizes), and the committed
copies carry the outputs of a full run, in order and without errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "demo_notebooks"
EXPECTED = [
    "01_quickstart.ipynb",
    "02_train_on_your_own_text.ipynb",
    "03_how_attention_works.ipynb",
    "04_chinese_poetry.ipynb",
    "05_personal_assistant.ipynb",
    "06_drafting_in_jupyterlab.ipynb",
    "07_scaling_out.ipynb",
    "08_see_why.ipynb",
    "09_make_it_yours.ipynb",
]


def _runner():
    spec = importlib.util.spec_from_file_location("run_demo_notebooks", ROOT / "scripts" / "run_demo_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"]


def test_all_demo_notebooks_are_there():
    assert sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_notebook_shows_a_full_run(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    cells = _code_cells(notebook)
    assert cells, "a demo notebook has code"
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"cells not run top to bottom in one kernel: {counts}"
    for cell in cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"an error is committed: {cell.source[:60]!r}"
            if output.get("name") == "stderr":  # TensorFlow's native notices are kept out of notebooks
                assert not any(s in output["text"] for s in ("oneDNN", "absl::InitializeLog", "I0000")), output["text"]
    assert any(c.get("outputs") for c in cells)


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    monkeypatch.delenv("JUPYTER_LLM_XLA", raising=False)  # the kernel decodes with XLA, as a user's does
    notebook = _runner().execute(NOTEBOOKS / name, fast=True, home=tmp_path, timeout=900)
    for cell in _code_cells(notebook):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{name}: {cell.source[:80]!r} raised {errors[0]['ename']}: {errors[0]['evalue']}"
