"""A real JupyterLab in a real browser: fixtures for the browser tests.

``lab`` starts ``jupyter lab`` on 127.0.0.1 (a free port, a token, a private
root folder, settings and model store) with the front end built in this
checkout (``jupyter_llm/labextension``); ``page`` is a Playwright page of
Debian's chromium (``/usr/bin/chromium``, or ``$JUPYTER_LLM_CHROMIUM``;
Playwright never downloads a browser here).

Nothing is skipped for a missing dependency: without chromium, Playwright or
``jupyter-lab`` every browser test fails with one sentence naming the command
that installs it (``scripts/test.sh`` installs chromium when it runs as root).

Screenshots go to a temporary folder; ``JUPYTER_LLM_SCREENSHOTS=docs/images``
refreshes the images of the docs instead (docs/browser-tests.md).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("JUPYTER_LLM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]
#: The front end built from labextension/src (by the editable install, or ``jlpm build:prod``).
FRONT_END = ROOT / "jupyter_llm" / "labextension"


def _missing() -> str | None:
    """Why the browser tests cannot run here, as one sentence naming the command that fixes it."""
    if not Path(CHROMIUM).exists():
        return (f"The browser tests need chromium at {CHROMIUM}: "
                "install it with `apt-get install chromium` (as root).")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"The browser tests need Playwright: install it with `{sys.executable} -m pip install playwright`."
    if shutil.which("jupyter-lab", path=os.path.dirname(sys.executable)) is None:
        return f"The browser tests need JupyterLab: install it with `{sys.executable} -m pip install jupyterlab`."
    return _stale_front_end()


def _stale_front_end() -> str | None:
    """A sentence when the built front end is older than its TypeScript sources (the tests would test old code)."""
    built = FRONT_END / "package.json"
    if not built.is_file():
        return None  # not a development checkout: the tests use the installed front end
    newest = max(p.stat().st_mtime for p in (ROOT / "labextension" / "src").rglob("*") if p.is_file())
    if newest > built.stat().st_mtime:
        return ("The front end in jupyter_llm/labextension is older than labextension/src: rebuild it with "
                "`(. .venv/bin/activate && cd labextension && jlpm build:prod)`.")
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say once, at the end, why the browser tests failed when a dependency is missing."""
    ran_browser_tests = any("tests/browser" in str(getattr(r, "fspath", "")).replace(os.sep, "/")
                            for key in ("failed", "error") for r in terminalreporter.stats.get(key, []))
    reason = _missing() if ran_browser_tests else None
    if reason:
        terminalreporter.write_sep("=", "browser tests", red=True)
        terminalreporter.write_line(reason, red=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server."""

    def __init__(self, root: Path, port: int, token: str, process: subprocess.Popen, log: Path) -> None:
        self.root, self.port, self.token, self.process, self.log = root, port, token, process, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path}{sep}token={self.token}"

    def api(self, path: str) -> object:
        with urllib.request.urlopen(self.url(f"api/{path}"), timeout=10) as r:
            return json.loads(r.read())

    def write_notebook(self, name: str, cells: list[str | tuple[str, str]]) -> Path:
        """A notebook of code cells (or ``("markdown", text)`` pairs) in the server's root."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        for cell in cells:
            if isinstance(cell, tuple) and cell[0] == "markdown":
                nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
            else:
                nb.cells.append(nbformat.v4.new_code_cell(cell))
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = self.root / name
        nbformat.write(nb, path)
        return path


def _require_browser() -> None:
    reason = _missing()
    if reason:
        pytest.fail(reason, pytrace=False)


def _front_end_path(base: Path) -> dict[str, str]:
    """``JUPYTER_PATH`` that puts this checkout's build ahead of the copy pip installed into the environment.

    (An editable install copies the front end once; without this the tests would
    drive whatever was built when the environment was made.)
    """
    if not (FRONT_END / "package.json").is_file():
        return {}
    extensions = base / "jupyter_path" / "labextensions" / "@jupyter-llm"
    extensions.mkdir(parents=True)
    (extensions / "labextension").symlink_to(FRONT_END, target_is_directory=True)
    paths = [str(base / "jupyter_path"), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {"JUPYTER_PATH": os.pathsep.join(paths)}


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    _require_browser()
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if k != "JUPYTER_LLM_XLA"},  # the kernels compile as users' do
        **_front_end_path(base),
        "JUPYTER_LLM_HOME": str(base / "jl_home"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    log = base / "lab.log"
    command = [
        os.path.join(os.path.dirname(sys.executable), "jupyter-lab"), "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    server = Lab(root, port, token, process, log)
    deadline = time.monotonic() + 120
    while True:
        try:
            server.api("status")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory):
    """``screenshot(page, name, locator=None)`` saves ``NAME.png`` of the page (or of one element).

    Into a temporary folder: the tests never write into the checkout unless
    ``JUPYTER_LLM_SCREENSHOTS`` names a folder (relative to the checkout), as
    ``JUPYTER_LLM_SCREENSHOTS=docs/images`` does to refresh the docs' images.
    """
    chosen = os.environ.get("JUPYTER_LLM_SCREENSHOTS")
    folder = ROOT / chosen if chosen else tmp_path_factory.mktemp("screenshots")

    def take(page, name: str, locator=None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        (locator or page).screenshot(path=str(path))
        assert path.stat().st_size > 0
        return path

    return take


KERNEL_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


def open_notebook(page, lab: Lab, name: str):
    """Open a notebook of the server's root and wait until its kernel is connected and idle.

    (The toolbar's idle indicator can show before the kernel has started; running
    cells then would open JupyterLab's "Select Kernel" dialog.)
    """
    # A fresh workspace each time: JupyterLab would otherwise restore the notebooks
    # earlier tests opened, and one of them could be the current widget.
    page.goto(lab.url(f"lab/workspaces/t{secrets.token_hex(4)}/tree/{name}?reset"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    page.add_style_tag(content=".Toastify { display: none !important; }")  # JupyterLab's news prompt
    page.wait_for_function(KERNEL_READY, timeout=120_000, polling=250)
    return page


def run_all_cells(page, timeout: float = 180_000) -> None:
    """Run every cell and wait until each code cell shows its execution count."""
    page.wait_for_function(KERNEL_READY, timeout=120_000, polling=250)
    # Not awaiting the command's promise: a dialog it might open must not block the test forever.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout,
        polling=250,
    )
