"""Fine-tuning from a base (#16.1): ``jl.train(text, base=...)``, ``%llm train --base``, ``jupyter-llm train --base``."""

from __future__ import annotations

import hashlib
import html
import shutil
from pathlib import Path

import numpy as np
import pytest
from magics_support import error_of, ip, run, shell  # noqa: F401

import jupyter_llm as jl
from jupyter_llm import store
from jupyter_llm.errors import InvalidArgumentError, ModelNotFoundError
from jupyter_llm.training import finetune

#: Options that fine-tune a tiny base in a second or two.
FAST = dict(epochs=1, steps_per_epoch=10, progress=False, sample_tokens=0, seed=0)

#: Text that uses two characters the base never saw (an accented letter and a Chinese one), heavily.
NEW_TEXT = "un café au lait. 中中中 le café. " * 150


@pytest.fixture(scope="module")
def base_folder(shakespeare_text, tmp_path_factory) -> Path:
    """A tiny char model trained briefly on Shakespeare and saved to a folder (never trained further)."""
    import os

    old = os.environ.get("JUPYTER_LLM_HOME")
    os.environ["JUPYTER_LLM_HOME"] = str(tmp_path_factory.mktemp("base_home"))
    try:
        lm = jl.train(shakespeare_text[:20_000], size="tiny", seq_len=32, batch_size=16, epochs=1,
                      steps_per_epoch=30, progress=False, sample_tokens=0, seed=0)
    finally:
        if old is None:
            os.environ.pop("JUPYTER_LLM_HOME", None)
        else:
            os.environ["JUPYTER_LLM_HOME"] = old
    folder = tmp_path_factory.mktemp("bases") / "bard"
    lm.save(folder)
    return folder


@pytest.fixture
def saved_base(base_folder, jl_home) -> str:
    """The base under the name 'bard' in this test's store."""
    shutil.copytree(base_folder, jl_home / "models" / "bard")
    return "bard"


def files_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


# === The API ===


def test_base_by_name_path_and_model_leaves_the_base_unchanged(saved_base, base_folder, jl_home):
    on_disk = files_digest(jl_home / "models" / saved_base)
    base = jl.load(saved_base, prepare=False)
    fingerprint = base.fingerprint
    text = "Modern notes about models, tests and code. " * 80

    by_name = jl.train(text, base=saved_base, name="mine", **FAST)
    by_path = jl.train(text, base=str(base_folder), **FAST)
    by_model = jl.train(text, base=base, **FAST)

    for lm, label in ((by_name, "bard"), (by_path, str(base_folder)), (by_model, "bard")):
        assert lm is not base and lm.model is not base.model
        assert lm.metadata["base"]["name"] == label
        assert lm.metadata["base"]["fingerprint"] == fingerprint
        assert lm.config.rnn_units == base.config.rnn_units  # the base's size
        assert lm.fingerprint != fingerprint  # trained
    # The base: the object passed in, its files in the store and in the folder, all as they were.
    assert base.fingerprint == fingerprint
    assert files_digest(jl_home / "models" / saved_base) == on_disk
    assert jl.load(saved_base, prepare=False).fingerprint == fingerprint
    assert jl.load(base_folder, prepare=False).fingerprint == fingerprint
    # The saved fine-tuned model records its base; so does the run history.
    assert jl.load("mine", prepare=False).metadata["base"]["name"] == "bard"
    runs = jl.runs()
    assert sorted(runs["base"].dropna().tolist()) == sorted(["bard", str(base_folder), "bard"])


def test_fine_tuning_defaults_and_overrides(base_folder):
    base = jl.load(base_folder, prepare=False)
    text = "Some modern prose to learn from. " * 80
    lm = jl.train(text, base=base, **FAST)
    assert lm.config.learning_rate == pytest.approx(base.config.learning_rate)
    assert jl.runs().iloc[-1]["settings"]["early_stopping"] == finetune.PATIENCE
    lm = jl.train(text, base=base, learning_rate=0.01, early_stopping=5, **FAST)
    assert lm.config.learning_rate == 0.01
    assert jl.runs().iloc[-1]["settings"]["early_stopping"] == 5
    # Without validation text there is nothing to stop early on.
    jl.train(text, base=base, validation_split=0, **FAST)
    assert jl.runs().iloc[-1]["settings"]["early_stopping"] is None


