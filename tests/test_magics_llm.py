"""%llm through a real IPython shell: train, list, info, use, save, load, delete, eval, attention, help."""

from __future__ import annotations

import json

import pytest
from magics_support import copy_of, error_of, ip, outputs, provenance_of, run, session, settings, shell  # noqa: F401

import jupyter_llm
import jupyter_llm as jl
from jupyter_llm import store



def tiny(steps: int = 8) -> str:
    """Options that train a model in a second or two."""
    return f"--size tiny --seq-len 16 --batch-size 16 --steps-per-epoch {steps} --validation-split 0.2 --seed 0"


TINY = tiny()


@pytest.fixture
def text(ip, shakespeare_text):
    ip.user_ns["text"] = shakespeare_text[:6000]
    return shakespeare_text[:6000]


@pytest.fixture
def saved(jl_home, tiny_lm):
    model = copy_of(tiny_lm)
    model.save("tiny")
    return model


@pytest.fixture
def spy_train(monkeypatch, tiny_lm):
    """Replace jupyter_llm.train by a spy that records its arguments and returns a copy of the tiny model."""
    calls = []

    def train(source, **kwargs):
        calls.append({"source": source, **kwargs})
        model = copy_of(tiny_lm)
        if kwargs.get("name"):
            model.save(kwargs["name"], overwrite=kwargs.get("overwrite", False))
        return model

    monkeypatch.setattr(jupyter_llm, "train", train)
    return calls


# === train ===

def test_train_saves_selects_and_shows_progress(ip, text, capfd):
    from IPython.core.displaypub import DisplayPublisher

    capturing, ip.display_pub = ip.display_pub, DisplayPublisher(shell=ip)  # a terminal: a tqdm bar
    result = run(ip, f"%llm train text --name mine --out model {TINY}")
    ip.display_pub = capturing
    assert result.error_in_exec is None
    assert store.exists("mine")
    model = ip.user_ns["model"]
    assert model.name == "mine" and model.config.rnn_units == 64 and model.config.seq_len == 16
    assert settings(ip).default_model == "mine"
    captured = capfd.readouterr()
    assert "8/8" in captured.err and "loss " in captured.err and "ETA " in captured.err  # the terminal bar
    assert "Training finished" in captured.out and "'mine' is saved" in captured.out
    # %%generate now uses it, from the cache (the very object trained)
    run(ip, "%%generate -n 5 --seed 0\nTo be")
    meta = provenance_of(outputs(ip)[-1])
    assert meta["model"] == "mine" and meta["fingerprint"] == model.fingerprint
    assert session(ip).load(store.resolve("mine")) is model


def test_train_unsaved_becomes_current_with_progress_in_place(ip, text, capsys):
    run(ip, "%config JupyterLLM.default_model = 'configured'")
    run(ip, f"%llm train text {TINY} --epochs 2 --tokenizer word --time-limit 30")
    assert settings(ip).default_model == "configured"  # left alone; the new model takes precedence
    assert "unsaved" in capsys.readouterr().out
    (progress,) = outputs(ip)
    assert progress["transient"]["display_id"]
    assert "16/16 steps" in progress["data"]["text/plain"] and "epoch 2/2" in progress["data"]["text/plain"]
    assert '<progress value="16" max="16">' in progress["data"]["text/html"]
    assert provenance_of(progress)["kind"] == "training" and provenance_of(progress)["done"] is True
    ip.display_pub.outputs.clear()
    current = session(ip).current
    assert current is not None and current.model.tokenizer.kind == "word"
    assert current.model.metadata["metrics"]["epochs_completed"] == 2
    assert run(ip, "%generate -n 3 --seed 0 To be").error_in_exec is None
    assert provenance_of(outputs(ip)[-1])["origin"] == "memory"
    assert not store.list_models()  # nothing saved (and no bundled model in these tests)


def test_train_interrupt_keeps_the_model(ip, text, monkeypatch, capsys):
    from jupyter_llm.magics import output

    real_call = output.TrainingProgress.__call__

    def interrupt(self, event):
        real_call(self, event)
        if event.kind == "step" and event.step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(output.TrainingProgress, "__call__", interrupt)
    result = run(ip, f"%llm train text --name stopped -o model {tiny(steps=50)}")
    assert result.error_in_exec is None
    assert "Training interrupted" in capsys.readouterr().out
    model = ip.user_ns["model"]
    assert model.metadata["metrics"]["stopped"] == "interrupted"
    assert store.exists("stopped") and settings(ip).default_model == "stopped"


