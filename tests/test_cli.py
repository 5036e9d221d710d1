"""The ``jupyter-llm`` command, called in-process through ``main(argv)``.

One test runs the installed console script in a subprocess; the rest reuse the
session's tiny model, copied into each test's own model store.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from options_support import assert_help_states

import jupyter_llm as jl
from jupyter_llm.cli import main
from jupyter_llm.generation.options import GENERATION
from jupyter_llm.training.options import TRAINING

MODEL = "bard"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``jupyter-llm argv...``; returns (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jupyter-llm: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def saved_tiny(tiny_lm, tmp_path_factory) -> Path:
    """The session's tiny model saved once to a folder (through a new wrapper, so the fixture is untouched)."""
    folder = tmp_path_factory.mktemp("cli") / "tiny"
    jl.LanguageModel(tiny_lm.model, tiny_lm.tokenizer, tiny_lm.config, dict(tiny_lm.metadata)).save(folder)
    return folder


@pytest.fixture
def model(saved_tiny, jl_home) -> str:
    """The tiny model under the name 'bard' in this test's store."""
    shutil.copytree(saved_tiny, jl_home / "models" / MODEL)
    return MODEL


@pytest.fixture
def corpus(tmp_path, shakespeare_text) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(shakespeare_text[:20_000], encoding="utf-8")
    return path


TINY = ["--size", "tiny", "--seq-len", "32", "--batch-size", "16", "--steps-per-epoch", "5", "--epochs", "1"]


# === The parser ===

