"""The GeneratePanel's "Insert below" in a real JupyterLab, as a user would press it.

With ``%load_ext jupyter_llm`` (the JupyterLab extension connected), the text
arrives at once in a new cell right below the panel's cell: a rendered Markdown
cell by default, a code cell when the user picks "as code". Without it, the
panel says plainly what will happen, and says so again once it happened.

Takes the docs' screenshot ``generate_insert.png`` (into docs/images only when
``JUPYTER_LLM_SCREENSHOTS=docs/images``).
"""

from __future__ import annotations

from jupyter_llm.widgets.insert import markdown_source

from .conftest import open_notebook, run_all_cells

PANEL = ('from jupyter_llm.widgets import GeneratePanel\n'
         'GeneratePanel("shakespeare", prompt="ROMEO:\\n", max_tokens=60, temperature=0.8, seed=3)')
CELLS = "window.jupyterapp.shell.currentWidget.content.widgets"
#: (type, source) of every cell of the current notebook.
CELL_LIST = f"() => {CELLS}.map(c => [c.model.type, c.model.sharedModel.getSource()])"


def _generate(page):
    gen = page.locator(".jl-generate-panel")
    gen.wait_for()
    gen.get_by_role("button", name="Generate").click()
    gen.locator(".jl-status", has_text="Generated").wait_for(timeout=90_000)
    return gen


def _panel_text(gen) -> str:
    return gen.locator(".jl-prompt").first.inner_text() + gen.locator(".jl-gen").first.inner_text()


def test_insert_below_puts_a_markdown_cell_below_the_panel_at_once(page, lab, screenshot):
    lab.write_notebook("insert.ipynb", ["%load_ext jupyter_llm", PANEL, "1 + 1"])
    page.set_viewport_size({"width": 1400, "height": 1300})
    open_notebook(page, lab, "insert.ipynb")
    run_all_cells(page, timeout=240_000)
    gen = _generate(page)
    text = _panel_text(gen)
    assert text.startswith("ROMEO:") and len(text) > 30

    gen.get_by_role("button", name="Insert below").click()
    page.wait_for_function(f"() => {CELLS}.length === 4")
    cells = page.evaluate(CELL_LIST)
    assert cells[2] == ["markdown", markdown_source(text)]  # right below the panel's cell, before "1 + 1"
    assert cells[3] == ["code", "1 + 1"]
    gen.locator(".jl-status", has_text="Inserted the text below this cell, as a Markdown cell.").wait_for()
    assert "Queued" not in gen.locator(".jl-status").inner_text()
    # Shown as Markdown (rendered), not highlighted as Python: the text as the model wrote it, line by line.
    new_cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(2)
    # (the rendered node exists before its content: wait for the text itself)
    rendered = new_cell.locator(".jp-RenderedMarkdown", has_text=text.splitlines()[0].strip())
    rendered.wait_for()
    shown = rendered.inner_text()
    assert [line.strip() for line in shown.splitlines() if line.strip()] == \
        [line.strip() for line in text.splitlines() if line.strip()]
    screenshot(page, "generate_insert", page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"))

    # The user picks "as code": the next insert is a code cell, again right below the panel's cell.
    gen.get_by_title("The type of the cell Insert below makes").select_option(label="as code")
    gen.get_by_role("button", name="Insert below").click()
    page.wait_for_function(f"() => {CELLS}.length === 5")
    cells = page.evaluate(CELL_LIST)
    assert cells[2] == ["code", text] and cells[3] == ["markdown", markdown_source(text)]
    gen.locator(".jl-status", has_text="as a code cell.").wait_for()


def test_insert_below_without_the_extension_says_what_will_happen(page, lab):
    lab.write_notebook("insert_plain.ipynb", [PANEL, "1 + 1"])  # no %load_ext: the extension is not connected
    open_notebook(page, lab, "insert_plain.ipynb")
    run_all_cells(page, timeout=240_000)
    gen = _generate(page)
    text = _panel_text(gen)

    gen.get_by_role("button", name="Insert below").click()
    status = gen.locator(".jl-status")
    status.locator("text=not connected").wait_for()
    assert "below the next cell you run" in status.inner_text()
    assert page.evaluate(f"() => {CELLS}.length") == 2  # nothing yet, as said

    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(1).locator(".jp-InputArea-editor").click()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    page.wait_for_function(f"() => {CELLS}.length === 3")
    cells = page.evaluate(CELL_LIST)
    assert cells[2] == ["code", "%%markdown\n" + markdown_source(text)]
    status.locator("text=Inserted the text in a new cell below the cell you ran.").wait_for()
    assert "not connected" not in status.inner_text()
