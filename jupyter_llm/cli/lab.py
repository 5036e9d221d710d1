"""``jupyter-llm lab``: JupyterLab on the quickstart notebook, or the notebook run headless in a kernel."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from ..errors import JupyterLLMError
from .common import EXIT_ERROR, EXIT_OK, PROG, UsageError, add_command, error, out, port_number

EXAMPLES = [
    "jupyter-llm lab",
    "jupyter-llm lab --headless",
    "jupyter-llm lab demo_notebooks/04_chinese_poetry.ipynb --port 8899",
    "jupyter-llm lab --ip 0.0.0.0 --no-browser",
]

QUICKSTART = Path("demo_notebooks") / "01_quickstart.ipynb"


def register(commands) -> None:
    p = add_command(commands, "lab", "Open JupyterLab on the quickstart notebook (or run it headless).",
                    EXAMPLES, run)
    p.add_argument("notebook", nargs="?", type=Path, metavar="NOTEBOOK",
                   help=f"the notebook to open (default: {QUICKSTART.as_posix()}, found in the current folder "
                        "or the jupyter_llm checkout)")
    p.add_argument("--headless", action="store_true",
                   help="no browser, no server: run the notebook top to bottom in a kernel and print its outputs")
    p.add_argument("--port", type=port_number, default=None, metavar="N", help="the server's port (default: JupyterLab's)")
    p.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p.add_argument("--ip", default=None, metavar="ADDRESS", help="the address to listen on (default: localhost)")


def run(args: argparse.Namespace) -> int:
    notebook = _find_notebook(args.notebook)
    if args.headless:
        if notebook is None:
            raise UsageError(f"No notebook to run: {QUICKSTART.as_posix()} is not in the current folder. "
                             "Expected a notebook path: jupyter-llm lab NOTEBOOK --headless.")
        return _run_headless(notebook)
    if importlib.util.find_spec("jupyterlab") is None:
        raise UsageError("JupyterLab is not installed here. Expected it next to jupyter_llm: "
                         "pip install 'jupyter_llm[notebook]' (or run 'jupyter-llm lab --headless').")
    import secrets
    import socket

    port = args.port or _free_port(8888)
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    argv = [sys.executable, "-m", "jupyterlab", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}"]
    path = ""
    if notebook is not None:
        # Serve the folder above demo_notebooks/ so every demo (and docs/images) is reachable.
        root = notebook.parent.parent if notebook.parent.name == "demo_notebooks" else notebook.parent
        path = notebook.relative_to(root).as_posix()
        argv += [f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/lab/tree/{path}"]
    else:
        print(f"{PROG}: {QUICKSTART.as_posix()} is not here; opening JupyterLab in {Path.cwd()}.", file=sys.stderr)
    if args.ip is not None:
        argv.append(f"--ip={args.ip}")
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # JupyterLab refuses root without it (containers, CI machines)
    host = socket.gethostname() if args.ip in ("0.0.0.0", "::") else (args.ip or "localhost")
    url = f"http://{host}:{port}/lab/tree/{path}?token={token}" if path else f"http://{host}:{port}/lab?token={token}"
    local = "127.0.0.1" if args.ip in (None, "0.0.0.0", "localhost") else ("::1" if args.ip == "::" else args.ip)
    return _serve(argv, url, f"http://{_bracketed(local)}:{port}/api/status?token={token}")


#: What the server ``jupyter-llm lab`` starts shows differently from a plain ``jupyter lab``, as JupyterLab's
#: settings defaults (``labconfig/default_setting_overrides.json``, read from ``JUPYTER_CONFIG_PATH``): the
#: news question answered no, because this package promises that nothing leaves the machine. A user who
#: chose otherwise in JupyterLab's settings keeps that choice; the user's own settings are never written.
LAB_SETTING_DEFAULTS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


#: How long a stopped JupyterLab may take to exit (its kernels' shutdown included) before it is killed.
STOP_GRACE_S = 20.0


class _Stop(Exception):
    """A SIGTERM to ``jupyter-llm lab``: stop the server as Ctrl-C does."""


def _serve(argv: list[str], url: str, status_url: str) -> int:
    """Run JupyterLab (``argv``) until it stops; print ``url`` once ``status_url`` answers.

    Ctrl-C (or a SIGTERM to this process) stops the server; the exit status is JupyterLab's.
    """
    import shutil
    import signal
    import tempfile

    print(f"{PROG}: starting JupyterLab\u2026", file=sys.stderr, flush=True)
    config = Path(tempfile.mkdtemp(prefix="jupyter-llm-lab-"))  # this server's settings defaults, removed after
    (config / "labconfig").mkdir()
    (config / "labconfig" / "default_setting_overrides.json").write_text(json.dumps(LAB_SETTING_DEFAULTS))
    paths = [str(config), *filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]

    def stop(*_) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, stop)
    server = None
    try:
        server = subprocess.Popen(argv, env={**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(paths)})
        if not _answers(status_url, server):
            return error(f"JupyterLab stopped before it answered (exit status {server.returncode}); "
                         "its messages are above.", server.returncode or EXIT_ERROR)
        print(f"{PROG}: JupyterLab is ready (Ctrl-C to stop). Open:\n\n    {url}\n", file=sys.stderr, flush=True)
        return server.wait()
    except (KeyboardInterrupt, _Stop):
        return EXIT_OK  # (a terminal's Ctrl-C reached JupyterLab too; either way it is stopped below)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop at a time
        if server is not None and server.poll() is None:
            _stop(server)
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(config, ignore_errors=True)


def _stop(server: subprocess.Popen) -> None:
    """Ask JupyterLab to stop (SIGTERM); kill it if it has not exited after ``STOP_GRACE_S``.

    (JupyterLab can shut its kernels down and then wait forever at exit for an idle worker thread.)
    """
    server.terminate()
    try:
        server.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        print(f"{PROG}: JupyterLab did not exit {STOP_GRACE_S:g} s after being asked to stop; ending it.",
              file=sys.stderr, flush=True)
        server.kill()
        server.wait()


def _answers(status_url: str, server: subprocess.Popen) -> bool:
    """Wait until the server answers ``status_url`` (True) or its process ends (False)."""
    import time
    import urllib.error
    import urllib.request

    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an HTTP proxy
    while server.poll() is None:
        try:
            with direct.open(status_url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # an answer all the same (a base_url set in the user's config moves /api/status)
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _find_notebook(given: Path | None) -> Path | None:
    if given is not None:
        if not given.is_file():
            raise UsageError(f"No notebook at '{given}'. Expected the path of an .ipynb file.")
        if given.suffix != ".ipynb":
            raise UsageError(f"'{given}' is not a notebook. Expected an .ipynb file.")
        return given.resolve()
    checkout = Path(__file__).resolve().parents[2]  # jupyter_llm/cli/lab.py -> the checkout
    for root in (Path.cwd(), checkout):
        if (root / QUICKSTART).is_file():
            return (root / QUICKSTART).resolve()
    return None


def _free_port(start: int) -> int:
    """The first port from ``start`` that nothing listens on (JupyterLab's own default is 8888)."""
    import socket

    for port in range(start, start + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise JupyterLLMError(f"No free port between {start} and {start + 99}. Expected one: pass --port N.")


def _run_headless(notebook: Path) -> int:
    """Run ``notebook`` in a fresh kernel and print each code cell with its text outputs."""
    if importlib.util.find_spec("nbclient") is None:
        raise UsageError("Running a notebook needs nbclient. Expected it installed: pip install 'jupyter_llm[notebook]'.")
    import nbclient
    import nbformat

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    nb = nbformat.read(notebook, as_version=4)
    out(f"# Running {notebook} in a kernel (no browser).")
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=1800,
                                     resources={"metadata": {"path": str(notebook.parent)}})
    count = 0
    # The kernel's own stderr is its start-up chatter; what the cells write reaches us as their outputs.
    with client.setup_kernel(stderr=subprocess.DEVNULL):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            count += 1
            out(f"\nIn [{count}]: " + cell.source.replace("\n", "\n   ...: "))
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as e:
                _print_outputs(cell)
                return error(f"The notebook stopped at a cell that raised {e.ename}: {e.evalue}", EXIT_ERROR)
            _print_outputs(cell)
    return EXIT_OK


def _print_outputs(cell) -> None:
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            out(output.get("text", ""), end="")
        elif kind in ("execute_result", "display_data"):
            text = (output.get("data") or {}).get("text/plain")
            if text:
                out(text)
    sys.stdout.flush()
