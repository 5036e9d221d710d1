"""Multi-worker training (#17): local worker processes, the chief's writes, a lost worker, shards, backups.

Each test that starts workers runs real TensorFlow processes talking over
localhost gRPC (MultiWorkerMirroredStrategy), on the tiny size and a few steps.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from magics_support import ip, shell  # noqa: F401  (fixtures)

import jupyter_llm as jl
from jupyter_llm.errors import DataError, InvalidArgumentError
from jupyter_llm.training import launch

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"
if not SHAKESPEARE.is_file():
    SHAKESPEARE = ROOT / "jupyter_llm" / "datasets" / "shakespeare_excerpt.txt"  # a clone without ../shared

STEPS, EPOCHS = 30, 2
COMMON = dict(size="tiny", epochs=EPOCHS, steps_per_epoch=STEPS, seed=0, sample_tokens=0, batch_size=32)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_LLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_two_workers_match_one_process_and_only_the_chief_saves(home):
    events = []
    lm = jl.train(str(SHAKESPEARE), name="two", workers=2, on_progress=events.append, **COMMON)
    record = lm.metadata["distributed"]
    assert record["workers"] == 2 and record["restarts"] == 0
    assert record["steps"] == EPOCHS * STEPS  # the planned steps, every one made
    # The chief alone saved: one model in the store, no worker's checkpoints or logs left anywhere.
    assert sorted(p.name for p in (home / "models").iterdir()) == ["two"]
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("jupyter-llm-worker1-*"))
    loaded = jl.load("two")
    assert len(loaded.generate("ROMEO:", max_tokens=20, seed=0)) > 0
    # The two workers read the two halves of the training text, each line once.
    first, second = record["shards"]
    assert first["worker"] == 0 and second["worker"] == 1
    assert first["parts"][0].endswith("]") and first["parts"] != second["parts"]
    # The chief's progress reached the caller: every step of both epochs.
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == EPOCHS * STEPS and steps[-1].epoch == EPOCHS

    one = jl.train(str(SHAKESPEARE), progress=False, **COMMON)
    ours, theirs = lm.metadata["metrics"]["val_loss"], one.metadata["metrics"]["val_loss"]
    assert abs(ours - theirs) / theirs < 0.05, (ours, theirs)


def test_a_worker_killed_mid_epoch_restarts_from_the_backup_with_the_planned_steps(home):
    killed = threading.Event()
    warnings = []

    def kill_worker_1(event):
        if event.kind == "warning":
            warnings.append(event.message)
        if event.kind == "step" and event.epoch == 1 and event.step == 17 and not killed.is_set():
            pids = launch.running_workers()
            assert len(pids) == 2
            os.kill(pids[1], signal.SIGKILL)
            killed.set()

    lm = jl.train(str(SHAKESPEARE), name="lost", workers=2, backup_every=5, on_progress=kill_worker_1,
                  progress=False, **COMMON)
    assert killed.is_set()
    record = lm.metadata["distributed"]
    assert record["restarts"] == 1
    assert any("Worker 2 of 2 was lost (killed by signal 9)" in w for w in warnings), warnings
    (resumed,) = record["resumed"]
    assert resumed["epoch"] == 0 and 15 <= resumed["step"] < STEPS  # part-way through the first epoch
    assert resumed["iterations"] == resumed["step"]
    assert record["steps"] == EPOCHS * STEPS  # not one step more or fewer than planned
    assert [h["steps"] for h in lm.metadata["history"]] == [STEPS] * EPOCHS
    assert not (home / "checkpoints" / "lost" / "backup").exists()  # removed once the run ended
    assert jl.load("lost").metadata["distributed"]["restarts"] == 1  # kept with the saved model


def test_eight_shard_files_give_each_of_two_workers_four(tmp_path, home):
    folder = tmp_path / "shards"
    folder.mkdir()
    lines = SHAKESPEARE.read_text("utf-8").splitlines(keepends=True)[:4000]
    for i in range(8):
        (folder / f"part-{i:02d}.txt").write_text("".join(lines[i * 500:(i + 1) * 500]), "utf-8")
    lm = jl.train(str(folder / "*.txt"), workers=2, progress=False, validation_split=0, size="tiny", epochs=1,
                  steps_per_epoch=4, seq_len=32, batch_size=8, sample_tokens=0)
    first, second = (set(s["parts"]) for s in lm.metadata["distributed"]["shards"])
    assert len(first) == len(second) == 4 and not first & second
    assert {Path(p).name for p in first | second} == {f"part-{i:02d}.txt" for i in range(8)}


def test_text_in_memory_is_sent_to_the_workers(home):
    """One string (cut at line starts between the workers) and a DataFrame column (one record a row)."""
    import pandas as pd

    text = SHAKESPEARE.read_text("utf-8")[:60_000]
    lm = jl.train(text, workers=2, progress=False, size="tiny", epochs=1, steps_per_epoch=4, seq_len=32,
                  batch_size=8, sample_tokens=0)
    assert lm.metadata["distributed"]["steps"] == 4
    first, second = (s["parts"][0] for s in lm.metadata["distributed"]["shards"])
    assert first.endswith(".txt[0:" + second.split("[")[1].split(":")[0] + "]")  # one file, cut where 2 starts
    frame = pd.DataFrame({"line": text.splitlines()[:1500], "n": range(1500)})
    lm = jl.train(frame, column="line", workers=2, progress=False, size="tiny", epochs=1, steps_per_epoch=4,
                  seq_len=32, batch_size=8, sample_tokens=0)
    assert lm.metadata["distributed"]["steps"] == 4


def test_a_users_mistake_in_the_workers_is_raised_once_not_retried(home):
    with pytest.raises(DataError, match="seq_len"):
        jl.train("only a few words, far too short to train on", workers=2, progress=False, size="tiny",
                 validation_split=0, sample_tokens=0)


@pytest.mark.parametrize("given, expected", [
    (dict(model=object()), "model"),
    (dict(strategy="mirrored"), "strategy"),
    (dict(base="shakespeare"), "base"),
    (dict(resume=True, name="again"), "resume"),
])
def test_what_cannot_go_to_the_workers_is_refused_in_one_sentence(given, expected):
    with pytest.raises(InvalidArgumentError, match=expected):
        jl.train("some text " * 200, workers=2, progress=False, **given)


def test_multi_worker_without_a_cluster_says_what_it_needs(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(InvalidArgumentError, match="TF_CONFIG"):
        jl.train("some text " * 200, strategy="multi-worker", progress=False)


def test_an_unknown_strategy_name_is_one_sentence():
    with pytest.raises(InvalidArgumentError, match="'mirrored', 'multi-worker'"):
        jl.train("some text " * 200, strategy="tpu-pod", progress=False)


def test_one_process_resumes_part_way_through_an_epoch_from_its_backup(tmp_path):
    """The backup without workers: interrupted at step 12, the next run goes on from step 10."""
    backup = tmp_path / "backup"

    def interrupt(event):
        if event.kind == "step" and event.step == 12:
            raise KeyboardInterrupt

    opts = dict(size="tiny", epochs=2, steps_per_epoch=20, seed=0, sample_tokens=0, progress=False,
                validation_split=0, backup_dir=backup, backup_every=5)
    jl.train(str(SHAKESPEARE), on_progress=interrupt, **opts)
    assert (backup / "backup.npz").is_file()
    steps = []
    lm = jl.train(str(SHAKESPEARE), on_progress=lambda e: e.kind == "step" and steps.append((e.epoch, e.step)),
                  **opts)
    assert steps[0] == (1, 11) and steps[-1] == (2, 20) and len(steps) == 10 + 20
    assert lm.metadata["distributed"]["resumed"][0]["step"] == 10
    assert lm.metadata["distributed"]["steps"] == 40
    assert not backup.exists()


# === The surfaces: the shell command and the magic ===


def test_the_command_line_trains_on_two_workers(tmp_path, home):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "jupyter_llm.cli", "train", str(SHAKESPEARE), "--name", "cli2", "--workers", "2",
         "--size", "tiny", "--steps-per-epoch", "6", "--seq-len", "32", "--batch-size", "16", "--seed", "0"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, JUPYTER_LLM_HOME=str(home)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Saved 'cli2'" in done.stdout
    assert "6/6" in done.stderr  # the chief's steps, relayed to the terminal's progress bar
    assert jl.load("cli2").metadata["distributed"]["workers"] == 2


def test_the_magic_trains_on_two_workers(ip, home):  # noqa: F811
    from magics_support import run

    ip.user_ns["path"] = str(SHAKESPEARE)
    result = run(ip, "%llm train path --name magic2 --workers 2 --size tiny --steps-per-epoch 6 --seq-len 32 "
                     "--batch-size 16 --seed 0 --out model")
    assert result.error_in_exec is None
    assert ip.user_ns["model"].metadata["distributed"]["workers"] == 2
    assert jl.load("magic2").metadata["distributed"]["steps"] == 6


def test_only_the_chief_writes_checkpoints_and_logs_and_a_stop_is_agreed(tmp_path, home):
    """Worker 2's checkpoints and TensorBoard logs go to temporary folders it removes; a stop ends both."""
    stop = threading.Event()

    def stop_at_step_8(event):
        if event.kind == "step" and event.epoch == 2 and event.step == 8:
            stop.set()

    lm = jl.train(str(SHAKESPEARE), workers=2, progress=False, stop_event=stop, on_progress=stop_at_step_8,
                  checkpoint_dir=tmp_path / "checkpoints", tensorboard_dir=tmp_path / "logs", **COMMON)
    assert lm.metadata["metrics"]["stopped"] == "stopped"
    assert lm.metadata["distributed"]["steps"] < EPOCHS * STEPS  # both stopped at the same step, early
    assert (tmp_path / "checkpoints" / "state.json").is_file()  # the chief's checkpoint of epoch 1
    events = sorted((tmp_path / "logs").rglob("events.out.tfevents.*"))
    assert [p.parent.name for p in events] == ["train", "validation"], events  # one writer: the chief
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("jupyter-llm-worker1-*"))
