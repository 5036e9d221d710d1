"""Streaming keeps resident memory flat (#17.5): bench/stream_memory.py's measurement at small sizes.

Each corpus is streamed through one epoch in a fresh process (its peak its own), as the benchmark does;
the benchmark itself runs 50 MiB against 1 and 2 GiB (docs/benchmarks.md). Here a corpus 6 times
(training) or 24 times (the data side alone) the size of the small one must leave the peak resident
memory where it was, within a margin below what holding the larger file would cost, and every epoch
must have read the whole file. About a minute on 2 idle cores (four fresh processes importing TensorFlow).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"
MB = 2**20


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The text the corpora are made of: tiny Shakespeare from ../shared/corpora, else the package's excerpt.

    The benchmark repeats its source's lines, reshuffled, to any size, so the 200 kB excerpt shipped in
    jupyter_llm.datasets serves as well on a checkout without ../shared (a fresh clone elsewhere).
    """
    if SOURCE.is_file():
        return SOURCE
    from jupyter_llm import datasets

    path = tmp_path_factory.mktemp("source") / "shakespeare.txt"
    path.write_text(datasets.load("shakespeare"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("stream_memory", ROOT / "bench" / "stream_memory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_whole_epoch(row: dict, seq_len: int, batch_size: int) -> None:
    """The epoch's batches cover the file: all its full windows, less the last part-batch."""
    assert row["streamed"], row
    assert row["tokens_seen"] == row["steps"] * seq_len * batch_size
    assert abs(row["steps"] - row["steps_expected"]) <= 1, row
    assert 0 <= row["tokens"] - row["tokens_seen"] <= (batch_size + 1) * seq_len + 1, row


def test_training_on_a_streamed_file_keeps_memory_flat(bench, source, tmp_path, monkeypatch):
    """jl.train streams a file over the threshold (set low) through one epoch: 6x the text, the same peak."""
    options = dict(bench.CHEAP_MODEL)  # seq_len 64, batch 512: 32 steps for 1 MiB, 192 for 6 MiB
    rows = bench.run([1 * MB, 6 * MB], "train", options, source=source, tmp=str(tmp_path), echo=False,
                     streaming=None, env={"JUPYTER_LLM_STREAM_THRESHOLD": str(MB // 2)})
    small, large = rows
    for row in rows:
        _check_whole_epoch(row, options["seq_len"], options["batch_size"])
        assert row["last_loss"] < row["first_loss"]  # it trained on what it read
    # Past the first steps (the allocator's pools filling) the peak stays put: 160 more steps, 5 MiB more text.
    assert large["peak_mb"] - small["peak_mb"] < 80, rows
    assert list(tmp_path.iterdir()) == []  # the corpora and the run history's folder are gone


def test_reading_a_streamed_file_keeps_memory_flat(bench, source, tmp_path):
    """The data side of the epoch (tokenizer fit and every batch): 24x the text; holding it would cost 48+ MiB."""
    options = {**bench.CHEAP_MODEL, **bench.PIPELINE_WINDOWS}
    rows = bench.run([2 * MB, 48 * MB], "pipeline", options, source=source, tmp=str(tmp_path), echo=False)
    small, large = rows
    for row in rows:
        _check_whole_epoch(row, options["seq_len"], options["batch_size"])
        assert row["read_whole_file"]
    assert large["peak_mb"] - small["peak_mb"] < 40, rows  # measured: +15 MiB for 2 against 64 MiB
    result = bench.summary(rows, max_growth_mb=40)
    assert result["passed"] and result["all_read_whole_file"]


def test_corpus_writer_and_sizes(bench, source, tmp_path):
    path = tmp_path / "c.txt"
    written = bench.write_corpus(path, 3 * MB, source, seed=1)
    text = path.read_text("utf-8")
    assert written["bytes"] == path.stat().st_size >= 3 * MB
    assert written["chars"] == len(text)
    assert path.stat().st_size - 3 * MB < 4096  # it stops at the line that reaches the size
    assert text.startswith("== pass 0 ==\n") and "== pass 2 ==\n" in text
    first, second = text.split("== pass 1 ==\n")[0], text.split("== pass 1 ==\n")[1].split("== pass 2")[0]
    assert first != second and sorted(first.splitlines()[1:]) == sorted(second.splitlines())  # reshuffled
    assert bench.parse_sizes("50M,2G,1k,100") == [50 * MB, 2 * 2**30, 1024, 100]
    with pytest.raises(SystemExit):
        bench.parse_sizes("lots")
