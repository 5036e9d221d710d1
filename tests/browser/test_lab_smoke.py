"""JupyterLab starts in a real browser and runs a notebook that loads jupyter_llm."""

from .conftest import open_notebook, run_all_cells


def test_notebook_runs_jupyter_llm(page, lab):
    lab.write_notebook("smoke.ipynb", ["import jupyter_llm as jl\nprint('version', jl.__version__)"])
    open_notebook(page, lab, "smoke.ipynb")
    run_all_cells(page)
    output = page.locator(".jp-OutputArea-output").first
    assert "version" in output.inner_text()
