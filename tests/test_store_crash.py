"""Crash consistency of the store: a writer killed at each step of a save, an overwrite or a delete.

The store honours ``$JUPYTER_LLM_STORE_CRASH_AT=<step>`` (``store.CRASH_POINTS``):
the writing process ``os._exit``s there. After each kill, ``list_models()`` and
``load()`` must see the model as it was before or as it was to become, whole,
and the next operation must leave no ``.NAME.tmp-*``/``.old-*``/``.deleted-*`` debris.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from magics_support import copy_of

import jupyter_llm as jl
from jupyter_llm import store

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from jupyter_llm import store

    op, source = sys.argv[1], Path(sys.argv[2])
    if op == "delete":
        store.delete_model("m")
    else:
        files = {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.name != store.MANIFEST}
        store.write_bundle(store.resolve("m"), files, overwrite=op == "overwrite")
""")

#: Each operation, the steps it passes through, and whether "m" exists before and after it.
CASES = [("save", step, False, True) for step in ("save-writing", "save-written", "save-replaced")] + \
        [("overwrite", step, True, True) for step in store.CRASH_POINTS if step.startswith("save-")] + \
        [("delete", step, True, False) for step in store.CRASH_POINTS if step.startswith("delete-")]


@pytest.fixture(scope="module")
def versions(tiny_lm, tmp_path_factory) -> dict[str, Path]:
    """Two versions of one model, told apart by their metadata.json."""
    root = tmp_path_factory.mktemp("versions")
    old = copy_of(tiny_lm)
    old.metadata["version"] = "old"
    new = copy_of(tiny_lm)
    new.metadata["version"] = "new"
    return {"old": old.save(root / "old"), "new": new.save(root / "new")}


def kill_at(op: str, step: str, source: Path) -> None:
    """Run ``op`` on "m" in another process that exits at ``step``; it must have reached it."""
    env = {**os.environ, store.CRASH_ENV: step}
    done = subprocess.run([sys.executable, "-c", WRITER, op, str(source)], env=env, capture_output=True, text=True)
    assert done.returncode == 86, f"the writer did not stop at {step}: {done.stderr[-2000:]}"


def debris(jl_home: Path) -> list[str]:
    return sorted(p.name for p in (jl_home / "models").iterdir() if p.name.startswith("."))


def version_of_m() -> str | None:
    """Which whole version "m" is ("old" or "new"), or None if it is not there; it must load."""
    listed = [m for m in jl.list_models() if not m.bundled]
    if not listed:
        assert not store.exists("m")
        return None
    [info] = listed
    assert info.name == "m" and info.damaged is None and store.exists("m")
    store.read_bundle("m")  # every checksum verified
    model = jl.load("m")
    assert model.logits("To be").shape[-1] == model.config.vocab_size
    return model.metadata["version"]


@pytest.mark.parametrize("op, step, before, after", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_killed_writer_leaves_the_old_or_the_new_model_whole_and_no_debris(versions, jl_home, op, step,
                                                                               before, after):
    if before:
        store.write_bundle(store.resolve("m"), {p.name: p.read_bytes() for p in versions["old"].iterdir()
                                                if p.name != store.MANIFEST})
    kill_at(op, step, versions["new"])
    seen = version_of_m()
    allowed = {"old" if before else None, ("new" if op != "delete" else None) if after else None}
    assert seen in allowed, f"after a kill at {step}: {seen!r}, expected one of {allowed}"
    assert debris(jl_home) == []  # the listing recovered and cleaned up
    # the next operation works as if nothing had happened, and leaves nothing behind
    files = {p.name: p.read_bytes() for p in versions["new"].iterdir() if p.name != store.MANIFEST}
    store.write_bundle(store.resolve("m"), files, overwrite=True)
    assert debris(jl_home) == [] and jl.load("m").metadata["version"] == "new"
    jl.delete_model("m")
    assert debris(jl_home) == [] and not store.exists("m")


def test_an_overwrite_killed_between_its_renames_still_exists_and_is_not_replaced_by_a_plain_save(versions, jl_home):
    store.write_bundle(store.resolve("m"), {p.name: p.read_bytes() for p in versions["old"].iterdir()
                                            if p.name != store.MANIFEST})
    kill_at("overwrite", "save-moved-aside", versions["new"])
    assert not (jl_home / "models" / "m").exists()  # the kill left it moved aside
    assert store.exists("m")
    with pytest.raises(jl.ModelExistsError):
        store.write_bundle(store.resolve("m"), {"metadata.json": b"{}"})
    assert jl.load("m").metadata["version"] == "old" and debris(jl_home) == []


def test_the_leftovers_of_a_writer_at_work_are_left_alone(jl_home):
    """A live writer holds the name's lock: its temporary folder is not debris until it lets go."""
    live = jl_home / "models" / ".m.tmp-abcd1234"
    live.mkdir(parents=True)
    (live / "model.weights.h5").write_bytes(b"half written")
    with store.name_lock(store.resolve("m")):
        assert [m.name for m in jl.list_models() if not m.bundled] == [] and not store.exists("m")
        assert live.is_dir()
    jl.list_models()
    assert not live.exists() and debris(jl_home) == []
