"""Notebooks as training text on the surfaces (#16.2): the TrainingPanel's "Notes" choice (this notebook's
Markdown cells) and ``%llm train --notebooks PATTERN``: Markdown cells only unless asked, never an output, and
what was read is said."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("ipywidgets")

import jupyter_llm as jl  # noqa: E402
from jupyter_llm.widgets import TrainingPanel  # noqa: E402
from magics_support import error_of, ip, run, shell  # noqa: E402,F401  (fixtures)

SECRET = "OUTPUT-ONLY-7f3a"  # appears in outputs alone: must never be trained on
TINY = dict(size="tiny", seq_len=16, batch_size=8, measure_speed=False)


def _notebook(path, markdown: list[str], code: list[str] = ()) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": 1, "source": text,
               "outputs": [{"output_type": "stream", "name": "stdout", "text": SECRET}]} for text in code]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}), "utf-8")
    return str(path)


NOTES = ["# Field notes\n\nThe heron waits at the edge of the reeds until the water is still. " * 4,
         "Tuesday: the kingfisher came back to the willow by the bridge. " * 4]


def test_the_panel_trains_on_this_notebooks_markdown_cells(tmp_path):
    path = _notebook(tmp_path / "journal.ipynb", NOTES, code=["x = 1  # a code cell"])
    panel = TrainingPanel(namespace={"__session__": path}, epochs=1, steps_per_epoch=2, sample_tokens=0, **TINY)
    panel.source.value = "notebook"
    source, column, description = panel.picker.resolve()
    assert description == "this notebook's Markdown cells (2 cells)"
    text = "".join(source.iter_chunks())
    assert "heron" in text and "kingfisher" in text and "x = 1" not in text and SECRET not in text
    assert re.search(r"[\d,]+ characters", panel.picker.info.value)
    panel.train()
    assert panel.wait(120) and panel.error is None
    assert "journal.ipynb" in panel.model.metadata["corpus"]["description"]


def test_the_panel_says_when_the_notebook_cannot_be_found_or_has_no_notes(tmp_path):
    panel = TrainingPanel(namespace={}, **TINY)
    panel.source.value = "notebook"
    assert panel.train() is None
    assert "Cannot tell which notebook this kernel runs" in panel.status.value
    path = _notebook(tmp_path / "empty.ipynb", [], code=["print(1)"])
    panel = TrainingPanel(namespace={"__session__": path}, **TINY)
    panel.source.value = "notebook"
    assert panel.train() is None
    assert "has no Markdown cell with text yet" in panel.status.value


def test_llm_train_notebooks_reads_markdown_only_unless_asked_and_says_what_it_read(ip, tmp_path, capsys):
    notes = tmp_path / "notes"
    (notes / "2026").mkdir(parents=True)
    _notebook(notes / "a.ipynb", NOTES[:1], code=["def heron(): pass"])
    _notebook(notes / "2026" / "b.ipynb", NOTES[1:], code=["y = 2"])
    (notes / "broken.ipynb").write_text("not json", "utf-8")
    result = run(ip, f"%llm train --notebooks '{notes}/**/*.ipynb' --size tiny --seq-len 16 --batch-size 8 "
                     "--steps-per-epoch 2 -o lm")
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    assert "Read 2 files, 2 cells" in out and "(Markdown cells; no outputs)" in out
    assert "broken.ipynb: not a notebook" in out
    lm = ip.user_ns["lm"]
    assert lm.metadata["corpus"]["bytes"] < 1_000  # the two Markdown cells, no code, no output
    run(ip, f"%llm train --notebooks '{notes}/**/*.ipynb' --cells both --size tiny --seq-len 16 --batch-size 8 "
            "--steps-per-epoch 2 -o both")
    assert "Read 2 files, 4 cells" in capsys.readouterr().out
    assert ip.user_ns["both"].metadata["corpus"]["bytes"] > lm.metadata["corpus"]["bytes"]


def test_llm_train_notebooks_mistakes_are_one_sentence(ip, tmp_path):
    assert "invalid choice: 'outputs' (choose from 'markdown', 'code', 'both')" in error_of(
        ip, f"%llm train --notebooks '{tmp_path}/*.ipynb' --cells outputs")
    message = error_of(ip, f"%llm train --notebooks '{tmp_path}/*.ipynb'")
    assert message.startswith("No text found in notebooks at")
    assert "Expected one source" in error_of(ip, f"%llm train text --notebooks '{tmp_path}/*.ipynb'")
    assert "--cells chooses the cells of --notebooks" in error_of(ip, "%llm train text --cells code")


def test_llm_train_no_copy_index_keeps_no_index(ip):
    ip.user_ns["text"] = NOTES[0] * 3
    run(ip, "%llm train text --size tiny --seq-len 16 --batch-size 8 --steps-per-epoch 2 -o kept")
    run(ip, "%llm train text --size tiny --seq-len 16 --batch-size 8 --steps-per-epoch 2 --no-copy-index -o private")
    assert ip.user_ns["kept"].copy_index is not None
    assert ip.user_ns["private"].copy_index is None
