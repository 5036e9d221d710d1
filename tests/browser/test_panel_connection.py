"""The drafting panel connects to a kernel that is busy when it loads jupyter_llm.

``%load_ext jupyter_llm`` announces the channel while the notebook's next cell
is queued: the panel's hello waits behind that cell. However long the cell
runs, the panel must not decide that jupyter_llm is missing (it used to after
30 s, because a subshell of the kernel reports "idle" while a cell runs).

The long cell waits for a file the test writes, so nothing here depends on time
except the panel's own wait before it asks the kernel about the channel.
"""

from __future__ import annotations

from .conftest import open_notebook

PANEL = "#jupyter-llm-draft"
STATE = f"document.querySelector('{PANEL} .jp-LLMDraft-status')?.dataset.state"


def test_the_panel_waits_for_a_busy_kernel_that_loaded_jupyter_llm(page, lab, tmp_path):
    release = tmp_path / "release"
    lab.write_notebook("busy.ipynb", [
        "%load_ext jupyter_llm",
        "import os, time\n"
        f"while not os.path.exists({str(release)!r}):  # the test lets this cell end\n"
        "    time.sleep(0.05)",
        "print('done')",
    ])
    open_notebook(page, lab, "busy.ipynb")
    page.evaluate("""() => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        window.sentToKernel = [];
        kernel.anyMessage.connect((_, m) => {
            if (m.direction === 'send') { window.sentToKernel.push(m.msg.header.msg_type); }
        });
        window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")
    # The first cell ran: the kernel announced jupyter_llm, and the second cell holds the kernel.
    page.wait_for_function(
        "() => /\\[1\\]/.test(document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt').textContent)"
    )
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-llm:open-panel')")
    page.wait_for_selector(f"{PANEL} .jp-LLMDraft-status[data-state='connecting']")

    # The panel's wait for hello runs out while the cell still runs: it asks the kernel about
    # the channel (comm_info), or (the old behaviour) gives up.
    page.wait_for_function(
        f"() => window.sentToKernel.includes('comm_info_request') || {STATE} !== 'connecting'",
        timeout=120_000,
    )
    assert page.evaluate(f"() => {STATE}") == "connecting", page.locator(PANEL).inner_text()

    release.write_text("")
    page.wait_for_selector(f"{PANEL} .jp-LLMDraft-status[data-state='ready']", timeout=120_000)
    page.locator(".jp-OutputArea-output", has_text="done").wait_for()
