"""The shipped excerpts: importable without TensorFlow, named errors, real text."""

import subprocess
import sys

import pytest

import jupyter_llm as jl
from jupyter_llm import datasets


def test_names_and_load():
    assert datasets.names() == ["shakespeare", "tang-poetry"]
    text = datasets.load("shakespeare")
    assert text.startswith("First Citizen:") and len(text) > 150_000
    verse = datasets.load("tang-poetry")
    lines = [line for line in verse.splitlines() if line]
    assert len(lines) > 5000
    # one couplet a line: two halves of 5 or 7 characters
    assert sum(len(line) in (12, 16) for line in lines) / len(lines) > 0.9
    assert "shakespeare" in datasets.describe("shakespeare").lower()


def test_unknown_name_is_one_clear_error():
    with pytest.raises(jl.InvalidArgumentError, match="Expected one of 'shakespeare', 'tang-poetry'"):
        datasets.path("wikipedia")


def test_datasets_do_not_import_tensorflow():
    code = "import jupyter_llm as jl, sys; jl.datasets.load('shakespeare'); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