def test_train_options_reach_the_trainer(ip, spy_train):
    ip.user_ns["docs"] = ["one", "two"]
    run(ip, "%llm train docs --name big --overwrite --epochs 3 --tokenizer bpe --size medium --max-vocab 500 "
            "--seq-len 64 --batch-size 8 --steps-per-epoch 10 --time-limit 2.5 --validation-split 0 "
            "--sample-tokens 40 --seed 7")
    (call,) = spy_train
    assert call["source"] == ["one", "two"]
    assert call == {**call, "name": "big", "overwrite": True, "epochs": 3, "tokenizer": "bpe", "size": "medium",
                    "max_vocab": 500, "seq_len": 64, "batch_size": 8, "steps_per_epoch": 10, "time_limit": 2.5,
                    "validation_split": 0.0, "sample_tokens": 40, "seed": 7, "progress": False}
    assert callable(call["on_progress"])


def test_train_sources_series_dataframe_file_and_glob(ip, spy_train, tmp_path):
    pd = pytest.importorskip("pandas")
    ip.user_ns["series"] = pd.Series(["a b", "c d"])
    ip.user_ns["df"] = pd.DataFrame({"body": ["x", "y"], "n": [1, 2]})
    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "b.txt").write_text("beta")
    run(ip, "%llm train series")
    run(ip, "%llm train df --column body")
    run(ip, f"%llm train {tmp_path / 'a.txt'}")
    run(ip, f"%llm train '{tmp_path}/*.txt'")
    series, df, path, glob = spy_train
    assert series["source"] is ip.user_ns["series"]
    assert df["source"] is ip.user_ns["df"] and df["column"] == "body"
    assert str(path["source"]) == str(tmp_path / "a.txt")
    assert glob["source"] == f"{tmp_path}/*.txt"


def test_train_from_notebook(ip, spy_train, tmp_path, monkeypatch):
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "Some prose."]},
        {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None},
        {"cell_type": "raw", "metadata": {}, "source": "not this"},
    ]}
    path = tmp_path / "here.ipynb"
    path.write_text(json.dumps(notebook))
    run(ip, f"%llm train --from-notebook {path} --size tiny")
    ip.user_ns["__session__"] = str(path)  # what ipykernel sets in JupyterLab
    run(ip, "%llm train --from-notebook --size tiny")
    assert spy_train[0]["source"] == spy_train[1]["source"] == ["# Title\nSome prose.", "x = 1"]