def test_new_characters_grow_the_vocabulary_and_old_ids_stay(base_folder):
    base = jl.load(base_folder, prepare=False)
    old = base.tokenizer
    assert old.unknown_symbols(NEW_TEXT) == ["é", "中"]
    lm = jl.train(NEW_TEXT, base=base, **FAST)
    tok = lm.tokenizer
    assert tok.vocab_size == old.vocab_size + 2 == lm.config.vocab_size
    assert lm.metadata["base"]["new_symbols"] == ["中", "é"]  # most frequent first
    assert tok.unknown_symbols(NEW_TEXT) == []
    sample = "Whose are these? un lait"
    assert tok.encode(sample).tolist() == old.encode(sample).tolist()  # ids of old symbols unchanged
    assert tok.encode("é中").tolist() == [old.vocab_size + 1, old.vocab_size]
    assert tok.unk_id == 0 and tok.encode("Ω").tolist() == [0]  # still unknown: <unk>, as before


def test_grown_rows_start_from_the_base(base_folder):
    base = jl.load(base_folder, prepare=False)
    from jupyter_llm.text.tokenizers.char import CharTokenizer

    symbols = [base.tokenizer.id_to_token(i) for i in range(1, base.tokenizer.vocab_size)]
    copy = finetune.copy_with_vocab(base, CharTokenizer([*symbols, "é"]), 1, seed=0)
    v = base.config.vocab_size
    old_emb = base.model.get_layer("embedding").get_weights()[0]
    new_emb = copy.model.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(new_emb[:v], old_emb)
    assert new_emb.shape == (v + 1, old_emb.shape[1])
    assert np.linalg.norm(new_emb[v] - old_emb.mean(0)) < np.linalg.norm(old_emb.std(0))  # near the mean row
    kernel, bias = base.model.get_layer("logits").get_weights()
    new_kernel, new_bias = copy.model.get_layer("logits").get_weights()
    np.testing.assert_array_equal(new_kernel[:, :v], kernel)
    np.testing.assert_array_equal(new_bias[:v], bias)
    assert new_bias[v] == pytest.approx(bias.mean() - finetune.NEW_BIAS_MARGIN, abs=1e-5)
    assert copy.fingerprint != base.fingerprint and base.model.get_layer("embedding").get_weights()[0].shape[0] == v


def test_a_new_character_is_learned_and_generated(base_folder):
    base = jl.load(base_folder, prepare=False)
    fingerprint = base.fingerprint
    lm = jl.train(NEW_TEXT, base=base, epochs=3, steps_per_epoch=40, learning_rate=0.01, batch_size=16,
                  progress=False, sample_tokens=0, seed=0)
    assert lm.generate("un caf", 1, greedy=True) == "é"
    assert "中" in lm.generate("lait. ", 3, greedy=True)
    assert "é" in "".join(lm.generate("au lait. le caf", 1, temperature=0.7, seed=s) for s in range(5))
    assert base.fingerprint == fingerprint
    with pytest.warns(UserWarning, match="never seen"):
        base.encode_prompt("café")  # the base still does not know it


def test_a_word_base_keeps_its_tokenizer_and_says_so(shakespeare_text):
    base = jl.train(shakespeare_text[:5000], tokenizer="word", size="tiny", seq_len=16, batch_size=8,
                    steps_per_epoch=3, progress=False, sample_tokens=0, seed=0)
    with pytest.warns(UserWarning, match="keeps the base's word tokenizer.*<unk>"):
        lm = jl.train("the transformer and the notebook " * 50, base=base, **FAST)
    assert lm.tokenizer.to_dict() == base.tokenizer.to_dict()


@pytest.mark.parametrize("kwargs, argument", [
    (dict(size="tiny"), "size"),
    (dict(tokenizer="char"), "tokenizer"),
    (dict(config={"rnn_units": 32}), "config"),
    (dict(rnn_units=32), "rnn_units"),
    (dict(resume=True), "resume"),
])
def test_base_with_a_new_model_option_is_one_sentence(base_folder, kwargs, argument):
    with pytest.raises(InvalidArgumentError) as e:
        jl.train("some text " * 50, base=str(base_folder), **kwargs)
    message = str(e.value)
    assert message.startswith(f"Invalid value for argument {argument}. Expected ") and "base=" in message
    assert "Received: " in message and "\n" not in message


def test_base_with_model_and_bad_bases(base_folder):
    base = jl.load(base_folder, prepare=False)
    with pytest.raises(InvalidArgumentError, match=r"argument model\. Expected no model with base="):
        jl.train("some text " * 50, base=base, model=base)
    with pytest.raises(InvalidArgumentError, match=r"argument base\. Expected .*LanguageModel.*Received: base=3"):
        jl.train("some text " * 50, base=3)
    with pytest.raises(ModelNotFoundError):
        jl.train("some text " * 50, base="no-such-model")


# === The magic and the CLI ===


