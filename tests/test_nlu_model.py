"""IntentSlotModel: train on the benchmark format, predict, evaluate, save and load, bad input."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from jupyter_llm import nlu
from jupyter_llm.errors import CorruptModelError, InvalidArgumentError, ModelExistsError, ModelNotFoundError

ARTISTS = ["bob dylan", "nina simone", "miles davis", "adele", "the beatles", "ella fitzgerald", "bach", "queen"]
CITIES = ["paris", "tokyo", "lima", "oslo", "new york", "cairo", "denver", "madrid"]
PLAYLISTS = ["road trip", "chill", "workout", "sunday morning", "focus"]


def make_split(n: int, seed: int) -> list[tuple[str, str, str]]:
    """Tiny SNIPS-like utterances: ``(seq.in, seq.out, label)``."""
    rng = random.Random(seed)
    rows = []

    def tag(value: str, name: str) -> tuple[list[str], list[str]]:
        words = value.split()
        return words, [f"B-{name}"] + [f"I-{name}"] * (len(words) - 1)

    for _ in range(n):
        kind = rng.randrange(3)
        if kind == 0:
            a, at = tag(rng.choice(ARTISTS), "artist")
            words, tags = [rng.choice(["play", "put", "listen"]), "some"] + a, ["O", "O"] + at
            label = "PlayMusic"
        elif kind == 1:
            c, ct = tag(rng.choice(CITIES), "city")
            words, tags = ["what", "is", "the", "weather", "in"] + c, ["O"] * 5 + ct
            label = "GetWeather"
        else:
            a, at = tag(rng.choice(ARTISTS), "artist")
            p, pt = tag(rng.choice(PLAYLISTS), "playlist")
            words, tags = ["add"] + a + ["to", "my"] + p + ["playlist"], ["O"] + at + ["O", "O"] + pt + ["O"]
            label = "AddToPlaylist"
        rows.append((" ".join(words), " ".join(tags), label))
    return rows


@pytest.fixture(scope="session")
def benchmark(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    for split, n, seed in (("train", 240, 0), ("valid", 30, 1), ("test", 30, 2)):
        folder = root / split
        folder.mkdir()
        rows = make_split(n, seed)
        for name, col in (("seq.in", 0), ("seq.out", 1), ("label", 2)):
            (folder / name).write_text("".join(r[col] + "\n" for r in rows), "utf-8")
    return nlu.load_bio_dataset(root)


@pytest.fixture(scope="session")
def model(benchmark):
    # A fixed number of epochs and no time limit: the same model however busy the machine is.
    return nlu.IntentSlotModel.train(benchmark["train"], validation=benchmark["valid"], epochs=6,
                                     **nlu.NLUConfig.tiny(max_time=None).train_options())


def test_train_on_benchmark_format_and_evaluate(model, benchmark):
    result = model.evaluate(benchmark["test"])
    assert {"intent_accuracy", "slot_f1", "sentence_accuracy"} <= set(result)
    assert all(0.0 <= result[k] <= 1.0 for k in ("intent_accuracy", "slot_f1", "sentence_accuracy"))
    assert result["intent_accuracy"] >= 0.9 and result["slot_f1"] >= 0.8
    history = model.metadata["history"]
    assert 1 <= len(history) <= 6 and "val_slot_f1" in history[0]
    assert model.metadata["stopped"] in ("epochs", "early_stopping")
    assert model.metadata["validation"]["intent_accuracy"] >= 0.9


def test_predict_returns_intent_confidence_slots_attention(model):
    p = model.predict("add nina simone to my road trip playlist")
    intent, confidence, slots, attention = p  # unpacks as documented
    assert intent == p.intent == p["intent"] == "AddToPlaylist"
    assert 0.0 < confidence <= 1.0
    assert slots == {"artist": "nina simone", "playlist": "road trip"}
    assert attention.tokens == ["add", "nina", "simone", "to", "my", "road", "trip", "playlist"]
    assert attention.weights.shape == (8,) and attention.weights.sum() == pytest.approx(1.0, abs=1e-4)
    span = p.spans[0]
    assert p.text[span.start:span.end] == span.value == "nina simone"
    assert [c[0] for c in p.candidates][0] == "AddToPlaylist" and len(p.candidates) == 3
    json.dumps(p.to_dict())  # JSON-ready
    assert "AddToPlaylist" in p._repr_html_()


def test_predict_many_and_unseen_words(model):
    out = model.predict(["what is the weather in reykjavik", "play some Queen"])
    assert [p.intent for p in out] == ["GetWeather", "PlayMusic"]
    assert out[1].slots == {"artist": "Queen"}  # original casing kept
    with pytest.raises(InvalidArgumentError):
        model.predict(42)


def test_save_and_load_by_name_and_path(model, tmp_path, jl_home):
    folder = model.save("music")
    assert folder == jl_home / "nlu" / "music"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "manifest.json", "metadata.json",
                                                         "model.weights.h5", "vocab.json"]
    loaded = nlu.IntentSlotModel.load("music")
    text = "add bach to my focus playlist"
    a, b = model.predict(text), loaded.predict(text)
    assert (a.intent, a.slots) == (b.intent, b.slots)
    assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
    np.testing.assert_allclose(a.attention.weights, b.attention.weights, atol=1e-5)
    with pytest.raises(ModelExistsError):
        model.save("music")
    model.save(tmp_path / "m", overwrite=False)
    assert nlu.IntentSlotModel.load(tmp_path / "m").intents == model.intents


def test_load_errors(model, tmp_path, jl_home):
    with pytest.raises(ModelNotFoundError):
        nlu.IntentSlotModel.load("nothing-here")
    folder = model.save(tmp_path / "m")
    vocab = folder / "vocab.json"
    vocab.write_text(vocab.read_text().replace("playlist", "plaything"))
    with pytest.raises(CorruptModelError, match="checksum"):
        nlu.IntentSlotModel.load(folder)


def test_bad_training_arguments(benchmark):
    with pytest.raises(InvalidArgumentError, match="Received: rnn_unit=8"):
        nlu.IntentSlotModel.train(benchmark["train"], rnn_unit=8)
    with pytest.raises(InvalidArgumentError, match="epochs"):
        nlu.IntentSlotModel.train(benchmark["train"], epochs=0)
    with pytest.raises(InvalidArgumentError, match="dropout"):
        nlu.IntentSlotModel.train(benchmark["train"], dropout=1.5)


def test_train_from_markdown_and_chinese():
    data = """
