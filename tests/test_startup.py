"""``import jupyter_llm`` stays light: no TensorFlow until a model is needed, and ``%load_ext`` imports
it only on its warm-up thread (#13)."""

import subprocess
import sys


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, timeout=120)


def test_import_does_not_import_tensorflow():
    out = run("import jupyter_llm, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jieba', 'tokenizers')))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if "|" in line}
    assert "tensorflow" not in imported and "keras" not in imported


#: Run in a fresh interpreter: records which thread first finds each TensorFlow or Keras module, loads the
#: extension in a real InteractiveShell with the warm-up on, and reports what happened, as JSON.
LOAD_EXT_PROBE = r"""
import json, sys, threading, time
found = {}
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('tensorflow', 'keras'):
            found.setdefault(name, threading.current_thread().name)
        return None
sys.meta_path.insert(0, Spy())
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
config = Config(); config.HistoryManager.hist_file = ':memory:'; config.JupyterLLM.warm_up = True
ip = InteractiveShell.instance(config=config)
ip.run_line_magic('load_ext', 'jupyter_llm')
from jupyter_llm.shell import state_of
warm = state_of(ip).warm_up
doing_on_return = warm.message
warm.wait(model=False)
print(json.dumps({"all": found, "doing_on_return": doing_on_return,
                  "error": repr(warm.error) if warm.error else None}))
"""


def test_load_ext_imports_tensorflow_on_another_thread_only(tmp_path):
    """%load_ext returns without TensorFlow (it stays fast), and the warm-up imports it on a thread of its own."""
    import json
    import os

    env = {**os.environ, "JUPYTER_LLM_HOME": str(tmp_path / "home"), "JUPYTER_LLM_WARM_UP": "1"}
    out = subprocess.run([sys.executable, "-c", LOAD_EXT_PROBE], capture_output=True, text=True, timeout=300,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["doing_on_return"] == "loading TensorFlow…", report  # load_ext did not wait for TensorFlow
    assert report["all"].get("tensorflow") == "jupyter_llm-warm-up", report
    assert set(report["all"].values()) == {"jupyter_llm-warm-up"}, report  # nothing on the caller's thread


def test_light_names_work_without_tensorflow():
    out = run(
        "import jupyter_llm as jl, sys\n"
        "c = jl.ModelConfig.from_size('tiny'); print(c.rnn_units, jl.list_models(), jl.__version__)\n"
        "jl.CharTokenizer; jl.AttentionMap\n"
        "print('tensorflow' in sys.modules)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"


def test_unknown_attribute_is_an_attribute_error():
    import jupyter_llm as jl

    try:
        jl.no_such_thing
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_first_model_cells_show_no_tensorflow_start_up_notices(tmp_path, monkeypatch):
    """TensorFlow's C++ core prints notices on import that TF_CPP_MIN_LOG_LEVEL cannot silence;
    whichever cell imports it first (a generation, the assistant), none reaches the notebook."""
    import pytest

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("JUPYTER_LLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")  # as the demo runner sets it: no help against these notices
    for first in ("%assistant hello", "%generate -n 5 --seed 0 To be"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nimport pandas as pd\nimport jupyter_llm as jl"),
                    nbformat.v4.new_code_cell("%load_ext jupyter_llm"), nbformat.v4.new_code_cell(first)]
        nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        stderr = [o["text"] for c in nb.cells for o in c.outputs if o.get("name") == "stderr"]
        assert not any("oneDNN" in t or "absl::InitializeLog" in t or "DT_BOOL" in t for t in stderr), (first, stderr)
        assert nb.cells[-1].outputs, first
