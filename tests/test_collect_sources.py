"""jl.sources: notebooks (the chosen cells, never outputs) and folders, with a report of what was read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jupyter_llm as jl

SECRET = "OUTPUT-ONLY-7f3a"  # only ever in outputs: must never be read


def _notebook(path, cells, nbformat=4):
    path.parent.mkdir(parents=True, exist_ok=True)
    made = []
    for kind, source in cells:
        cell = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=1, outputs=[{"output_type": "stream", "name": "stdout", "text": [SECRET]},
                                                   {"output_type": "execute_result", "execution_count": 1,
                                                    "metadata": {}, "data": {"text/plain": [SECRET]}}])
        made.append(cell)
    path.write_text(json.dumps({"nbformat": nbformat, "nbformat_minor": 5, "metadata": {}, "cells": made}),
                    encoding="utf-8")


@pytest.fixture
def notes(tmp_path):
    _notebook(tmp_path / "notes" / "a.ipynb", [("markdown", ["# Field notes\n", "The heron came back."]),
                                              ("code", "print('heron count')"), ("raw", "RAW CELL")])
    _notebook(tmp_path / "notes" / "deep" / "b.ipynb", [("markdown", "Rain all week; the river rose."),
                                                       ("markdown", "   \n"), ("code", ["x = 1\n", "y = x"])])
    _notebook(tmp_path / "notes" / "code_only.ipynb", [("code", "import this")])
    _notebook(tmp_path / "notes" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", [("markdown", "OLD CHECKPOINT")])
    (tmp_path / "notes" / "broken.ipynb").write_text("{not json", encoding="utf-8")
    return tmp_path / "notes"


def test_markdown_cells_only_never_outputs_and_a_report_of_what_was_skipped(notes):
    source = jl.sources.notebooks(str(notes / "**" / "*.ipynb"))
    text = source.read_text()
    assert "The heron came back." in text and "Rain all week" in text
    assert SECRET not in text and "heron count" not in text and "RAW CELL" not in text
    assert "OLD CHECKPOINT" not in text and "import this" not in text
    report = source.report
    assert (report.files, report.cells) == (2, 2) and report.chars == len(text) - 1  # (one separator between files)
    reasons = {p.rsplit("/", 1)[-1]: why for p, why in report.skipped}
    assert reasons == {"broken.ipynb": "not a notebook (not JSON)",
                       "code_only.ipynb": "no markdown cell with text (1 other cell(s))"}
    shown = str(report)
    assert shown.startswith("Read 2 files, 2 cells,") and "no outputs" in shown and "Skipped 2:" in shown
    # ("**" does not enter hidden folders; named outright, a checkpoint copy is still never read)
    with pytest.raises(jl.DataError, match=r"a-checkpoint.ipynb \(inside .ipynb_checkpoints\)"):
        jl.sources.notebooks(str(notes / ".ipynb_checkpoints" / "*.ipynb"))


def test_code_cells_or_both_when_asked(notes):
    code = jl.sources.notebooks(notes / "**" / "*.ipynb", cells="code").read_text()
    assert "print('heron count')" in code and "x = 1\ny = x" in code and "import this" in code
    assert "The heron came back." not in code and SECRET not in code
    both = jl.sources.notebooks(str(notes / "a.ipynb"), cells="both")
    assert both.read_text() == "# Field notes\nThe heron came back.\n\nprint('heron count')"
    assert both.report.cells == 2


def test_bad_choices_are_one_sentence(notes, tmp_path):
    with pytest.raises(jl.InvalidArgumentError, match=r"Expected one of \['markdown', 'code', 'both'\]\. "
                                                      r"Received: cells='prose'"):
        jl.sources.notebooks(str(notes / "*.ipynb"), cells="prose")
    with pytest.raises(jl.DataError, match="No text found in notebooks"):
        jl.sources.notebooks(str(tmp_path / "nothing" / "*.ipynb"))
    with pytest.raises(jl.DataError, match="is a folder"):
        jl.sources.notebooks(str(notes))
    with pytest.raises(jl.DataError, match="is not a folder"):
        jl.sources.folder(tmp_path / "missing")
    with pytest.raises(jl.InvalidArgumentError, match="Received: path=123"):
        jl.sources.folder(123)
    for call in (jl.sources.folder, jl.sources.notebooks):
        with pytest.raises(jl.InvalidArgumentError, match="Received: encoding='nope'"):
            call(str(notes / "*.ipynb") if call is jl.sources.notebooks else notes, encoding="nope")


def test_a_folder_of_markdown_and_text(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "intro.md").write_text("# Intro\nHello, notes.", encoding="utf-8")
    (tmp_path / "docs" / "sub" / "later.txt").write_text("Later text.", encoding="utf-8")
    (tmp_path / "docs" / "script.py").write_text("print('not text')", encoding="utf-8")
    (tmp_path / "docs" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "docs" / ".git").mkdir()
    (tmp_path / "docs" / ".git" / "HEAD.txt").write_text("ref: main", encoding="utf-8")
    source = jl.sources.folder(tmp_path / "docs")
    assert source.read_text() == "# Intro\nHello, notes.\nLater text."
    assert source.report.files == 2 and source.report.cells == 0
    reasons = sorted(why for _, why in source.report.skipped)
    assert reasons == ["inside .git", "not utf-8 text"]
    only_md = jl.sources.folder(tmp_path / "docs", suffixes=(".md",))
    assert only_md.read_text() == "# Intro\nHello, notes."
    with pytest.raises(jl.InvalidArgumentError, match="suffixes"):
        jl.sources.folder(tmp_path / "docs", suffixes="md")


def test_training_takes_a_collected_source(notes, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_LLM_HOME", str(tmp_path / "home"))
    source = jl.sources.notebooks(str(notes / "**" / "*.ipynb"))
    lm = jl.train(source, size="tiny", epochs=1, steps_per_epoch=2, seq_len=16, batch_size=4, validation_split=0,
                  progress=False, sample_tokens=0, seed=0)
    symbols = {lm.tokenizer.id_to_token(i) for i in range(lm.tokenizer.vocab_size)}
    assert set("heron") <= symbols and not {"7", "O"} & symbols  # the outputs' and code's symbols never came in


def test_jl_sources_imports_no_tensorflow():
    code = "import sys, jupyter_llm as jl; jl.sources.notebooks; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