def test_llm_train_base_through_ipython(ip, saved_base, jl_home):
    fingerprint = jl.load(saved_base, prepare=False).fingerprint
    ip.user_ns["notes"] = "café notes in a notebook. " * 80
    result = run(ip, "%llm train notes --base bard --steps-per-epoch 5 --seed 0 --name tuned -o tuned")
    assert result.error_in_exec is None
    lm = ip.user_ns["tuned"]
    assert lm.metadata["base"]["name"] == "bard" and "é" in lm.metadata["base"]["new_symbols"]
    assert store.exists("tuned") and jl.load(saved_base, prepare=False).fingerprint == fingerprint
    # A model variable as the base.
    ip.user_ns["mybase"] = jl.load(saved_base, prepare=False)
    assert run(ip, "%llm train notes --base mybase --steps-per-epoch 3 -o again").error_in_exec is None
    assert ip.user_ns["again"].metadata["base"]["name"] == "bard"
    message = error_of(ip, "%llm train notes --base bard --size tiny")
    assert "Expected no size with base=" in message
    assert "--base" in error_of(ip, "%llm train notes --base")


def test_cli_train_base(capsys, saved_base, tmp_path):
    from jupyter_llm.cli import main

    corpus = tmp_path / "notes.md"
    corpus.write_text("# Notes\n\nThe café opens at nine. " * 80, encoding="utf-8")
    code = main(["train", str(corpus), "--name", "tuned", "--base", "bard", "--steps-per-epoch", "5", "--seed", "0"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Saved 'tuned'" in out
    assert jl.load("tuned", prepare=False).metadata["base"]["name"] == "bard"
    code = main(["train", str(corpus), "--name", "t2", "--base", "bard", "--tokenizer", "word"])
    _, err = capsys.readouterr()
    assert code != 0 and "Expected no tokenizer with base=" in err and len(err.strip().splitlines()) == 1


# === The TrainingPanel's "Start from" ===


def test_panel_start_from_a_saved_model_fine_tunes_a_copy(saved_base, jl_home):
    pytest.importorskip("ipywidgets")
    from jupyter_llm.widgets import TrainingPanel

    fingerprint = jl.load(saved_base, prepare=False).fingerprint
    panel = TrainingPanel(namespace={"notes": NEW_TEXT}, size="tiny", measure_speed=False, seed=0)
    assert panel.start_from.value == "" and ("a new model", "") in panel.start_from.options
    assert "bard" in [v for _, v in panel.start_from.options]
    assert panel.size.layout.display is None and panel.start_note.layout.display == "none"
    panel.start_from.value = "bard"
    # The base's size and tokenizer are kept: their controls are hidden, and the panel says why.
    assert panel.size.layout.display == "none" and panel.tokenizer.layout.display == "none"
    assert panel.seq_len.disabled and panel.learning_rate.disabled
    assert panel.start_note.layout.display is None and "Fine-tuning a copy of 'bard'" in html.unescape(panel.start_note.value)
    panel.steps_per_epoch.value = 5
    panel.train_button.click()
    assert panel.wait(120)
    assert panel.error is None, panel.error
    assert panel.model.metadata["base"]["name"] == "bard" and "é" in panel.model.metadata["base"]["new_symbols"]
    assert panel.model.config.rnn_units == 64  # the base's tiny size
    assert jl.load(saved_base, prepare=False).fingerprint == fingerprint
    # Back to a new model: the controls come back.
    panel.start_from.value = ""
    assert panel.size.layout.display is None and not panel.size.disabled and panel.start_note.value == ""


def test_panel_start_from_an_unknown_model_is_one_sentence(jl_home):
    pytest.importorskip("ipywidgets")
    from jupyter_llm.widgets import TrainingPanel

    with pytest.raises(InvalidArgumentError, match=r"argument base\. Expected .*Received: base='nope'"):
        TrainingPanel(namespace={}, base="nope", measure_speed=False)


def test_freeze_embedding_epochs_keeps_the_embedding_for_the_first_epoch(shakespeare_text):
    text = shakespeare_text[:8000]
    lm = jl.build_model(text, size="tiny", seq_len=16, batch_size=8, seed=0)
    start = lm.model.get_layer("embedding").get_weights()[0].copy()
    seen = []

    def record(event):
        if event.kind == "epoch_end":
            seen.append((lm.model.get_layer("embedding").get_weights()[0].copy(),
                         lm.model.get_layer("logits").get_weights()[1].copy()))

    lm = jl.train(text, model=lm, epochs=2, steps_per_epoch=5, freeze_embedding_epochs=1, on_progress=record,
                  progress=False, sample_tokens=0)
    (emb1, bias1), (emb2, bias2) = seen
    np.testing.assert_array_equal(emb1, start)  # fixed during the first epoch ...
    assert not np.array_equal(emb2, emb1)  # ... trained in the second
    assert not np.array_equal(bias1, lm.model.get_layer("logits").get_weights()[1]) or not np.array_equal(bias2, bias1)
    assert lm.model.get_layer("embedding").trainable
    assert jl.runs().iloc[-1]["settings"]["freeze_embedding_epochs"] == 1
