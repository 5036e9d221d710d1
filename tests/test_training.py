"""jl.train: sources, tokenizers, events, stopping, checkpoints, strategies, and bad input."""

import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import jupyter_llm as jl

TINY = dict(size="tiny", seq_len=16, batch_size=8, progress=False, sample_tokens=0, seed=0)


def test_public_api_trains_from_a_string_with_validation(shakespeare_text):
    events = []
    lm = jl.train(shakespeare_text[:20000], tokenizer="char", epochs=2, validation_split=0.1,
                  steps_per_epoch=6, on_progress=events.append, **{**TINY, "sample_tokens": 20})
    assert isinstance(lm, jl.LanguageModel)
    kinds = [e.kind for e in events]
    assert kinds[0] == "train_begin" and kinds[-1] == "train_end"
    assert kinds.count("epoch_end") == 2 and kinds.count("sample") == 2 and kinds.count("step") == 12
    step = next(e for e in events if e.kind == "step")
    assert step.loss > 0 and step.tokens_per_second > 0 and step.eta is not None and step.steps == 6
    end = [e for e in events if e.kind == "epoch_end"]
    assert all(e.val_loss is not None for e in end)
    history = lm.metadata["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    assert lm.metadata["metrics"]["val_bits_per_char"] == pytest.approx(history[-1]["val_loss"] / np.log(2))


def test_trains_on_lists_files_globs_series_and_dataframes(tmp_path, shakespeare_text):
    pd = pytest.importorskip("pandas")
    lines = [line for line in shakespeare_text[:8000].split("\n") if line]
    (tmp_path / "a.txt").write_text(shakespeare_text[:4000], encoding="utf-8")
    (tmp_path / "b.txt").write_text(shakespeare_text[4000:8000], encoding="utf-8")
    df = pd.DataFrame({"text": lines, "n": range(len(lines))})
    for source, kwargs in [
        (lines, {}),
        (str(tmp_path / "a.txt"), {}),
        (str(tmp_path / "*.txt"), {}),
        (pd.Series(lines), {}),
        (df, {"column": "text"}),
        ((line for line in lines), {}),
    ]:
        lm = jl.train(source, epochs=1, steps_per_epoch=2, **kwargs, **TINY)
        assert lm.metadata["corpus"]["train_tokens"] > 1000


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_every_tokenizer_trains_and_generates(kind, shakespeare_text, tang_text):
    text = shakespeare_text[:15000] + "\n" + tang_text[:3000]
    lm = jl.train(text, tokenizer=kind, epochs=1, steps_per_epoch=3, max_vocab=300 if kind == "bpe" else None,
                  **TINY)
    assert lm.tokenizer.kind == kind
    out = lm.generate("春风", max_tokens=10, seed=0)
    assert isinstance(out, str) and out


def test_separate_validation_data_and_evaluate(shakespeare_text):
    lm = jl.train(shakespeare_text[:10000], validation_data=shakespeare_text[-3000:], epochs=1,
                  steps_per_epoch=3, **TINY)
    assert lm.metadata["corpus"]["validation"] == "separate"
    result = lm.evaluate(shakespeare_text[-3000:])
    assert set(result) >= {"loss", "bits_per_char", "perplexity", "tokens"}
    assert result["loss"] == pytest.approx(lm.metadata["history"][-1]["val_loss"], rel=1e-3)
    assert result["bits_per_char"] == pytest.approx(result["loss"] / np.log(2))


def test_large_files_stream_through_tf_data(tmp_path, monkeypatch, shakespeare_text):
    path = tmp_path / "big.txt"
    path.write_text(shakespeare_text[:30000], encoding="utf-8")
    monkeypatch.setenv("JUPYTER_LLM_STREAM_THRESHOLD", "10000")
    import jupyter_llm.training.data as data

    read_whole = []
    monkeypatch.setattr(data, "encode_source", lambda *a: read_whole.append(1))
    events = []
    lm = jl.train(path, epochs=1, on_progress=events.append, **TINY)
    assert not read_whole  # the in-memory path was never taken
    assert lm.metadata["corpus"]["train_tokens"] is None
    assert sum(e.kind == "step" for e in events) >= 100  # one pass over ~27k characters in windows of 16x8
    assert np.isfinite(lm.evaluate(path)["loss"])


def test_stop_event_stops_within_a_step(shakespeare_text):
    stop = threading.Event()
    steps = []

    def on_progress(event):
        if event.kind == "step":
            steps.append(event.step)
            if event.step == 3:
                stop.set()

    lm = jl.train(shakespeare_text, epochs=5, stop_event=stop, on_progress=on_progress, **TINY)
    assert len(steps) == 3 and lm.metadata["metrics"]["stopped"] == "stopped"


def test_time_limit(shakespeare_text):
    lm = jl.train(shakespeare_text, epochs=50, time_limit=1.0, **TINY)
    metrics = lm.metadata["metrics"]
    assert metrics["stopped"] == "time_limit" and metrics["epochs_completed"] <= 1


def assert_same_weights(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_array_equal(a, b)


def untrained(text):
    """A new tiny character model, so that a progress callback can read its weights while it trains."""
    from jupyter_llm.config import ModelConfig
    from jupyter_llm.text.tokenizers import CharTokenizer

    config = ModelConfig.from_size("tiny", seq_len=TINY["seq_len"], batch_size=TINY["batch_size"], seed=0)
    return jl.LanguageModel.build(config, CharTokenizer.fit([text]))


def test_keyboard_interrupt_stops_cleanly_and_keeps_weights(shakespeare_text, jl_home):
    text = shakespeare_text[:20000]
    lm = untrained(text)
    last_step = []

    def interrupt(event):
        if event.kind == "step" and event.step == 4:
            last_step.append(lm.model.get_weights())  # after the 4th step, the last one completed
            raise KeyboardInterrupt

    out = jl.train(text, model=lm, name="bard", epochs=2, steps_per_epoch=10, on_progress=interrupt, **TINY)
    assert out is lm
    metrics = lm.metadata["metrics"]
    assert metrics["stopped"] == "interrupted" and metrics["partial_epoch"]["steps"] == 4
    assert metrics["epochs_completed"] == 0
    assert_same_weights(lm.model.get_weights(), last_step[0])
    assert_same_weights(jl.load("bard").model.get_weights(), last_step[0])  # saved as returned

    # No epoch was completed, so no checkpoint: resume continues the saved model, from those weights.
    assert not (jl_home / "checkpoints" / "bard" / "state.json").exists()
    resumed = jl.train(text, name="bard", resume=True, epochs=1, steps_per_epoch=5, validation_split=0, **TINY)
    same_start = untrained(text)
    same_start.model.set_weights(last_step[0])
    reference = jl.train(text, model=same_start, epochs=1, steps_per_epoch=5, validation_split=0, **TINY)
    for a, b in zip(resumed.model.get_weights(), reference.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(resumed.model.get_weights()[0], last_step[0][0])  # and it did train
    assert [h["epoch"] for h in resumed.metadata["history"]] == [1]


def test_nan_loss_restores_the_last_good_weights(shakespeare_text, monkeypatch):
    """The last good weights are the last snapshot (every SNAPSHOT_EVERY steps and at each epoch's end)."""
    from jupyter_llm.training import callbacks

    monkeypatch.setattr(callbacks, "SNAPSHOT_EVERY", 2)  # as with 50, in fewer steps
    text = shakespeare_text[:5000]
    lm = untrained(text)
    start = lm.model.get_weights()
    snapshot, messages = [], []

    def poison(event):
        if event.kind == "step" and event.epoch == 2 and event.step == 2:
            snapshot.append(lm.model.get_weights())  # the snapshot of this step
        if event.kind == "step" and event.epoch == 2 and event.step == 3:
            lm.model.set_weights([np.full_like(w, np.nan) for w in lm.model.get_weights()])
        if event.kind == "warning":
            messages.append(event.message)

    jl.train(text, model=lm, epochs=2, steps_per_epoch=4, on_progress=poison, **TINY)
    assert lm.metadata["metrics"]["stopped"] == "nan"
    assert len(messages) == 1 and "loss became NaN" in messages[0]
    assert "Restored the last good weights (epoch 2, step 2)" in messages[0]
    assert_same_weights(lm.model.get_weights(), snapshot[0])
    assert not np.array_equal(lm.model.get_weights()[0], start[0])  # those of step 6, not of the start


def test_nan_weights_after_an_epochs_last_step_are_not_kept_as_good(shakespeare_text, tmp_path):
    """An update can make the weights NaN although its own loss (computed before it) was finite."""
    text = shakespeare_text[:5000]
    lm = untrained(text)
    start = lm.model.get_weights()
    messages = []

    def poison(event):
        if event.kind == "step" and event.epoch == 1 and event.step == 3:
            lm.model.set_weights([np.full_like(w, np.nan) for w in lm.model.get_weights()])
        if event.kind == "warning":
            messages.append(event.message)

    # The only good weights this run had are those it started from: it raises, and they are kept.
    with pytest.raises(jl.TrainingDivergedError, match="weights became NaN"):
        jl.train(text, model=lm, epochs=2, steps_per_epoch=3, checkpoint_dir=tmp_path / "ckpt",
                 on_progress=poison, **TINY)
    assert messages == []  # the exception is the one notice
    assert_same_weights(lm.model.get_weights(), start)
    assert not (tmp_path / "ckpt" / "state.json").exists()  # a NaN epoch is never checkpointed


def test_early_stopping_restores_the_best_weights(shakespeare_text):
    lm = jl.train(shakespeare_text[:3000], epochs=30, steps_per_epoch=1, early_stopping=1,
                  **{**TINY, "learning_rate": 0.5})
    metrics = lm.metadata["metrics"]
    assert metrics["stopped"] == "early_stopping"
    best = min(h["val_loss"] for h in lm.metadata["history"])
    assert lm.evaluate(shakespeare_text[:3000][-300:])["loss"] == pytest.approx(best, rel=1e-3)


def test_named_models_are_saved_checkpointed_and_resumed(shakespeare_text, jl_home):
    text = shakespeare_text[:8000]
    lm = jl.train(text, name="bard", epochs=2, steps_per_epoch=2, **TINY)
    assert [m.name for m in jl.list_models() if not m.bundled] == ["bard"]
    state = json.loads((jl_home / "checkpoints" / "bard" / "state.json").read_text())
    assert state["epoch"] == 2
    with pytest.raises(jl.ModelExistsError, match="before training"):
        jl.train(text, name="bard", epochs=1, **TINY)
    resumed = jl.train(text, name="bard", epochs=4, steps_per_epoch=2, resume=True, **TINY)
    assert [h["epoch"] for h in resumed.metadata["history"]] == [1, 2, 3, 4]
    assert resumed.tokenizer.to_dict() == lm.tokenizer.to_dict()


def test_tensorboard_logs(tmp_path, shakespeare_text):
    jl.train(shakespeare_text[:5000], epochs=1, steps_per_epoch=2, tensorboard_dir=tmp_path / "tb", **TINY)
    assert any("events.out.tfevents" in f for _, _, files in os.walk(tmp_path / "tb") for f in files)


def test_mirrored_strategy_over_two_logical_cpus(tmp_path, shakespeare_text):
    corpus = tmp_path / "c.txt"
    corpus.write_text(shakespeare_text[:6000], encoding="utf-8")
    script = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import jupyter_llm as jl
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        lm = jl.train({str(corpus)!r}, epochs=1, steps_per_epoch=3, strategy=strategy, size="tiny",
                      seq_len=16, batch_size=8, progress=False, sample_tokens=0)
        print("replicas", strategy.num_replicas_in_sync, "loss", lm.metadata["history"][-1]["loss"])
        print("text", repr(lm.generate("A", max_tokens=5, seed=0)))
    """)
    env = {**os.environ, "JUPYTER_LLM_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "replicas 2" in out.stdout


# === Bad input ===

@pytest.mark.parametrize("source, match", [
    ("", "empty"),
    ("   \n\t  ", "empty"),
    (["", "  "], "empty"),
])
def test_empty_corpus(source, match):
    with pytest.raises(jl.DataError, match=match):
        jl.train(source, **TINY)


def test_corpus_shorter_than_one_sequence():
    with pytest.raises(jl.DataError, match=r"seq_len \+ 1 = 17"):
        jl.train("too short", validation_split=0, **TINY)


def test_unknown_tokenizer_and_bad_sizes():
    with pytest.raises(jl.InvalidArgumentError, match="tokenizer"):
        jl.train("some text " * 100, tokenizer="sentencepiece", **TINY)
    with pytest.raises(jl.InvalidArgumentError, match="rnn_units"):
        jl.train("some text " * 100, rnn_units=0, progress=False)
    with pytest.raises(jl.InvalidArgumentError, match="epochs"):
        jl.train("some text " * 100, epochs=0)
    with pytest.raises(jl.InvalidArgumentError, match="batch_size"):
        jl.train("some text " * 100, batch_size=-4)
    with pytest.raises(jl.InvalidArgumentError, match="rnn_unit"):
        jl.train("some text " * 100, rnn_unit=64)  # a misspelt option is named, not ignored
    with pytest.raises(jl.InvalidArgumentError, match="validation_split"):
        jl.train("some text " * 100, validation_split=1.0)


def test_missing_file_and_empty_glob(tmp_path):
    with pytest.raises(jl.DataError, match="No such file"):
        jl.train(str(tmp_path / "missing.txt"), **TINY)
    with pytest.raises(jl.DataError, match="No file matches"):
        jl.train(str(tmp_path / "*.txt"), **TINY)


def test_non_utf8_file_names_the_offset(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes(b"plain ascii text " * 10 + "d\xe9j\xe0 vu".encode("latin-1"))
    with pytest.raises(jl.DataError, match=r"old\.txt.*offset 171"):
        jl.train(path, **TINY)
    lm = jl.train(path, encoding="latin-1", validation_split=0, **{**TINY, "seq_len": 8})
    assert "é" in lm.tokenizer.decode(lm.tokenizer.encode("é"))


def test_resume_without_checkpoint_continues_the_saved_model(shakespeare_text, jl_home):
    import shutil

    text = shakespeare_text[:8000]
    first = jl.train(text, epochs=1, steps_per_epoch=2, **TINY)
    first.save("saved")
    shutil.rmtree(jl_home / "checkpoints", ignore_errors=True)
    resumed = jl.train(text, name="saved", epochs=2, steps_per_epoch=2, resume=True, **TINY)
    assert [h["epoch"] for h in resumed.metadata["history"]] == [1, 2]
    assert resumed.config.to_dict() == first.config.to_dict()


def test_streamed_corpus_trains_several_epochs_without_keras_warnings(tmp_path, monkeypatch, shakespeare_text):
    import warnings

    path = tmp_path / "big.txt"
    path.write_text(shakespeare_text[:8000], encoding="utf-8")
    monkeypatch.setenv("JUPYTER_LLM_STREAM_THRESHOLD", "1000")
    events = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lm = jl.train(path, epochs=2, on_progress=events.append, **TINY)
    assert [e.epoch for e in events if e.kind == "epoch_end"] == [1, 2]
    assert lm.metadata["metrics"]["stopped"] == "completed"
    assert not [w for w in caught if "ran out of data" in str(w.message)]


# === Epoch bookkeeping, TensorBoard, evaluation ===

def _tensorboard_scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of one TensorBoard run folder: tag -> [(step, value), ...]."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    out = {tag: [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
           for tag in acc.Tags().get("tensors", [])
           if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"}
    out.update({tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags().get("scalars", [])})
    return out


def test_tensorboard_records_every_epoch_and_the_validation_loss(tmp_path, shakespeare_text):
    pytest.importorskip("tensorboard")
    tb = tmp_path / "tb"
    lm = jl.train(shakespeare_text[:8000], epochs=2, steps_per_epoch=7, tensorboard_dir=tb, **TINY)
    history = lm.metadata["history"]
    train = _tensorboard_scalars(tb / "train")
    val = _tensorboard_scalars(tb / "validation")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]
    assert [v for _, v in train["epoch_loss"]] == pytest.approx([h["loss"] for h in history], rel=1e-5)
    assert [s for s, _ in val["epoch_loss"]] == [0, 1]
    assert [v for _, v in val["epoch_loss"]] == pytest.approx([h["val_loss"] for h in history], rel=1e-5)
    assert train["batch_loss"]  # the per-step loss is still written
    assert all(1 <= s <= 14 for s, _ in train["batch_loss"])


def test_a_stop_part_way_through_an_epoch_is_not_a_completed_epoch(tmp_path, shakespeare_text):
    stop = threading.Event()
    ckpt = tmp_path / "ckpt"

    def on_progress(event):
        if event.kind == "step" and event.epoch == 3 and event.step == 1:
            stop.set()

    lm = jl.train(shakespeare_text[:20000], epochs=4, steps_per_epoch=10, stop_event=stop,
                  checkpoint_dir=ckpt, on_progress=on_progress, **TINY)
    metrics = lm.metadata["metrics"]
    assert metrics["stopped"] == "stopped"
    assert [h["epoch"] for h in lm.metadata["history"]] == [1, 2]
    assert metrics["epochs_completed"] == 2
    partial = metrics["partial_epoch"]
    assert partial["epoch"] == 3 and partial["steps"] == 1 and partial["loss"] > 0
    assert partial["val_loss"] == pytest.approx(lm.evaluate(shakespeare_text[:20000][-2000:])["loss"], rel=1e-3)
    state = json.loads((ckpt / "state.json").read_text())
    assert state["epoch"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2]

    events = []
    resumed = jl.train(shakespeare_text[:20000], epochs=4, steps_per_epoch=10, checkpoint_dir=ckpt,
                       resume=True, on_progress=events.append, **TINY)
    assert [e.epoch for e in events if e.kind == "epoch_end"] == [3, 4]  # epoch 3 runs again, whole
    assert [(h["epoch"], h["steps"]) for h in resumed.metadata["history"]] == [(1, 10), (2, 10), (3, 10), (4, 10)]
    assert resumed.metadata["metrics"]["epochs_completed"] == 4
    assert resumed.metadata["metrics"]["partial_epoch"] is None


def test_a_stop_on_the_last_step_of_an_epoch_completes_it(shakespeare_text):
    stop = threading.Event()

    def on_progress(event):
        if event.kind == "step" and event.epoch == 1 and event.step == 4:
            stop.set()

    lm = jl.train(shakespeare_text[:8000], epochs=3, steps_per_epoch=4, stop_event=stop,
                  on_progress=on_progress, **TINY)
    metrics = lm.metadata["metrics"]
    assert metrics["stopped"] == "stopped" and metrics["epochs_completed"] == 1
    assert metrics["partial_epoch"] is None


def test_checkpointing_does_not_rename_the_model(tmp_path, shakespeare_text):
    lm = jl.train(shakespeare_text[:8000], epochs=1, steps_per_epoch=2, checkpoint_dir=tmp_path / "ckpt", **TINY)
    assert lm.name is None and "unsaved" in repr(lm)
    resumed = jl.train(shakespeare_text[:8000], epochs=2, steps_per_epoch=2, checkpoint_dir=tmp_path / "ckpt",
                       resume=True, **TINY)
    assert resumed.name is None
    named = jl.train(shakespeare_text[:8000], epochs=1, steps_per_epoch=2, name="bard", **TINY)
    assert named.name == "bard"


def test_bits_per_char_counts_the_characters_of_the_text_not_of_unk(shakespeare_text):
    lm = jl.train(shakespeare_text[:10000], tokenizer="word", epochs=1, steps_per_epoch=2, validation_split=0,
                  **TINY)
    # Words the model never saw: each is one <unk> token, of 7 to 12 characters in the text.
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("qxzjvkw"), size=rng.integers(7, 13))) for _ in range(300)]
    text = "the " + " ".join(words)
    assert len(lm.tokenizer.unknown_symbols(text)) > 250
    result = lm.evaluate(text)
    chars = len(text) - len("the")  # every character after the first token is predicted
    assert result["chars"] == chars
    assert result["bits_per_char"] == pytest.approx(result["loss"] * result["tokens"] / chars / np.log(2), rel=1e-9)


def test_val_bits_per_char_agrees_with_evaluate(shakespeare_text):
    val = shakespeare_text[-3000:]
    lm = jl.train(shakespeare_text[:10000], tokenizer="word", validation_data=val, epochs=1, steps_per_epoch=2,
                  **TINY)
    assert lm.metadata["metrics"]["val_bits_per_char"] == pytest.approx(lm.evaluate(val)["bits_per_char"], rel=1e-4)


def test_a_streamed_word_corpus_has_val_bits_per_char(tmp_path, monkeypatch, shakespeare_text):
    from jupyter_llm.text.sources import TextSource

    path = tmp_path / "big.txt"
    path.write_text(shakespeare_text[:12000], encoding="utf-8")
    monkeypatch.setenv("JUPYTER_LLM_STREAM_THRESHOLD", "1000")
    lm = jl.train(path, tokenizer="word", epochs=1, steps_per_epoch=2, **TINY)
    assert lm.metadata["corpus"]["train_tokens"] is None  # streamed
    bpc = lm.metadata["metrics"]["val_bits_per_char"]
    assert bpc is not None and bpc == pytest.approx(
        lm.evaluate(TextSource.from_any(path).split(0.1)[1])["bits_per_char"], rel=1e-4)
