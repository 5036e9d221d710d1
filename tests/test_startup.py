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
