"""Saving and loading: identical logits, names, atomic writes, refusing bad files."""

import json
import os

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm import store

TEXT = "Now is the winter of our discontent"


def test_save_then_load_gives_identical_logits(tiny_lm, tmp_path):
    path = tiny_lm.save(tmp_path / "m")
    clone = jl.load(tmp_path / "m")
    np.testing.assert_array_equal(tiny_lm.logits(TEXT), clone.logits(TEXT))
    assert clone.generate("A", max_tokens=30, seed=1) == tiny_lm.generate("A", max_tokens=30, seed=1)
    assert sorted(os.listdir(path)) == ["config.json", "copied.json", "copied.npy", "manifest.json", "metadata.json",
                                        "model.weights.h5", "tokenizer.json"]  # copied.*: the copied-text index
    meta = json.loads((path / "metadata.json").read_text())
    for key in ("corpus", "metrics", "created", "versions", "parameters"):
        assert key in meta
    assert meta["corpus"]["fingerprint"].startswith("sha256:")


def test_names_live_in_the_store_and_can_be_listed_and_deleted(tiny_lm, jl_home):
    tiny_lm.save("bard")
    assert (jl_home / "models" / "bard" / "manifest.json").is_file()
    [info] = [m for m in jl.list_models() if not m.bundled]
    assert info.name == "bard" and info.tokenizer == "char" and info.parameters == tiny_lm.num_parameters
    assert jl.load("bard").name == "bard"
    jl.delete_model("bard")
    assert [m for m in jl.list_models() if not m.bundled] == []
    with pytest.raises(jl.ModelNotFoundError, match="No model named 'bard'"):
        jl.load("bard")


def test_saving_over_a_name_needs_overwrite(tiny_lm):
    tiny_lm.save("poems")
    with pytest.raises(jl.ModelExistsError, match="overwrite=True"):
        tiny_lm.save("poems")
    tiny_lm.save("poems", overwrite=True)


def test_missing_model_lists_the_available_ones(tiny_lm):
    tiny_lm.save("alpha")
    with pytest.raises(jl.ModelNotFoundError, match="'alpha'"):
        jl.load("beta")
    with pytest.raises(jl.ModelNotFoundError, match="No model at"):
        jl.load("./no/such/folder")


def test_truncated_weights_are_detected(tiny_lm, tmp_path):
    path = tiny_lm.save(tmp_path / "m")
    weights = path / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(jl.CorruptModelError, match="truncated or was modified"):
        jl.load(path)


def test_tampered_config_is_detected(tiny_lm, tmp_path):
    path = tiny_lm.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["rnn_units"] = 1
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(jl.CorruptModelError, match="config.json"):
        jl.load(path)


def test_foreign_folder_and_garbage_manifest(tmp_path):
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "model.pkl").write_bytes(b"\x80\x04junk")
    with pytest.raises(jl.CorruptModelError, match="not a jupyter_llm model"):
        jl.load(tmp_path / "foreign")
    (tmp_path / "foreign" / "manifest.json").write_text("{not json")
    with pytest.raises(jl.CorruptModelError, match="unreadable manifest"):
        jl.load(tmp_path / "foreign")


def test_manifest_cannot_point_outside_the_folder(tiny_lm, tmp_path):
    path = tiny_lm.save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["../../etc/passwd"] = {"size": 1, "sha256": "0"}
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(jl.CorruptModelError, match="unexpected file"):
        jl.load(path)


def test_a_crash_mid_save_leaves_the_previous_version_whole(tiny_lm, tmp_path, monkeypatch):
    path = tiny_lm.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    real_replace = os.replace

    def crash(src, dst):
        if str(dst) == str(path):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        tiny_lm.save(tmp_path / "m", overwrite=True)
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in path.iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name != "jl_home"] == ["m"]  # no temporary folder left behind
    jl.load(path)


def test_refuses_to_replace_a_folder_that_is_not_a_model(tiny_lm, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(jl.ModelExistsError, match="not a jupyter_llm model"):
        tiny_lm.save(tmp_path / "docs", overwrite=True)
    assert (tmp_path / "docs" / "notes.txt").read_text() == "mine"


def test_home_can_be_overridden(jl_home):
    assert store.home() == jl_home and store.models_dir() == jl_home / "models"


def test_a_crash_between_the_renames_is_recovered_on_load(tiny_lm, tmp_path):
    path = tiny_lm.save(tmp_path / "m")
    os.rename(path, tmp_path / ".m.old-deadbeef")  # as if killed right after moving it aside
    np.testing.assert_array_equal(jl.load(path).logits(TEXT), tiny_lm.logits(TEXT))
    assert path.is_dir()