def test_help_and_version(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("train", "generate", "models", "eval", "attention", "examples:"):
        assert command in out
    code, out, _ = run(capsys, "generate", "--help")
    assert code == 0 and "--temperature" in out and "jupyter-llm generate bard" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"jupyter-llm {jl.__version__}"


#: The commands whose arguments are built from an options table.
TABLES = {"generate": GENERATION, "train": TRAINING}


@pytest.mark.parametrize("command, name", [(c, n) for c, table in TABLES.items() for n in table])
def test_help_states_the_tables_flags_ranges_and_defaults(capsys, command, name):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert_help_states(out, TABLES[command][name], "cli")


@pytest.mark.parametrize("name", ["max_tokens", "temperature", "seed"])
def test_demo_help_states_the_tables_demo_rules(capsys, name):
    code, out, _ = run(capsys, "demo", "--help")
    assert code == 0
    assert_help_states(out, GENERATION[name], "demo")


@pytest.mark.parametrize("argv, fragment", [
    ([], "Expected a command"),
    (["train", "corpus.txt"], "--name --output is required"),
    (["generate", MODEL, "--samples", "0"], "--samples: expected an integer >= 1"),
    (["generate", MODEL, "--top-k", "0"], "--top-k: expected an integer >= 1"),
    (["train", "corpus.txt", "--name", "x", "--learning-rate", "0"], "--learning-rate: expected a number > 0"),
    (["train", "corpus.txt", "--name", "x", "--tokenizer", "chars"], "--tokenizer: expected one of 'char'"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_error_line(err, fragment)


# === train ===

def test_train_from_a_file_saves_under_a_name(capsys, corpus, jl_home):
    code, out, _ = run(capsys, "train", str(corpus), "--name", "mini", *TINY)
    assert code == 0
    assert f"Saved 'mini'" in out and "val_loss" in out and "nats/token" in out
    [info] = [m for m in jl.list_models() if not m.bundled]
    assert info.name == "mini" and info.tokenizer == "char" and info.val_loss is not None
    # The name is taken: refused before training, with the flag to pass.
    code, _, err = run(capsys, "train", str(corpus), "--name", "mini", *TINY)
    assert code == 1
    assert_one_error_line(err, "'mini'", "--overwrite")


def test_train_globs_to_an_output_folder(capsys, corpus, tmp_path):
    (tmp_path / "more.txt").write_text(corpus.read_text("utf-8")[:5_000], encoding="utf-8")
    output = tmp_path / "out" / "model"
    code, out, _ = run(capsys, "train", str(tmp_path / "*.txt"), "--output", str(output),
                       "--tokenizer", "word", "--validation-split", "0", "--lr-schedule", "cosine", "--seed", "7",
                       *TINY)
    assert code == 0 and str(output) in out
    lm = jl.load(output)
    assert lm.tokenizer.kind == "word" and lm.metadata["corpus"]["description"] == "2 files"
    assert (lm.config.lr_schedule, lm.config.seed) == ("cosine", 7)  # TRAINING options the CLI gained
    code, _, err = run(capsys, "train", str(corpus), "--output", str(output), *TINY)
    assert code == 1
    assert_one_error_line(err, "already exists", "--overwrite")


def test_train_interrupted_saves_and_reports(capsys, corpus, monkeypatch):
    def interrupt(event):
        if event.kind == "step" and event.step == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("jupyter_llm.cli.train._print_sample", interrupt)
    code, out, _ = run(capsys, "train", str(corpus), "--name", "cut", *TINY)
    assert code == 0
    assert "Saved 'cut'" in out and "interrupted" in out
    assert jl.load("cut").metadata["metrics"]["stopped"] == "interrupted"


@pytest.mark.parametrize("source, fragment", [
    ("missing.txt", "No such file: 'missing.txt'"),
    ("nothing/*.txt", "No file matches 'nothing/*.txt'"),
])
def test_train_missing_sources(capsys, tmp_path, monkeypatch, source, fragment):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "train", source, "--name", "x")
    assert code == 1 and out == ""
    assert_one_error_line(err, fragment)


def test_train_resume_needs_a_name(capsys, corpus, tmp_path):
    code, _, err = run(capsys, "train", str(corpus), "--output", str(tmp_path / "m"), "--resume")
    assert code == 2
    assert_one_error_line(err, "--name")


# === generate ===

def test_generate_with_a_seed_is_reproducible(capsys, model):
    argv = ["generate", model, "To be", "-n", "40", "--seed", "3"]
    code, first, _ = run(capsys, *argv)
    assert code == 0
    _, second, _ = run(capsys, *argv)
    assert first == second
    assert first.startswith("To be") and len(first) > len("To be\n")
    _, no_stream, _ = run(capsys, *argv, "--no-stream")
    assert no_stream == first


def test_generate_samples(capsys, model):
    code, out, _ = run(capsys, "generate", model, "ROMEO:", "-n", "20", "--samples", "3", "--seed", "0")
    assert code == 0
    assert [line for line in out.splitlines() if line.startswith("--- sample")] == [
        "--- sample 1 ---", "--- sample 2 ---", "--- sample 3 ---"]
    assert out.count("ROMEO:") == 3


def test_generate_greedy_beam_stop_and_stdin(capsys, model, monkeypatch):
    code, greedy, _ = run(capsys, "generate", model, "To be", "-n", "20", "--greedy")
    assert code == 0
    assert run(capsys, "generate", model, "To be", "-n", "20", "--greedy")[1] == greedy
    monkeypatch.setattr(sys, "stdin", io.StringIO("To be\n"))
    assert run(capsys, "generate", model, "-", "-n", "20", "--greedy")[1] == greedy
    code, beam, _ = run(capsys, "generate", model, "To be", "-n", "10", "--beam", "2")
    assert code == 0 and beam.startswith("To be")
    code, stopped, _ = run(capsys, "generate", model, "To be", "-n", "100", "--seed", "1", "--stop", "\\n")
    assert code == 0 and stopped.count("\n") == 1


def test_generate_interrupted_keeps_the_text(capsys, model, monkeypatch):
    def stream(self, prompt, **kwargs):
        yield "one "
        yield "two"
        raise KeyboardInterrupt

    monkeypatch.setattr(jl.LanguageModel, "stream", stream)
    code, out, err = run(capsys, "generate", model, "Count: ")
    assert code == 130
    assert out.startswith("Count: one two")
    assert_one_error_line(err, "Interrupted")


def test_generate_bad_inputs(capsys, model, tmp_path):
    code, out, err = run(capsys, "generate", model, "To be", "-t", "0")
    assert code == 2 and out == ""
    assert_one_error_line(err, "--temperature: expected a number > 0")
    code, out, err = run(capsys, "generate", "nope", "To be")
    assert code == 1 and out == ""
    assert_one_error_line(err, "There is no model named 'nope'", f"'{MODEL}'")
    code, _, err = run(capsys, "generate", str(tmp_path / "no_such_folder"))
    assert code == 1
    assert_one_error_line(err, "No model at")


def test_generate_unknown_symbols_warn_in_one_line(capsys, model):
    code, out, err = run(capsys, "generate", model, "To be \u2603", "-n", "5", "--seed", "0")
    assert code == 0 and out.startswith("To be \u2603")
    assert err.startswith("jupyter-llm: warning: 1 symbol(s)") and err.count("\n") == 1


# === models ===

def test_models_listing(capsys, jl_home, saved_tiny):
    code, out, _ = run(capsys, "models")
    assert code == 0 and "No models saved yet" in out
    assert [m for m in json.loads(run(capsys, "models", "--json")[1]) if not m["bundled"]] == []
    for name in ("alpha", "beta"):
        shutil.copytree(saved_tiny, jl_home / "models" / name)
    code, out, _ = run(capsys, "models")
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "TOKENIZER", "PARAMETERS", "VAL_LOSS", "CREATED", "SIZE", "WHERE"]
    assert [r.split()[0] for r in rows if r.split()[-1] == "saved"] == ["alpha", "beta"]
    assert all(r.split()[-1] in ("saved", "bundled") for r in rows)  # the resolver's words
    assert f"{jl.load('alpha').num_parameters:,}" in rows[0]
    for argv in (["models", "--json"], ["models", "list", "--json"]):
        listed = [m for m in json.loads(run(capsys, *argv)[1]) if not m["bundled"]]
        assert [m["name"] for m in listed] == ["alpha", "beta"]
        assert listed[0]["tokenizer"] == "char" and listed[0]["size_bytes"] > 0


def test_models_listing_shows_a_damaged_model_and_what_to_do(capsys, jl_home, saved_tiny):
    """A saved model whose metadata.json is valid JSON of the wrong shape is listed, marked, and explained."""
    shutil.copytree(saved_tiny, jl_home / "models" / "good")
    shutil.copytree(saved_tiny, jl_home / "models" / "bad")
    (jl_home / "models" / "bad" / "metadata.json").write_text("[1, 2]", encoding="utf-8")
    code, out, _ = run(capsys, "models")
    assert code == 0
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:] if line and not line.startswith("'")}
    assert rows["good"] == "saved" and rows["bad"] == "damaged"
    (note,) = [line for line in out.splitlines() if line.startswith("'bad' is damaged: ")]
    assert "metadata.json" in note and note.endswith("models delete bad --yes")


