"""The built wheel, installed on its own, works out of the box: %%generate writes English with the
bundled `shakespeare` model and %assistant answers, with no training; its bundled weights fit the budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: All bundled weights together (language models and the assistant's NLU models).
WEIGHTS_BUDGET = 15 * 1000 * 1000


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
                   check=True, timeout=1200)
    [built] = out.glob("jupyter_llm-*.whl")
    return built


def test_the_wheel_ships_models_data_and_the_prebuilt_extension(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for model in ("shakespeare", "tang-poetry"):
        for part in ("manifest.json", "config.json", "tokenizer.json", "metadata.json", "model.weights.h5"):
            assert f"jupyter_llm/models/{model}/{part}" in names
    assert any(n.startswith("jupyter_llm/assistant/models/") and n.endswith("manifest.json") for n in names)
    assert "jupyter_llm/datasets/shakespeare_excerpt.txt" in names
    share = "jupyter_llm-{}.data/data/share/jupyter/labextensions/@jupyter-llm/labextension/"
    version = wheel.name.split("-")[1]
    assert share.format(version) + "package.json" in names
    assert share.format(version) + "install.json" in names
    assert any(n.startswith(share.format(version) + "static/remoteEntry.") for n in names)
    assert not any(n.endswith((".pkl", ".pickle", ".pyc")) for n in names)


def test_bundled_weights_fit_the_budget(wheel):
    with zipfile.ZipFile(wheel) as zf:
        weights = {i.filename: i.file_size for i in zf.infolist() if i.filename.endswith(".weights.h5")}
    assert weights, "no bundled weights"
    total = sum(weights.values())
    assert total <= WEIGHTS_BUDGET, f"{total / 1e6:.2f} MB of weights: {weights}"


def test_a_fresh_environment_generates_and_answers_with_no_training(wheel, tmp_path):
    # A fresh virtual environment, as a user makes one: `pip install "jupyter_llm[notebook]"` from the wheel,
    # every dependency resolved from pyproject.toml by pip (none borrowed from this environment), so a
    # dependency missing from pyproject.toml fails here.
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              f"{wheel}[notebook]"], capture_output=True, text=True, timeout=1500)
    assert install.returncode == 0, install.stderr[-3000:]
    paths = json.loads(subprocess.run([str(python), "-c", "import json, sys; print(json.dumps(sys.path))"],
                                      check=True, capture_output=True, text=True).stdout)
    site = Path(next(p for p in paths if p.endswith("site-packages")))
    assert site.is_relative_to(env_dir) and sysconfig.get_paths()["purelib"] not in paths, paths
    lab = subprocess.run([str(env_dir / "bin" / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "JUPYTER_PATH": "", "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")})
    listing = lab.stdout + lab.stderr
    assert "@jupyter-llm/labextension" in listing and "enabled" in listing and "OK" in listing, listing
    work = tmp_path / "work"
    work.mkdir()
    script = textwrap.dedent("""
        import json, sys
        import nbclient, nbformat
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(s) for s in (
            "import jupyter_llm, sys; print(jupyter_llm.__file__); print('tensorflow' in sys.modules)",
            "%load_ext jupyter_llm",
            "%%generate -n 200 --seed 0\\nROMEO:",
            "%assistant remind me to call Bob tomorrow at 3pm",
            "%assistant what's on my calendar this week",
        )]
        nbclient.NotebookClient(nb, kernel_name="python3", timeout=600).execute()
        texts = []
        for cell in nb.cells:
            parts = []
            for out in cell.outputs:
                parts.append(out.get("text") or (out.get("data") or {}).get("text/plain", ""))
            texts.append("".join(parts))
        print(json.dumps(texts))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(JUPYTER_LLM_HOME=str(tmp_path / "home"), TF_CPP_MIN_LOG_LEVEL="3", IPYTHONDIR=str(tmp_path / "ipy"),
               JUPYTER_PATH="", JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter"))
    result = subprocess.run([str(python), "-c", script], cwd=work, env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    where, load, generated, remind, calendar = json.loads(result.stdout.strip().splitlines()[-1])
    assert where.splitlines()[0].startswith(str(site)), where  # the wheel's copy, not this checkout
    assert where.splitlines()[1] == "False"  # importing the package imports no TensorFlow
    assert not generated.startswith("ROMEO:")  # the continuation only (--echo would repeat the prompt)
    words = [w.strip(".,;:!?'-").lower() for w in generated.split()]
    english = {"the", "and", "to", "of", "i", "you", "my", "a", "that", "in", "is", "not", "me", "with", "be"}
    assert len(generated) > 150 and sum(w in english for w in words) >= 5, generated
    assert "Bob" in remind and ("3" in remind or "15:00" in remind), remind
    assert "Bob" in calendar, calendar
    # nothing was trained: no model or NLU cache was written to the user's store
    home = tmp_path / "home"
    assert not (home / "models").exists() or not any((home / "models").iterdir())
    assert not (home / "nlu").exists() or not any((home / "nlu").iterdir())
