"""``jupyter-llm lab`` run as a user runs it.

For tests/test_cli_lab_ready.py and tests/browser/test_cli_lab_ready.py.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat

CLI = [sys.executable, "-m", "jupyter_llm.cli"]
URL = re.compile(r"http://localhost:(\d+)/lab/tree/(\S+)\?token=(\w+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabProcess:
    """``jupyter-llm lab --no-browser`` on a notebook of ``folder``, with private JupyterLab folders.

    ``lines`` receives each line the command writes to stderr, as it is written.
    """

    def __init__(self, folder: Path) -> None:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / "ready.ipynb")
        self.settings = folder / "user-settings"  # JupyterLab's user settings: must stay untouched
        self.env = {**os.environ, "JUPYTER_TOKEN": "", "JUPYTER_CONFIG_DIR": str(folder / "config"),
                    "JUPYTERLAB_SETTINGS_DIR": str(self.settings),
                    "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"), "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.env.pop("JUPYTER_CONFIG_PATH", None)
        self.process = subprocess.Popen([*CLI, "lab", "ready.ipynb", "--no-browser", "--port", str(_free_port())],
                                        cwd=folder, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for_url(self, timeout: float = 180) -> str:
        """The URL, as soon as the line that prints it is written (``said`` holds every line up to it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.process.poll() is None, "jupyter-llm lab stopped:\n" + "".join(self.said)
                continue
            self.said.append(line)
            found = URL.search(line)
            if found:
                return found.group(0)
        raise AssertionError("no URL within the time allowed:\n" + "".join(self.said))

    def override_folder(self) -> Path:
        """The folder of settings defaults the command gave its JupyterLab (first on its JUPYTER_CONFIG_PATH)."""
        pid = self.process.pid
        (child,) = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        environ = dict(item.split("=", 1) for item in
                       Path(f"/proc/{child}/environ").read_bytes().decode().split("\0") if "=" in item)
        return Path(environ["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0])

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.status, reply.read()
