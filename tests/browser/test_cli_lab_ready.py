"""`jupyter-llm lab` in a real browser: the URL it prints loads at once (#14 point 7), and JupyterLab does not
ask about its news (#14 point 9).

The command used to print its URL about 12 s before the server answered; a
user who clicked it at once got "connection refused". Here the browser opens
the URL the moment the line is written, with no retry.

Also (#14 point 8) the boxes of ``%%generate --samples`` are measured as
chromium lays them out: one height for every box of a row.
"""

from __future__ import annotations

from cli_lab_support import LabProcess

from jupyter_llm.magics.output import side_by_side


def test_the_printed_url_loads_the_notebook_at_once(browser, tmp_path):
    lab = LabProcess(tmp_path)
    try:
        url = lab.wait_for_url()
        assert any("starting JupyterLab\u2026" in line for line in lab.said[:-1])
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        try:
            page = context.new_page()
            response = page.goto(url)  # no retry: the server answered before the URL was printed
            assert response is not None and response.ok
            page.locator(".jp-NotebookPanel .jp-Cell .cm-content", has_text="1 + 1").wait_for(timeout=90_000)
            # #14 point 9: by the time the kernel is idle, a plain `jupyter lab` with fresh settings has asked
            # "Would you like to get notified about official Jupyter news?"; the server of jupyter-llm lab has not.
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90_000)
            assert page.locator(".Toastify", has_text="official Jupyter news").count() == 0
        finally:
            context.close()
    finally:
        assert lab.stop() == 0


def test_samples_boxes_have_one_height(browser):
    texts = ["short", "a longer sample\nthat runs\nover several\nlines\nof text", "two\nlines"]
    context = browser.new_context(viewport={"width": 900, "height": 600})
    try:
        page = context.new_page()
        page.set_content(f"<html><body>{side_by_side(texts)}</body></html>")
        heights = page.eval_on_selector_all(".jupyter-llm-samples pre", "els => els.map(e => e.offsetHeight)")
        assert len(heights) == 3 and len(set(heights)) == 1 and heights[0] > 60, heights
    finally:
        context.close()
