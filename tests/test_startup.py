"""``import jupyter_llm`` stays light: no TensorFlow until a model is needed."""

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
