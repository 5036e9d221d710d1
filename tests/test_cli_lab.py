"""`jupyter-llm lab`: JupyterLab on a notebook (with the extension), or the notebook run headless."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

CLI = [sys.executable, "-m", "jupyter_llm.cli"]


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A test notebook")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _cli(*argv: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([*CLI, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_headless_runs_the_quickstart_of_the_current_folder_and_prints_generated_text(tmp_path, tiny_lm):
    tiny_lm.save(tmp_path / "model")
    _notebook(tmp_path / "demo_notebooks" / "01_quickstart.ipynb",
              "print('hello from the kernel')",
              "%load_ext jupyter_llm",
              f"%generate -m {tmp_path / 'model'} -n 12 --seed 0 --no-stream To be")
    result = _cli("lab", "--headless", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "In [1]: print('hello from the kernel')" in out and "hello from the kernel" in out
    generated = out.split("--no-stream To be", 1)[1]
    assert re.search(r"To be\S*", generated) or len(generated.strip()) > 5


def test_headless_stops_at_a_failing_cell_with_one_line(tmp_path):
    nb = _notebook(tmp_path / "broken.ipynb", "x = 1", "1 / 0", "print('never')")
    result = _cli("lab", str(nb), "--headless", cwd=tmp_path)
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr and "never" not in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_notebook_is_a_usage_error(tmp_path):
    result = _cli("lab", "nothing.ipynb", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jupyter-llm: error: No notebook at 'nothing.ipynb'. Expected the path of an .ipynb file."]


@pytest.mark.skipif(shutil.which("jupyter") is None and not Path(sys.executable).with_name("jupyter").exists(),
                    reason="JupyterLab is not installed")
def test_lab_serves_the_notebook_with_the_extension_and_prints_its_url(tmp_path):
    _notebook(tmp_path / "demo_notebooks" / "01_quickstart.ipynb", "1 + 1")
    with open(tmp_path / "server.log", "w+") as log:
        server = subprocess.Popen([*CLI, "lab", "--no-browser"], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "JUPYTER_TOKEN": "", "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")})
        try:
            url = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.poll() is None:
                log.seek(0)
                text = log.read()
                found = re.search(r"http://localhost:\d+/lab/tree/demo_notebooks/01_quickstart\.ipynb\?token=\w+", text)
                if found and "is running at" in text:
                    url = found.group(0)
                    break
                time.sleep(0.5)
            assert url, f"no URL printed:\n{text}"
            with urllib.request.urlopen(url, timeout=30) as page:
                assert page.status == 200
            base, token = url.split("/lab/")[0], url.rsplit("token=", 1)[1]
            with urllib.request.urlopen(f"{base}/lab/api/extensions?token={token}", timeout=30) as reply:
                extensions = {e["name"]: e for e in json.load(reply)}
            ours = extensions["jupyter-llm-labextension"]  # the API's spelling of @jupyter-llm/labextension
            assert ours["enabled"] and ours["pkg_type"] == "prebuilt"
            with urllib.request.urlopen(
                    f"{base}/api/contents/demo_notebooks/01_quickstart.ipynb?content=0&token={token}", timeout=30) as r:
                assert json.load(r)["type"] == "notebook"
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.mark.parametrize("port", ["0", "65536", "-1", "eighty"])
def test_a_port_outside_1_to_65535_is_one_usage_line(tmp_path, port):
    result = subprocess.run([*CLI, "lab", "--port", port], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"expected a port number from 1 to 65535, received '{port}'" in result.stderr, result.stderr
