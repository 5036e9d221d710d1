"""The warm-up (#13): ``%load_ext`` makes TensorFlow and the default model ready on a thread of its own,
and the first ``%%generate`` says what it waits for instead of a silent ``[*]``.

In-process tests drive a real IPython shell (tests/magics_support.py); a load of the model can be held
back on a gate, so the cell is sure to run while the warm-up is still loading. One test runs a fresh
kernel and reads its messages as they come, as JupyterLab would.
"""

from __future__ import annotations

import threading
import time

import pytest
from magics_support import copy_of, error_of, ip, outputs, provenance_of, published, run, shell  # noqa: F401

from jupyter_llm import store
from jupyter_llm.shell import state_of

PROMPT = "ROMEO:"


def waiting(out) -> bool:
    return provenance_of(out).get("kind") == "waiting"


def generated(out) -> bool:
    return provenance_of(out).get("kind") == "generation" and bool(out["data"]["text/plain"])


@pytest.fixture
def loads(monkeypatch):
    """Every ``LanguageModel.load``, by the name of the thread that called it; ``gate`` holds loads back."""
    from jupyter_llm.model.language_model import LanguageModel

    original = LanguageModel.load.__func__
    calls: list[str] = []
    gate = threading.Event()
    gate.set()

    def load(cls, path, *args, **kwargs):
        calls.append(threading.current_thread().name)
        assert gate.wait(60), "the gate was never opened"
        return original(cls, path, *args, **kwargs)

    monkeypatch.setattr(LanguageModel, "load", classmethod(load))
    return calls, gate


def bundle_default(tiny_lm) -> None:
    """The session's tiny model as the bundled default, ``shakespeare`` (the ip fixture's bundled folder)."""
    copy_of(tiny_lm).save(store.bundled_dir() / "shakespeare")


def reload_with(ip, warm_up: bool | None):
    """Load the extension again, ``JupyterLLM.warm_up`` set (None: left to $JUPYTER_LLM_WARM_UP)."""
    ip.run_line_magic("unload_ext", "jupyter_llm")
    if warm_up is not None:
        ip.config.JupyterLLM.warm_up = warm_up
    ip.run_line_magic("load_ext", "jupyter_llm")
    return state_of(ip)


def opener(ip, gate: threading.Event) -> threading.Thread:
    """A thread that opens ``gate`` once the cell has shown a waiting note (or after 30 s)."""

    def open_when_noted():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(waiting(o) for o in list(published(ip))):
            time.sleep(0.01)
        gate.set()

    thread = threading.Thread(target=open_when_noted)
    thread.start()
    return thread


def test_first_generate_shows_what_it_waits_for_before_the_text(ip, tiny_lm, loads):
    calls, gate = loads
    bundle_default(tiny_lm)
    gate.clear()  # the warm-up's load waits until the cell has said what it waits for
    state = reload_with(ip, True)
    assert state.warm_up.running
    waiter = opener(ip, gate)
    result = run(ip, f"%%generate -n 20 --seed 1\n{PROMPT}")  # at once: no pause after %load_ext
    waiter.join()
    assert result.error_in_exec is None, result.error_in_exec
    shown = published(ip)
    first_text = next(i for i, o in enumerate(shown) if generated(o))
    notes = [provenance_of(o)["message"] for o in shown[:first_text] if waiting(o)]
    assert "loading model shakespeare…" in notes, [provenance_of(o) for o in shown]
    assert notes[-1] in ("loading model shakespeare…", "preparing model shakespeare…")
    assert all(waiting(o) for o in shown[:first_text])  # nothing but the note before the text
    ids = {o["transient"]["display_id"] for o in shown}
    assert len(ids) == 1 and len(outputs(ip)) == 1  # the text took the note's place
    assert outputs(ip)[0]["data"]["text/plain"] == tiny_lm.generate(PROMPT, max_tokens=20, seed=1)
    assert calls == ["jupyter_llm-warm-up"]  # the cell waited for the warm-up's load, not one of its own


def test_llm_waits_for_the_warm_up_and_empties_its_note(ip, tiny_lm, loads):
    calls, gate = loads
    bundle_default(tiny_lm)
    gate.clear()
    reload_with(ip, True)
    waiter = opener(ip, gate)
    result = run(ip, "%llm info")
    waiter.join()
    assert result.error_in_exec is None, result.error_in_exec
    notes = [provenance_of(o)["message"] for o in published(ip) if waiting(o)]
    assert "loading model shakespeare…" in notes and notes[-1] is None  # shown, then emptied
    note, info = outputs(ip)
    assert note["data"]["text/plain"] == "" and provenance_of(info)["kind"] == "info"
    assert calls == ["jupyter_llm-warm-up"]


def test_warm_up_loads_the_default_model_once_and_the_magic_reuses_it(ip, tiny_lm, loads):
    calls, _ = loads
    bundle_default(tiny_lm)
    state = reload_with(ip, True)
    state.warm_up.wait()
    assert state.warm_up.error is None and state.warm_up.key == "bundled:shakespeare"
    assert calls == ["jupyter_llm-warm-up"]
    assert not state.resolver.preparing(state.warm_up.model)  # prepared by the time the warm-up is done
    for seed in (1, 2):
        assert run(ip, f"%%generate -n 10 --seed {seed}\n{PROMPT}").error_in_exec is None
    assert calls == ["jupyter_llm-warm-up"]  # loaded once
    assert state.resolver.default().model is state.warm_up.model
    assert not any(waiting(o) for o in published(ip))  # ready: nothing to wait for, nothing said
    assert provenance_of(outputs(ip)[-1])["fingerprint"] == state.warm_up.model.fingerprint