## intent:add_reminder
- 提醒我[明天](time)[打电话](task)
- 提醒我[后天](time)[买菜](task)
- remind me to [call Bob](task) [tomorrow](time)
## intent:greet
- 你好
- hello
"""
    m = nlu.IntentSlotModel.train(data, epochs=30, **nlu.NLUConfig.tiny(max_time=None).train_options())
    assert m.metadata["stopped"] == "epochs" and len(m.metadata["history"]) == 30
    p = m.predict("提醒我明天买菜")
    assert p.intent == "add_reminder"
    assert p.tokens == list("提醒我明天买菜")


def test_importing_nlu_does_not_import_tensorflow():
    code = ("import sys; from jupyter_llm import nlu; import jupyter_llm.assistant; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'ipywidgets', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_layers_contract():
    from keras import ops

    from jupyter_llm.nlu.layers import AttentionPooling, CharCNN

    pool = AttentionPooling(8)
    x = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32"))
    mask = ops.convert_to_tensor(np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool))
    context, weights = pool(x, mask=mask)
    assert tuple(context.shape) == (2, 4) and tuple(weights.shape) == (2, 5)
    w = np.asarray(weights)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(w[0, 3:] < 1e-6)  # masked positions get no attention
    assert len(pool.weights) == 3
    again = AttentionPooling.from_config(pool.get_config())
    assert again.units == 8
    cnn = CharCNN(num_chars=20, char_dim=4, filters=6)
    out = cnn(ops.convert_to_tensor(np.array([[[2, 3, 0], [0, 0, 0]]], np.int32)))
    assert tuple(out.shape) == (1, 2, 6) and np.all(np.asarray(out)[0, 1] == 0)  # padding word -> zeros
    assert CharCNN.from_config(cnn.get_config()).filters == 6
    with pytest.raises(ValueError, match="Received: units=0"):
        AttentionPooling(0)


def test_a_grown_vocabulary_answers_as_before(model):
    from jupyter_llm.nlu.finetune import SPARE_ROWS, extend_vocabulary

    extra = nlu.load_markdown("## intent:Greet\n- ahoy [captain](person) zebra")
    grown = extend_vocabulary(model, extra)
    assert grown.vocab.words[:len(model.vocab.words)] == model.vocab.words and "zebra" in grown.vocab.words
    assert grown.intents == model.intents + ["Greet"] and "B-person" in grown.vocab.tags
    assert grown.config.num_words == model.config.num_words + SPARE_ROWS  # spare rows for later words
    texts = ["add nina simone to my road trip playlist", "what is the weather in oslo", "play some zebra"]
    for a, b in zip(model.predict(texts), grown.predict(texts)):  # new words start as <unk>, new classes unlikely
        assert (a.intent, a.slots) == (b.intent, b.slots) and a.confidence == pytest.approx(b.confidence, abs=1e-4)


def test_fine_tune_learns_new_examples_and_leaves_the_model_alone(model, benchmark, tmp_path):
    replay = nlu.NLUDataset(list(benchmark["train"])[:60])
    extra = nlu.load_markdown("## intent:PlayMusic\n- blast [rammstein](artist) on the speakers")
    before = model.predict("blast rammstein on the speakers")
    tuned = nlu.fine_tune(model, nlu.NLUDataset(list(extra) * 10 + list(replay)), epochs=5, learning_rate=2e-3, seed=1)
    p = tuned.predict("blast rammstein on the speakers")
    assert (p.intent, p.slots) == ("PlayMusic", {"artist": "rammstein"})
    q = tuned.predict("blast queen on the speakers")  # the new phrasing, with another artist
    assert (q.intent, q.slots) == ("PlayMusic", {"artist": "queen"})
    assert model.predict("blast rammstein on the speakers").to_dict() == before.to_dict()  # unchanged
    assert tuned.evaluate(benchmark["test"])["intent_accuracy"] >= 0.9  # not forgotten
    assert tuned.metadata["fine_tuned"][-1]["epochs"] == 5
    again = nlu.IntentSlotModel.load(tuned.save(tmp_path / "tuned"))  # spare rows load back
    assert again.config.num_words > len(again.vocab.words) and again.predict("blast rammstein on the speakers").slots == p.slots
    with pytest.raises(InvalidArgumentError, match="epochs"):
        nlu.fine_tune(model, extra, epochs=0)
