"""The run history (#16.3): every training run is recorded; jl.runs(), %llm runs, and deletion that keeps or removes runs."""

from __future__ import annotations

import json
import threading

import pytest

import jupyter_llm as jl
from jupyter_llm import run_history
from magics_support import error_of, ip, outputs, run, shell  # noqa: F401  (fixtures)

TRAIN = dict(size="tiny", seq_len=16, batch_size=8, steps_per_epoch=6, progress=False, sample_tokens=0, seed=0)


@pytest.fixture(scope="module")
def text(shakespeare_text):
    return shakespeare_text[:20_000]


def test_every_run_is_recorded_with_its_settings_data_curve_and_result(text):
    lm = jl.train(text, epochs=2, name="bard", **TRAIN)
    jl.train(text[:10_000], epochs=1, **TRAIN)  # not saved: still a run

    frame = jl.runs()
    assert list(frame.columns) == list(run_history.COLUMNS)
    assert len(frame) == 2
    first, second = frame.iloc[0], frame.iloc[1]
    assert first.model == "bard" and second.model is None
    assert first.status == "completed" and first.epochs == 2
    assert first["size"] == "tiny" and first.tokenizer == "char"
    assert first.settings["config"]["seq_len"] == 16 and first.settings["epochs"] == 2
    # The text is described by its size and fingerprint, never kept.
    assert first.fingerprint == lm.metadata["corpus"]["fingerprint"] and first.fingerprint.startswith("sha256:")
    assert first.fingerprint != second.fingerprint
    assert first.val_loss == pytest.approx(lm.metadata["metrics"]["val_loss"])
    record = json.loads((run_history.runs_dir() / f"{first.id}.json").read_text(encoding="utf-8"))
    assert text[:200] not in json.dumps(record)
    # The curve: every step of both epochs (12), global step numbers, and each epoch's end with its val_loss.
    curve = first.curve
    assert curve["step"] == list(range(1, 13))
    assert len(curve["loss"]) == 12 and all(v > 0 for v in curve["loss"])
    assert [e["epoch"] for e in curve["epochs"]] == [1, 2] and [e["step"] for e in curve["epochs"]] == [6, 12]
    assert curve["epochs"][-1]["val_loss"] == pytest.approx(first.val_loss, rel=1e-5)
    # The model knows the run that made it.
    assert lm.metadata["run"] == first.id
    assert jl.load("bard").metadata["run"] == first.id


def test_runs_filter_by_model_data_and_status(text):
    jl.train(text, name="a", **TRAIN)
    stop = threading.Event()
    stop.set()  # stops after the first step
    jl.train(text, name="b", stop_event=stop, **TRAIN)
    assert list(jl.runs(model="a").model) == ["a"]
    assert list(jl.runs(status="stopped").model) == ["b"]
    fingerprint = jl.runs(model="a").iloc[0].fingerprint
    assert len(jl.runs(data=fingerprint)) == 2  # same text, two runs
    assert jl.runs(model="nosuch").empty
    with pytest.raises(jl.InvalidArgumentError, match="Expected a str or None"):
        jl.runs(model=3)


def test_a_diverged_run_is_recorded_too(text):
    with pytest.raises(jl.TrainingDivergedError):
        jl.train(text, learning_rate=1e6, epochs=3, **{**TRAIN, "steps_per_epoch": 20})
    (row,) = jl.runs().itertuples()
    assert row.status in ("diverged", "nan")


def test_the_curve_is_thinned_evenly_and_keeps_the_last_point():
    from jupyter_llm.training.events import ProgressEvent

    curve = run_history.Curve(max_points=10)
    for step in range(1, 101):
        curve(ProgressEvent("step", epoch=1, step=step, loss=1.0 / step, elapsed=step / 10))
    curve(ProgressEvent("epoch_end", epoch=1, loss=0.01, val_loss=0.02, elapsed=10.0))
    d = curve.to_dict()
    assert len(d["step"]) <= 11 and d["step"][0] == 1 and d["step"][-1] == 100
    assert d["step"] == sorted(set(d["step"]))
    gaps = {b - a for a, b in zip(d["step"], d["step"][1:-1])}
    assert len(gaps) == 1  # evenly spaced, apart from the last point
    assert d["loss"][d["step"].index(50) if 50 in d["step"] else 0] > 0
    assert d["epochs"] == [{"epoch": 1, "step": 100, "loss": 0.01, "val_loss": 0.02, "elapsed": 10.0}]


def test_a_file_that_is_not_a_run_record_is_skipped(text):
    folder = run_history.runs_dir()
    folder.mkdir(parents=True)
    (folder / "notes.json").write_text("not json", encoding="utf-8")
    (folder / "other.json").write_text('{"format": "something else", "id": "other"}', encoding="utf-8")
    (folder / "renamed.json").write_text(json.dumps({"format": run_history.FORMAT, "id": "x"}), encoding="utf-8")
    assert jl.runs().empty
    jl.train(text, **TRAIN)
    assert len(jl.runs()) == 1


def test_deleting_a_model_keeps_its_runs_unless_asked(text):
    jl.train(text, name="keepme", **TRAIN)
    jl.train(text, name="dropme", **TRAIN)
    jl.delete_model("keepme")
    assert list(jl.runs().model) == ["keepme", "dropme"]
    jl.delete_model("dropme", runs="delete")
    assert list(jl.runs().model) == ["keepme"]
    with pytest.raises(jl.InvalidArgumentError, match="Expected one of 'keep', 'delete'"):
        jl.delete_model("keepme", runs="maybe")


def test_llm_runs_shows_a_table_and_keeps_the_frame(ip, text, capsys):
    run(ip, "%llm runs")
    assert "No training runs yet" in capsys.readouterr().out
    jl.train(text, name="poems", **TRAIN)
    jl.train(text, **TRAIN)
    result = run(ip, "%llm runs --model poems -o history")
    assert result.success
    (table,) = [o for o in outputs(ip) if "text/html" in o["data"]]
    assert "poems" in table["data"]["text/plain"] and "completed" in table["data"]["text/plain"]
    assert "<table>" in table["data"]["text/html"]
    assert list(ip.user_ns["history"].model) == ["poems"]
    run(ip, "%llm runs --last 1 -o last")
    assert len(ip.user_ns["last"]) == 1 and ip.user_ns["last"].iloc[0].model is None
    assert "Expected a whole number of runs >= 1" in error_of(ip, "%llm runs --last 0")


def test_llm_delete_runs_flag(ip, text):
    jl.train(text, name="gone", **TRAIN)
    run(ip, "%llm delete gone --yes --runs delete")
    assert jl.runs().empty
    assert "invalid choice" in error_of(ip, "%llm delete gone --yes --runs maybe")


def test_cli_lists_runs(text, capsys):
    from jupyter_llm.cli import main

    jl.train(text, name="cli_model", **TRAIN)
    assert main(["models", "runs"]) == 0
    out = capsys.readouterr().out
    assert "cli_model" in out and "completed" in out
    assert main(["models", "runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["model"] == "cli_model" and record["curve"]["step"]


def test_a_run_records_the_models_own_size_not_the_default(text):
    model = jl.build_model(text, size="tiny", seq_len=16, batch_size=8)
    jl.train(text, model=model, steps_per_epoch=2, progress=False, sample_tokens=0)  # no size= given
    jl.train(text, rnn_units=24, **{**TRAIN, "size": "tiny"})  # a shape of no named size
    assert list(jl.runs()["size"]) == ["tiny", "custom"]