def test_the_warm_up_can_be_turned_off(ip, tiny_lm, loads, monkeypatch):
    from jupyter_llm.settings import JupyterLLM
    from jupyter_llm.warm_up import ENV

    calls, _ = loads
    monkeypatch.setenv(ENV, "1")
    assert JupyterLLM().warm_up is True  # on by default
    monkeypatch.setenv(ENV, "0")
    assert JupyterLLM().warm_up is False
    monkeypatch.setenv(ENV, "1")
    bundle_default(tiny_lm)
    state = reload_with(ip, False)  # the setting wins over the environment
    assert not state.warm_up.started
    time.sleep(0.2)
    assert calls == []
    assert run(ip, f"%%generate -n 5 --seed 0\n{PROMPT}").error_in_exec is None
    assert calls == ["MainThread"]  # the cell loaded it itself, and said so
    assert provenance_of(published(ip)[0])["message"] == "loading model shakespeare…"


def test_a_failing_warm_up_is_silent_and_the_magic_gives_its_usual_error(ip, monkeypatch):
    hooked: list = []
    monkeypatch.setattr(threading, "excepthook", hooked.append)
    expected = error_of(ip, f"%%generate\n{PROMPT}")  # no model at all, without a warm-up
    published(ip).clear()
    state = reload_with(ip, True)
    state.warm_up.wait()
    assert state.warm_up.error is not None and hooked == []
    assert published(ip) == []  # %load_ext showed nothing of it
    assert error_of(ip, f"%%generate\n{PROMPT}") == expected
    assert expected.startswith("There is no model yet") and "\n" not in expected
    assert all(o["data"]["text/plain"] == "" for o in outputs(ip))  # no note left over the error


def test_a_warm_up_that_breaks_midway_leaves_the_magic_working(ip, tiny_lm, monkeypatch):
    from jupyter_llm.resolver import Resolver

    def broken(self, model):
        raise RuntimeError("the compiler fell over")

    working = Resolver.prepare
    monkeypatch.setattr(Resolver, "prepare", broken)
    bundle_default(tiny_lm)
    state = reload_with(ip, True)
    state.warm_up.wait()
    assert isinstance(state.warm_up.error, RuntimeError)
    monkeypatch.setattr(Resolver, "prepare", working)
    assert run(ip, f"%%generate -n 8 --seed 0\n{PROMPT}").error_in_exec is None
    assert outputs(ip)[-1]["data"]["text/plain"] == tiny_lm.generate(PROMPT, max_tokens=8, seed=0)


def test_loading_a_model_prepares_it_in_the_background(tiny_lm, tmp_path, monkeypatch):
    from jupyter_llm.model.language_model import LanguageModel
    from jupyter_llm.resolver import Resolver

    folder = copy_of(tiny_lm).save(tmp_path / "m")
    threads: list[str] = []
    original = LanguageModel.prepare

    def prepare(self):
        threads.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(LanguageModel, "prepare", prepare)
    resolver = Resolver()
    lm = resolver.load(folder)
    resolver.prepare(lm)  # waits for the background preparation instead of starting another
    assert threads == ["jupyter_llm-prepare"] and not resolver.preparing(lm)
    assert resolver.load(folder) is lm and threads == ["jupyter_llm-prepare"]  # a cached model: nothing again


# === In a fresh kernel, as JupyterLab sees it ===

def test_in_a_fresh_kernel_the_first_generate_says_what_it_waits_for(tmp_path):
    """No pause between %load_ext and %%generate: the note arrives before any generated text."""
    jupyter_client = pytest.importorskip("jupyter_client")
    import os

    from jupyter_llm.resolver import bundled_model

    if bundled_model(None) is None:
        pytest.skip("the bundled default model is not in this checkout (scripts/train_default_models.py)")
    env = {**os.environ, "JUPYTER_LLM_WARM_UP": "1", "JUPYTER_LLM_HOME": str(tmp_path / "home")}
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        kinds: list[tuple[str, str]] = []

        def record(msg):
            if msg["msg_type"] in ("display_data", "update_display_data"):
                meta = msg["content"]["metadata"].get("jupyter_llm", {})
                kinds.append((meta.get("kind"), msg["content"]["data"].get("text/plain", "")))
            elif msg["msg_type"] in ("stream", "error"):
                kinds.append((msg["msg_type"], msg["content"].get("text") or msg["content"].get("evalue")))

        client.execute_interactive("%load_ext jupyter_llm", timeout=120, output_hook=record)
        assert kinds == [], kinds  # %load_ext shows nothing, TensorFlow's start-up notices included
        reply = client.execute_interactive(f"%%generate -n 20 --seed 0\n{PROMPT}", timeout=300, output_hook=record)
        assert reply["content"]["status"] == "ok", kinds
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    first_text = next(i for i, (kind, text) in enumerate(kinds) if kind == "generation" and text)
    before = kinds[:first_text]
    assert before and all(kind == "waiting" for kind, _ in before), kinds
    assert any(text.startswith("loading ") for _, text in before), before
    assert not any(kind == "stream" for kind, _ in kinds), kinds  # no notices of TensorFlow's, no warnings
