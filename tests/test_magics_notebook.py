"""Run tests/notebooks/magics_tour.ipynb top to bottom in a real kernel and check its outputs' provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).parent / "notebooks" / "magics_tour.ipynb"
ATTENTION_MIME = "application/vnd.jupyter-llm.attention+json"
GENERATE_OPTIONS = ("-m", "-n", "-t", "--top-k", "--top-p", "--repetition-penalty", "--stop", "--seed", "--beam",
                    "--greedy", "--samples", "-f", "--insert", "--echo", "-o", "--attention", "--no-stream",
                    "--no-interpolate")
LLM_COMMANDS = ("train", "list", "info", "use", "save", "load", "delete", "eval", "attention", "help")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The tour, executed with the venv's python3 kernel, in a private model store."""
    home = tmp_path_factory.mktemp("notebook_home")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_LLM_HOME", str(home))
    mp.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=300,
                                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    finally:
        mp.undo()
    nbformat.write(notebook, tmp_path_factory.mktemp("executed") / NOTEBOOK.name)
    return notebook


def code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"]


def generate_cells(notebook):
    return [c for c in code_cells(notebook) if re.match(r"%%?generate\b", c.source)]


def test_the_notebook_uses_every_option_and_command():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    generate_source = "\n".join(c.source.splitlines()[0] for c in generate_cells(notebook))
    for option in GENERATE_OPTIONS:
        assert re.search(rf"(^|\s){re.escape(option)}(\s|$)", generate_source, re.M), option
    for fmt in ("markdown", "code"):
        assert f"-f {fmt}" in generate_source
    llm_source = "\n".join(c.source for c in code_cells(notebook) if c.source.startswith("%llm"))
    for command in LLM_COMMANDS:
        assert f"%llm {command}" in llm_source, command
    assert "--from-notebook" in llm_source


def test_every_generated_output_carries_provenance(executed):
    cells = generate_cells(executed)
    assert len(cells) >= 12
    for cell in cells:
        if any(o.output_type == "stream" and o.text.startswith("UsageError:") for o in cell.outputs):
            continue  # the cell that shows a mistake
        shown = [o for o in cell.outputs if o.output_type == "display_data"]
        assert shown, cell.source
        for output in shown:
            meta = output.metadata["jupyter_llm"]
            assert meta["model"] and re.fullmatch(r"[0-9a-f]{16}", meta["fingerprint"]), cell.source
            assert meta["version"]
            if meta["kind"] == "generation":
                assert {"max_tokens", "temperature", "top_k", "top_p", "repetition_penalty", "stop", "seed",
                        "n", "greedy", "beam", "format", "stream"} <= set(meta["options"])
                assert meta["interrupted"] is False


def test_outputs_reflect_the_options(executed):
    by_first_line = {c.source.splitlines()[0]: c for c in generate_cells(executed)}

    def meta(prefix):
        cell = next(c for line, c in by_first_line.items() if line.startswith(prefix))
        return [o for o in cell.outputs if o.output_type == "display_data"]

    (first,) = meta("%%generate -n 80")
    assert first.metadata["jupyter_llm"]["options"]["stop"] == ["\n\n", "###"]
    assert first.metadata["jupyter_llm"]["model"] == "tour"
    (samples,) = meta("%%generate --samples 3")
    assert samples.data["text/plain"].startswith("[1] ") and "text/html" in samples.data
    (markdown,) = meta("%%generate -f markdown")
    assert "text/markdown" in markdown.data
    text_out, attention = meta("%%generate --attention")
    assert {ATTENTION_MIME, "text/html", "text/plain"} <= set(attention.data)
    assert attention.metadata["jupyter_llm"]["kind"] == "attention"
    assert attention.data[ATTENTION_MIME]["meta"]["fingerprint"] == text_out.metadata["jupyter_llm"]["fingerprint"]
    (line_form,) = meta("%generate -m lm")
    assert line_form.metadata["jupyter_llm"]["origin"] == "variable"


def test_training_progress_is_kept_in_the_notebook(executed):
    train = next(c for c in code_cells(executed) if c.source.startswith("%llm train text"))
    (progress,) = [o for o in train.outputs if o.output_type == "display_data"]
    assert "40/40 steps" in progress.data["text/plain"] and "<progress" in progress.data["text/html"]
    assert progress.metadata["jupyter_llm"]["done"] is True
    printed = "".join(o.text for o in train.outputs if o.output_type == "stream")
    assert "Training finished" in printed and "retracing" not in printed


def test_management_outputs_and_errors(executed):
    cells = code_cells(executed)
    assert not [c.source for c in cells if any(o.output_type == "error" for o in c.outputs)]
    usage_errors = {c.source.splitlines()[0]: o.text for c in cells for o in c.outputs
                    if o.output_type == "stream" and o.text.startswith("UsageError:")}
    assert set(usage_errors) == {"%%generate -n 10", "%llm delete tour_copy"}
    assert all(text.count("\n") == 1 for text in usage_errors.values())  # one line, no traceback
    attention = next(c for c in cells if c.source.startswith("%llm attention"))
    (shown,) = [o for o in attention.outputs if o.output_type == "display_data"]
    assert ATTENTION_MIME in shown.data and shown.metadata["jupyter_llm"]["model"] == "tour"
    evaluation = next(c for c in cells if c.source.startswith("%llm eval"))
    (shown,) = [o for o in evaluation.outputs if o.output_type == "display_data"]
    assert "nats/token" in shown.data["text/plain"]
