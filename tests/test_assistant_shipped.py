"""The assistant's default models ship in the package: a fresh install answers without training."""

from __future__ import annotations

import json
import shutil

import pytest
from assistant_support import Clock, say, shell  # noqa: F401

from jupyter_llm.assistant import understanding as u
from jupyter_llm.nlu.model import IntentSlotModel

RETRAIN = "python scripts/train_default_models.py assistant-nlu mood"
SHIPPED = u.SHIPPED_DIR  # the package's own, whatever a test points the module at


@pytest.fixture
def no_memory(monkeypatch):
    """An empty in-process model cache (the session's models stay untouched)."""
    monkeypatch.setattr(u, "_CACHE", {})


@pytest.fixture
def trainings(monkeypatch, no_memory):
    """Every call of IntentSlotModel.train, recorded; it hands back the shipped model instead of training."""
    calls = []

    def fake_train(cls, data, validation=None, epochs=None, **options):
        calls.append((data, epochs, options))
        kind = "mood" if "positive" in data.intents else "assistant"
        return IntentSlotModel.load(SHIPPED / kind)

    monkeypatch.setattr(IntentSlotModel, "train", classmethod(fake_train))
    return calls


@pytest.fixture
def no_training(monkeypatch, no_memory):
    def refuse(cls, *args, **kwargs):
        raise AssertionError("IntentSlotModel.train was called: the shipped model should have been used")

    monkeypatch.setattr(IntentSlotModel, "train", classmethod(refuse))


@pytest.mark.parametrize("kind", u.KINDS)
def test_the_shipped_model_was_trained_for_the_current_examples_and_settings(kind):
    data, config, epochs = u.default_recipe(kind)
    assert (u.SHIPPED_DIR / kind / "manifest.json").is_file(), f"No shipped {kind} model: run `{RETRAIN}`."
    assert u.shipped_fingerprint(kind) == u.fingerprint(kind, data, config, epochs), (
        f"The shipped {kind} model was trained for other examples or settings than the current ones "
        f"(jupyter_llm/assistant/data, understanding.py): run `{RETRAIN}` and commit jupyter_llm/assistant/models.")
    meta = json.loads((u.SHIPPED_DIR / kind / "metadata.json").read_text("utf-8"))
    assert meta["model_format"] == u.MODEL_FORMAT and meta["stopped"] == "epochs"
    assert meta["data_fingerprint"] == data.fingerprint()


def test_the_shipped_models_are_small():
    sizes = {kind: sum(p.stat().st_size for p in (u.SHIPPED_DIR / kind).iterdir()) for kind in u.KINDS}
    assert sum(sizes.values()) < 2_000_000, sizes
    assert not any(p.suffix in (".pkl", ".pickle", ".keras") for p in u.SHIPPED_DIR.rglob("*"))


def test_the_fingerprint_ignores_the_version_and_the_time_limit(monkeypatch):
    data, config, epochs = u.default_recipe("assistant")
    key = u.fingerprint("assistant", data, config, epochs)
    import jupyter_llm._version

    monkeypatch.setattr(jupyter_llm._version, "__version__", "99.0")
    assert u.fingerprint("assistant", data, u.intent_config(max_time=None), epochs) == key
    assert u.fingerprint("assistant", data, config, epochs + 1) != key
    assert u.fingerprint("assistant", u.training_set([("add_todo", "get [eggs](task)")]), config, epochs) != key
    monkeypatch.setattr(u, "MODEL_FORMAT", u.MODEL_FORMAT + 1)
    assert u.fingerprint("assistant", data, config, epochs) != key


def test_a_fresh_home_answers_at_once_without_training(no_training, jl_home):
    from jupyter_llm.assistant import Assistant

    a = Assistant(now=Clock())
    r = a.ask("remind me to call Bob tomorrow at 3pm")  # a training sentence, word for word
    assert (r.intent, r.status) == ("add_reminder", "done")
    assert r.slots == {"task": "call Bob", "time": "tomorrow at 3pm"}
    r = a.ask("please remind me to phone Anna on friday at 9am")  # and one it never saw
    assert (r.intent, r.slots) == ("add_reminder", {"task": "phone Anna", "time": "on friday at 9am"})
    r = a.ask("i'm feeling great this morning")
    assert r.intent == "log_mood" and a.store.moods()[0]["label"] == "positive"
    assert a.nlu.metadata["fingerprint"] == u.shipped_fingerprint("assistant")
    assert not (jl_home / "nlu").exists()  # nothing trained, nothing cached


def test_the_magic_of_a_fresh_shell_answers_without_training(no_training, shell):  # noqa: F811
    from jupyter_llm.extension import load_ipython_extension, unload_ipython_extension

    load_ipython_extension(shell)
    try:
        r = say(shell, "add buy milk to my list of things to do")
        assert (r.intent, r.slots) == ("add_todo", {"task": "buy milk"})
        r = say(shell, "今天心情非常好")
        assert r.intent == "log_mood"
    finally:
        unload_ipython_extension(shell)


def test_teaching_fine_tunes_the_shipped_model_and_undo_returns_to_it(no_training, jl_home):
    from jupyter_llm.assistant import Assistant

    a = Assistant(now=Clock())
    assert a.ask("hi again").intent == "greet"
    r = a.teach("add_todo", "stick [oat milk](task) on the shopping pile")  # no training from scratch
    assert r.status == "done" and r.data["learned"] and r.slots == {"task": "oat milk"}
    meta = a.nlu.metadata
    assert meta["fine_tuned"][0]["seed"] == 0 and meta["taught"] == [{
        "intent": "add_todo", "example": "stick oat milk on the shopping pile", "learned": True,
        "understood_as": "add_todo with task='oat milk'", "expected": "add_todo with task='oat milk'",
        "markdown": "stick [oat milk](task) on the shopping pile"}]
    assert len(list((jl_home / "nlu").glob("taught-*"))) == 1  # the taught model is cached
    a.undo()
    assert a.nlu.metadata["fingerprint"] == u.shipped_fingerprint("assistant")  # the shipped model again


@pytest.mark.parametrize("damage", ["weights", "missing", "fingerprint"])
def test_a_damaged_or_missing_shipped_model_falls_back_to_training(trainings, tmp_path, monkeypatch, damage):
    root = tmp_path / "shipped"
    shutil.copytree(u.SHIPPED_DIR / "assistant", root / "assistant")
    if damage == "weights":
        weights = root / "assistant" / "model.weights.h5"
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "missing":
        shutil.rmtree(root / "assistant")
    else:
        meta = root / "assistant" / "metadata.json"
        meta.write_text(meta.read_text("utf-8").replace(u.shipped_fingerprint("assistant") or "x", "0" * 12))
    monkeypatch.setattr(u, "SHIPPED_DIR", root)
    model = u.ready_model()
    assert len(trainings) == 1 and model is not None
    # Trained once, then cached in memory and on disk.
    assert u.ready_model() is model and len(trainings) == 1


def test_shipped_false_ignores_the_shipped_model(trainings):
    u.ready_mood_model(shipped=False, cache=False)
    assert len(trainings) == 1


def test_the_shipped_models_load_as_plain_files():
    for kind in u.KINDS:
        folder = u.SHIPPED_DIR / kind
        assert sorted(p.name for p in folder.iterdir()) == ["config.json", "manifest.json", "metadata.json",
                                                           "model.weights.h5", "vocab.json"]