def test_models_info(capsys, model):
    code, out, _ = run(capsys, "models", "info", model)
    assert code == 0
    assert f"name         {MODEL}" in out and "config:" in out and "rnn_units" in out
    code, out, _ = run(capsys, "models", "info", model, "--json")
    facts = json.loads(out)
    assert facts["name"] == MODEL and facts["tokenizer"] == "char" and facts["config"]["rnn_units"] == 64


def test_models_delete_needs_yes(capsys, model):
    code, out, err = run(capsys, "models", "delete", model)
    assert code == 2 and out == ""
    assert_one_error_line(err, "--yes")
    assert [m.name for m in jl.list_models() if not m.bundled] == [MODEL]
    code, out, _ = run(capsys, "models", "delete", model, "--yes")
    assert code == 0 and "Deleted" in out
    assert [m for m in jl.list_models() if not m.bundled] == []
    code, _, err = run(capsys, "models", "delete", model)
    assert code == 1
    assert_one_error_line(err, f"No model named '{MODEL}'")


# === eval ===

def test_eval(capsys, model, corpus):
    code, out, _ = run(capsys, "eval", model, str(corpus))
    assert code == 0
    assert "nats/token" in out and "bits/char" in out and "perplexity" in out
    code, out, _ = run(capsys, "eval", model, str(corpus), "--json")
    result = json.loads(out)
    assert result["tokens"] == 19_999
    # The model's own loss on the file, well below the uniform guess over its 60 characters (4.09 nats;
    # the session's tiny model, 40 steps, reaches 2.99 on this text).
    assert result["loss"] == pytest.approx(jl.load(model).evaluate(corpus)["loss"], rel=1e-6)
    assert result["loss"] < 3.3
    assert result["perplexity"] == pytest.approx(2.718281828 ** result["loss"], rel=1e-6)
    code, _, err = run(capsys, "eval", model, str(corpus.with_name("missing.txt")))
    assert code == 1
    assert_one_error_line(err, "No such file")


# === attention ===

def test_attention_text_json_and_html(capsys, model, tmp_path):
    code, out, _ = run(capsys, "attention", model, "To be", "--top", "2")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.startswith("5 tokens") and len(rows) == 5
    assert rows[0].split() == ["0", "'T'", "->", "'T'@0:", "1.00"]
    assert all(row.count("@") <= 2 for row in rows)
    code, out, _ = run(capsys, "attention", model, "To be", "--json")
    data = json.loads(out)
    assert data["tokens"] == ["T", "o", " ", "b", "e"]
    assert len(data["layers"][0]["weights"]) == 5
    page = tmp_path / "attention.html"
    code, out, _ = run(capsys, "attention", model, "To <be>", "--html", str(page))
    assert code == 0 and str(page) in out
    html = page.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "jupyter-llm-attention-static" in html
    assert "&lt;" in html and "<be>" not in html and "<script" not in html


def test_attention_of_empty_text_is_an_error(capsys, model):
    code, out, err = run(capsys, "attention", model, "")
    assert code == 2 and out == ""
    assert_one_error_line(err, "non-empty")


# === The installed command ===

def test_console_script_and_import_cost(tmp_path):
    script = shutil.which("jupyter-llm", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "jupyter_llm.cli"]
    env = {**os.environ, "JUPYTER_LLM_HOME": str(tmp_path)}
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "generate" in done.stdout and done.stderr == ""
    done = subprocess.run([*command, "models", "delete", "nope"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert_one_error_line(done.stderr, "No model named 'nope'")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import jupyter_llm.cli"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "jupyter_llm.cli" in imported
    assert not {m for m in imported if m.split(".")[0] in ("tensorflow", "keras")}