def test_train_from_notebook_without_a_notebook(ip, spy_train, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert "Cannot tell which notebook" in error_of(ip, "%llm train --from-notebook")
    assert "No notebook at" in error_of(ip, "%llm train --from-notebook nowhere.ipynb")
    assert not spy_train


@pytest.mark.parametrize("line, expected", [
    ("%llm train", "Expected one source: SOURCE, --from-notebook or --notebooks. Received: none"),
    ("%llm train text --from-notebook", "Received: SOURCE and --from-notebook"),
    ("%llm train number", "SOURCE number is a variable of type int"),
    ("%llm train undefined_thing", "SOURCE undefined_thing is neither a variable nor a file"),
    ("%llm train text --size huge", "--size: expected one of 'tiny', 'small', 'medium', received 'huge'"),
    ("%llm train text --epochs 0", "--epochs: expected an integer >= 1, received '0'"),
    ("%llm train text --validation-split 1", "--validation-split: expected a number in [0, 1)"),
    ("%llm train text --name 'bad name'", "Invalid value for argument name"),
    ("%llm train 'text", "Invalid options for %llm train: No closing quotation"),
])
def test_train_bad_input(ip, text, line, expected):
    ip.user_ns["number"] = 3
    message = error_of(ip, line)
    assert expected in message
    assert settings(ip).default_model is None and session(ip).current is None


def test_train_refuses_an_existing_name_before_training(ip, text, saved):
    assert "already saved" in error_of(ip, f"%llm train text --name tiny {TINY}")
    assert jl.load("tiny").fingerprint == saved.fingerprint


# === list, info, use ===

def test_list_shows_store_and_variables(ip, saved, tiny_lm):
    run(ip, "%llm list")
    ip.user_ns["var_model"] = tiny_lm
    run(ip, "%llm use tiny")
    run(ip, "%llm list")
    data = outputs(ip)[-1]["data"]
    lines = data["text/plain"].splitlines()
    assert any(line.startswith("*") and "tiny" in line for line in lines)
    assert any("var_model (variable)" in line for line in lines)
    assert "<td>tiny</td>" in data["text/html"]


def test_bundled_models_are_listed_loadable_and_read_only(ip, tiny_lm, saved):
    copy_of(tiny_lm).save(store.bundled_dir() / "shakespeare")
    run(ip, "%llm list")
    lines = outputs(ip)[-1]["data"]["text/plain"].splitlines()
    assert any(line.startswith("*") and "shakespeare (bundled)" in line for line in lines)  # the fallback
    assert "read-only" in error_of(ip, "%llm delete shakespeare --yes")
    assert (store.bundled_dir() / "shakespeare" / "manifest.json").is_file()
    run(ip, "%llm load shakespeare -o bard")
    assert settings(ip).default_model == "shakespeare" and ip.user_ns["bard"].name == "shakespeare"


def test_list_of_nothing_says_how_to_start(ip, capsys):
    run(ip, "%llm list")
    assert "No models yet" in capsys.readouterr().out and not outputs(ip)


def test_info(ip, saved):
    run(ip, "%llm info tiny")
    out = outputs(ip)[-1]
    assert out["data"]["application/json"]["fingerprint"] == saved.fingerprint
    assert "tokenizer: char" in out["data"]["text/plain"]
    assert provenance_of(out)["kind"] == "info"
    run(ip, "%llm use tiny")
    run(ip, "%llm info")
    assert outputs(ip)[-1]["data"]["application/json"]["name"] == "tiny"


def test_use_sets_the_default(ip, saved, tiny_lm, capsys):
    run(ip, "%llm use tiny")
    assert settings(ip).default_model == "tiny"
    ip.user_ns["lm"] = tiny_lm
    run(ip, "%llm use lm")
    run(ip, "%generate -n 3 hello")
    assert provenance_of(outputs(ip)[-1])["origin"] == "variable"
    assert "no model named 'nope'" in error_of(ip, "%llm use nope")
    assert settings(ip).default_model == "lm"


# === save, load, delete ===

def test_save_the_current_model(ip, tiny_lm, tmp_path):
    ip.user_ns["lm"] = copy_of(tiny_lm)
    run(ip, "%llm use lm")
    run(ip, "%llm save keep")
    assert store.exists("keep") and settings(ip).default_model == "keep"
    assert "already saved" in error_of(ip, "%llm save keep")
    assert run(ip, "%llm save keep --overwrite").error_in_exec is None
    run(ip, f"%llm save {tmp_path / 'folder'} -m lm")
    assert (tmp_path / "folder" / "manifest.json").is_file()
    assert settings(ip).default_model == "keep"  # saving another model leaves the choice alone
    # a folder that is not a model is named as such, never "a model is already saved" there
    message = error_of(ip, "%llm save .. -m lm")
    assert "exists and is not a jupyter_llm model" in message and "already saved" not in message


def test_load_a_folder(ip, tiny_lm, tmp_path):
    folder = tmp_path / "exported"
    copy_of(tiny_lm).save(folder)
    run(ip, f"%llm load {folder} --name imported -o loaded")
    assert store.exists("imported") and settings(ip).default_model == "imported"
    assert ip.user_ns["loaded"].fingerprint == tiny_lm.fingerprint
    run(ip, f"%llm load {folder}")
    assert settings(ip).default_model == str(folder.resolve())
    run(ip, "%generate -n 3 hello")
    assert provenance_of(outputs(ip)[-1])["origin"] == "folder"
    assert "No model at" in error_of(ip, f"%llm load {tmp_path / 'missing'}")
    assert "No model named 'missing'" in error_of(ip, "%llm load missing")


def test_delete_asks_for_yes(ip, saved):
    run(ip, "%llm use tiny")
    message = error_of(ip, "%llm delete tiny")
    assert "--yes" in message
    assert store.exists("tiny")  # nothing lost
    assert run(ip, "%llm delete tiny --yes").error_in_exec is None
    assert not store.exists("tiny") and settings(ip).default_model is None
    assert "No model named 'tiny'" in error_of(ip, "%llm delete tiny --yes")


# === eval, attention, help ===

def test_eval(ip, saved, shakespeare_text):
    ip.user_ns["held_out"] = shakespeare_text[-3000:]
    run(ip, "%llm eval tiny held_out -o metrics")
    out = outputs(ip)[-1]
    metrics = ip.user_ns["metrics"]
    assert metrics == pytest.approx(saved.evaluate(shakespeare_text[-3000:]))
    assert out["data"]["application/json"] == metrics
    assert "nats/token" in out["data"]["text/plain"]
    assert provenance_of(out)["source"] == "held_out"
    ip.user_ns["wrong"] = 1.5
    assert "SOURCE wrong is a variable of type float" in error_of(ip, "%llm eval tiny wrong")
    message = error_of(ip, "%llm eval tiny ''")
    assert message.startswith("SOURCE is empty") and "folder" not in message


def test_eval_a_dataframe_column(ip, saved, shakespeare_text):
    pd = pytest.importorskip("pandas")
    ip.user_ns["df"] = pd.DataFrame({"body": [shakespeare_text[-2000:]], "n": [1]})
    run(ip, "%llm eval tiny df --column body -o metrics")
    assert ip.user_ns["metrics"]["tokens"] == 1999
    assert "Invalid value for argument column" in error_of(ip, "%llm eval tiny df --column nope")


def test_attention(ip, saved):
    run(ip, "%llm attention -o amap tiny To be, or not to be")
    out = outputs(ip)[-1]
    assert set(out["data"]) == {"application/vnd.jupyter-llm.attention+json", "text/html", "text/plain"}
    amap = ip.user_ns["amap"]
    assert "".join(amap.tokens) == "To be, or not to be"
    assert provenance_of(out)["fingerprint"] == saved.fingerprint
    ip.user_ns["who"] = "Hamlet"
    run(ip, "%llm attention -o amap tiny {who}")
    assert "".join(ip.user_ns["amap"].tokens) == "Hamlet"
    run(ip, "%llm attention --no-interpolate -o amap tiny {who}")
    assert len(ip.user_ns["amap"]) == len("{who}")  # (the braces are unknown symbols to this model)
    assert "Expected %llm attention NAME TEXT" in error_of(ip, "%llm attention tiny")


def test_help(ip, capsys):
    run(ip, "%llm help")
    out = capsys.readouterr().out
    for command in ("train", "list", "info", "use", "save", "load", "delete", "eval", "attention"):
        assert f"%llm {command}" in out
    run(ip, "%llm help train")
    assert "--from-notebook" in capsys.readouterr().out
    run(ip, "%llm")
    assert "Commands:" in capsys.readouterr().out
    assert "Unknown %llm command 'frobnicate'" in error_of(ip, "%llm frobnicate")
    assert "Unknown %llm command 'nope'" in error_of(ip, "%llm help nope")


def test_panel_opens_each_panel_and_refuses_unknown_kinds(ip, saved):
    from jupyter_llm.widgets import GeneratePanel, TrainingPanel

    shown = []
    import IPython.display

    original = IPython.display.display
    IPython.display.display = lambda obj, *a, **k: shown.append(obj)
    try:
        assert not run(ip, "%llm panel generate -m tiny").error_in_exec
        assert not run(ip, "%llm panel train").error_in_exec
    finally:
        IPython.display.display = original
    assert isinstance(shown[0], GeneratePanel) and isinstance(shown[1], TrainingPanel)
    assert shown[0].picker.value == "saved:tiny"  # the saved model, by its key: one entry, not a copy
    assert [label for label, _ in shown[0].picker.options].count("tiny — saved") == 1
    assert "Expected one of: train, generate, assistant" in error_of(ip, "%llm panel nonsense")
    assert "missing" in error_of(ip, "%llm panel generate -m missing")
