"""The store against bad input: damaged metadata, hostile names, malformed manifests and configs (issue 12)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from magics_support import copy_of, error_of, ip, outputs, run, shell  # noqa: F401

import jupyter_llm as jl
from jupyter_llm import store


def rehash(folder: Path, name: str, value) -> None:
    """Rewrite ``folder/name`` as the JSON ``value`` and update the manifest, as a careful tamperer would."""
    data = json.dumps(value).encode()
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(manifest))


# === 6: a damaged metadata.json does not break the listing ===

@pytest.mark.parametrize("metadata", [[1, 2], "text", 3, None, {"metrics": [1]}, {"metrics": {"val_loss": "low"}},
                                      {"created": 5}, {"parameters": "many"}, {"tokenizer": ["char"]}])
def test_a_malformed_metadata_is_listed_as_damaged_and_the_rest_still_listed(tiny_lm, jl_home, metadata):
    copy_of(tiny_lm).save("good")
    bad = copy_of(tiny_lm).save("bad")
    rehash(bad, "metadata.json", metadata)
    listed = {m.name: m for m in jl.list_models() if not m.bundled}
    assert set(listed) == {"good", "bad"}
    assert listed["good"].damaged is None and listed["good"].parameters == tiny_lm.num_parameters
    reason = listed["bad"].damaged
    assert reason and "metadata.json" in reason and reason.count(". ") <= 1
    assert listed["bad"].to_dict()["damaged"] == reason


def test_llm_list_shows_the_damaged_model_without_a_traceback(ip, tiny_lm, capsys):
    copy_of(tiny_lm).save("good")
    rehash(copy_of(tiny_lm).save("bad"), "metadata.json", ["not", "an", "object"])
    result = run(ip, "%llm list")
    assert result.error_in_exec is None
    shown = json.dumps(outputs(ip))
    assert "good" in shown and "bad (damaged" in shown


# === 7: names every file system accepts, never written outside the store ===

BAD_NAMES = ["m" * 129, "m" * 300, "é" * 65, "a\x00b", "a\ud800", "a\tb", "con", "LPT1", "nul.txt", "name.",
             "a:b", "a*b", "a?b", 'a"b', "a<b", "a|b", "a\\b" if os.sep == "/" else "a\x7fb"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: repr(n)[:20])
def test_a_bad_name_is_refused_in_one_sentence_and_nothing_is_written(tiny_lm, jl_home, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tmp_path))
    for call in (lambda: copy_of(tiny_lm).save(name), lambda: jl.load(name), lambda: store.exists(name),
                 lambda: jl.delete_model(name)):
        with pytest.raises(jl.InvalidArgumentError, match=r"^Invalid value for argument name\. Expected .*Received: "):
            call()
    assert set(os.listdir(tmp_path)) == before
    assert not (jl_home / "models").exists() or os.listdir(jl_home / "models") == []


def test_the_longest_name_is_accepted(tiny_lm, jl_home):
    name = "m" * store.MAX_NAME_BYTES
    copy_of(tiny_lm).save(name)
    copy_of(tiny_lm).save(name, overwrite=True)
    assert jl.load(name).name == name and [m.name for m in jl.list_models() if not m.bundled] == [name]
    jl.delete_model(name)


def test_a_path_with_an_overlong_part_is_refused_in_one_sentence(tmp_path):
    with pytest.raises(jl.InvalidArgumentError, match="Received"):
        jl.load(str(tmp_path / ("m" * 300)))


@pytest.mark.parametrize("line", ["%generate -m {} Hello", "%llm use {}"])
def test_magics_refuse_an_overlong_name_in_one_sentence(ip, line):
    message = error_of(ip, line.format("m" * 300))
    assert "Expected" in message and "Errno" not in message


def test_two_savers_of_one_name_are_serialised(tiny_lm, jl_home, monkeypatch):
    """A second saver waits for the first's per-name lock, then sees its model and refuses to overwrite it."""
    import shutil
    import threading

    from filelock import FileLock

    target = store.resolve("twice")
    first = store.name_lock(target)
    assert isinstance(first, FileLock)
    waiting = threading.Event()
    real_lock = store.name_lock

    def recording_lock(folder):
        waiting.set()  # the second saver is about to wait for the lock
        return real_lock(folder)

    monkeypatch.setattr(store, "name_lock", recording_lock)
    source = copy_of(tiny_lm).save(jl_home / "source")
    errors = []

    def second():
        try:
            copy_of(tiny_lm).save("twice")
        except Exception as e:  # noqa: BLE001 (recorded for the assertion below)
            errors.append(e)

    with first:  # the first saver holds the name
        thread = threading.Thread(target=second)
        thread.start()
        waiting.wait()
        shutil.copytree(source, target)  # the first saver's model lands while the second waits
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], jl.ModelExistsError)
    assert (target / "manifest.json").read_bytes() == (source / "manifest.json").read_bytes()


def test_one_folder_reached_through_a_link_takes_the_same_lock(jl_home, tmp_path):
    """Two kernels that name one store by different paths (one through a symbolic link) must exclude each other."""
    real = jl_home / "models" / "m"
    real.parent.mkdir(parents=True, exist_ok=True)
    link = tmp_path / "elsewhere"
    link.symlink_to(real.parent, target_is_directory=True)
    assert store.name_lock(link / "m").lock_file == store.name_lock(real).lock_file
    assert store.name_lock(link / "n").lock_file != store.name_lock(real).lock_file


# === 8: malformed manifests and configs are one-sentence CorruptModelErrors ===

@pytest.mark.parametrize("change, field", [
    (lambda m: m.update(format_version="2"), "format_version"),
    (lambda m: m.update(format_version=None), "format_version"),
    (lambda m: m.update(format_version=True), "format_version"),
    (lambda m: m["files"].update({"config.json": "abc"}), "config.json"),
    (lambda m: m["files"].update({"config.json": [1]}), "config.json"),
    (lambda m: m["files"]["config.json"].update(size="12"), "config.json"),
])
def test_a_malformed_manifest_is_a_corrupt_model(tiny_lm, tmp_path, change, field):
    path = copy_of(tiny_lm).save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(jl.CorruptModelError, match="manifest.json") as e:
        jl.load(path)
    assert field in str(e.value)


@pytest.mark.parametrize("field, value", [("seed", "abc"), ("vocab_size", 65.0), ("dropout", "0.1"),
                                          ("rnn_units", 64.0), ("seed", 1.5), ("learning_rate", "fast"),
                                          ("attention_window", "8"), ("lr_schedule", 3), ("extra", [1]),
                                          ("dropout", True), ("seq_len", None)])
def test_a_rehashed_config_of_wrong_types_is_a_corrupt_model(tiny_lm, tmp_path, field, value):
    path = copy_of(tiny_lm).save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config[field] = value
    rehash(path, "config.json", config)
    with pytest.raises(jl.CorruptModelError, match="config.json") as e:
        jl.load(path)
    assert field in str(e.value)
