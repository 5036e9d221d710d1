"""Loading the extension, configuration and help (no model needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from magics_support import error_of, ip, run, settings, shell  # noqa: F401


def _python(code: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> str:
    result = subprocess.run([sys.executable, *args, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=60, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_load_ext_imports_no_tensorflow(tmp_path):
    """What keeps %load_ext light: no TensorFlow, Keras or tokenizers (bench/micro.py times it)."""
    out = _python("""
        import json, sys
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "jupyter_llm")
        print(json.dumps({
            "heavy": sorted(m for m in ("tensorflow", "keras", "tokenizers") if m in sys.modules),
            "line": sorted(n for n in ("generate", "llm") if n in shell.magics_manager.magics["line"]),
            "cell": "generate" in shell.magics_manager.magics["cell"],
        }))
    """, env={"IPYTHONDIR": str(tmp_path)})
    report = json.loads(out.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["line"] == ["generate", "llm"] and report["cell"]


def test_extension_from_ipython_config(tmp_path):
    """c.InteractiveShellApp.extensions and c.JupyterLLM.* in ipython_config.py."""
    profile = tmp_path / "profile_default"
    profile.mkdir()
    store_path = tmp_path / "store"
    (profile / "ipython_config.py").write_text(textwrap.dedent(f"""
        c.InteractiveShellApp.extensions = ["jupyter_llm"]
        c.JupyterLLM.default_model = "poems"
        c.JupyterLLM.max_tokens = 42
        c.JupyterLLM.store_path = {str(store_path)!r}
    """))
    out = _python("""
        import json, os
        ip = get_ipython()
        cfg = [c for c in ip.configurables if type(c).__name__ == "JupyterLLM"][0]
        print(json.dumps({"generate": ip.find_cell_magic("generate") is not None,
                          "default_model": cfg.default_model, "max_tokens": cfg.max_tokens,
                          "home": os.environ.get("JUPYTER_LLM_HOME")}))
    """, env={"IPYTHONDIR": str(tmp_path)}, args=("-m", "IPython", "--no-banner", "--colors=nocolor"))
    report = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    assert report == {"generate": True, "default_model": "poems", "max_tokens": 42, "home": str(store_path)}


def test_unload_removes_everything(shell, jl_home):
    shell.run_line_magic("load_ext", "jupyter_llm")
    assert shell.find_cell_magic("generate") and shell.find_line_magic("llm")
    shell.run_line_magic("unload_ext", "jupyter_llm")
    assert shell.find_cell_magic("generate") is None
    assert shell.find_line_magic("generate") is None and shell.find_line_magic("llm") is None
    assert not [c for c in shell.configurables if type(c).__name__ == "JupyterLLM"]
    shell.run_line_magic("load_ext", "jupyter_llm")  # and it loads again
    assert shell.find_line_magic("llm")
    shell.run_line_magic("reload_ext", "jupyter_llm")
    assert shell.find_line_magic("llm")
    assert sum(type(c).__name__ == "JupyterLLM" for c in shell.configurables) == 1
    shell.run_line_magic("unload_ext", "jupyter_llm")


def test_config_magic(ip, tmp_path, capsys):
    run(ip, "%config JupyterLLM.default_model = 'poems'")
    run(ip, "%config JupyterLLM.temperature = 0.7")
    assert settings(ip).default_model == "poems" and settings(ip).temperature == 0.7
    run(ip, f"%config JupyterLLM.store_path = {str(tmp_path / 'elsewhere')!r}")
    assert os.environ["JUPYTER_LLM_HOME"] == str(tmp_path / "elsewhere")
    run(ip, "%config JupyterLLM")
    out = capsys.readouterr().out
    for trait in ("default_model", "max_tokens", "temperature", "stream", "store_path"):
        assert f"JupyterLLM.{trait}" in out


def test_config_rejects_bad_values(ip, caplog):
    run(ip, "%config JupyterLLM.temperature = -1")
    run(ip, "%config JupyterLLM.max_tokens = 0")
    assert settings(ip).temperature == 1.0 and settings(ip).max_tokens == 200
    assert "Expected a number > 0" in caplog.text and "Expected an integer >= 1" in caplog.text
    run(ip, "%config JupyterLLM.temperature = float('inf')")
    assert settings(ip).temperature == 1.0 and "Received: inf" in caplog.text


def test_config_survives_reload(ip):
    run(ip, "%config JupyterLLM.max_tokens = 33")
    run(ip, "%reload_ext jupyter_llm")
    assert settings(ip).max_tokens == 33


def test_help_is_generated_from_the_declarations(ip, capsys):
    run(ip, "%%generate?")
    text = capsys.readouterr().out
    for option in ("--model", "--max-tokens", "--temperature", "--top-k", "--top-p", "--repetition-penalty",
                   "--stop", "--seed", "--beam", "--greedy", "--samples", "--format", "--insert", "--echo",
                   "--out", "--attention", "--no-stream", "--no-interpolate", "Examples"):
        assert option in text, option
    run(ip, "%llm?")
    text = capsys.readouterr().out
    for usage in ("%llm train", "--from-notebook", "%llm list", "%llm info", "%llm use", "%llm save",
                  "%llm load", "%llm delete", "--yes", "%llm eval", "%llm attention", "%llm help", "Examples"):
        assert usage in text, usage


def test_generate_help_option_is_not_an_exit(ip):
    assert "unrecognized arguments: --help" in error_of(ip, "%generate --help")
