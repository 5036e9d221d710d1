"""`jupyter-llm lab` against a real JupyterLab: the URL is printed once the server answers (#14 point 7),
and the server starts with JupyterLab's news question answered no, for that server only (#14 point 9).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

nbformat = pytest.importorskip("nbformat")

from cli_lab_support import CLI, URL, LabProcess, get  # noqa: E402


@pytest.fixture
def lab_process(tmp_path):
    lab = LabProcess(tmp_path)
    yield lab
    if lab.process.poll() is None:
        lab.stop()


def test_the_url_is_printed_once_the_server_answers_and_the_news_question_is_answered_no(lab_process):
    url = lab_process.wait_for_url()
    # Right then, with no retry: the server answers the URL and its API.
    status, page = get(url)
    assert status == 200 and b"jupyter-config-data" in page
    base, token = url.split("/lab/")[0], url.rsplit("token=", 1)[1]
    assert json.loads(get(f"{base}/api/status?token={token}")[1])["started"]
    starting = [i for i, line in enumerate(lab_process.said) if "starting JupyterLab\u2026" in line]
    assert starting and starting[0] < len(lab_process.said) - 1, "'starting JupyterLab…' must come before the URL"
    assert "ready" in lab_process.said[-1] or any("ready" in line for line in lab_process.said[-3:])

    # #14 point 9: the news question is answered no for this server, as a default of its settings ...
    notification = json.loads(get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification"
                                  f"?token={token}")[1])
    defaults = {name: spec["default"] for name, spec in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false"  # JupyterLab asks only while the composite value is "none"
    assert defaults["checkForUpdates"] is False
    assert notification["settings"] == {}  # the user chose nothing: a user's own choice would still win
    # ... without writing the user's settings, and the folder holding it goes with the server.
    written = [p for p in lab_process.settings.rglob("*") if p.is_file()] if lab_process.settings.exists() else []
    assert not written
    folder = lab_process.override_folder()
    assert json.loads((folder / "labconfig" / "default_setting_overrides.json").read_text())[
        "@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert lab_process.stop() == 0
    assert not folder.exists()


def test_a_server_that_fails_to_start_is_reported_without_a_url(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (tmp_path / "x.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
               "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
        result = subprocess.run([*CLI, "lab", "x.ipynb", "--no-browser", "--port", str(port)], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert "starting JupyterLab\u2026" in result.stderr
    assert "JupyterLab stopped before it answered" in result.stderr
    assert URL.search(result.stderr) is None  # no URL for a server that never answered
