"""One name, one model, on every surface (issue #11).

A bundled ``twin`` and the user's saved ``twin`` (other weights). For each
``prefer`` setting and each way of naming it (the plain name, a listing key,
the kernel channel's ``source``), the API, ``%generate -m``, ``%llm use``, the
GeneratePanel's picker, the kernel channel, the assistant's draft skill and the
CLI must pick the same model. One table of cases drives every surface.
"""

from __future__ import annotations

import json

import pytest
from magics_support import copy_of, ip, outputs, provenance_of, run, shell  # noqa: F401

import jupyter_llm as jl
from jupyter_llm import LanguageModel, store

#: (prefer, how the model is named, the channel's source or None, which model it must be)
CASES = [
    ("bundled", "twin", None, "bundled"),
    ("user", "twin", None, "saved"),
    ("bundled", "saved:twin", None, "saved"),
    ("user", "bundled:twin", None, "bundled"),
    ("bundled", "twin", "saved", "saved"),
    ("user", "twin", "bundled", "bundled"),
    ("bundled", "twin", "store", "saved"),  # the protocol's first name for "saved"
]


@pytest.fixture
def twins(ip, tiny_lm):  # noqa: F811
    """The bundled twin (the ``ip`` fixture's bundled folder) and the user's twin; their fingerprints."""
    from jupyter_llm.model.backbone import build_model

    copy_of(tiny_lm).save(store.bundled_dir() / "twin")
    other = build_model(tiny_lm.config)
    other.set_weights([w * 0.5 for w in tiny_lm.model.get_weights()])
    with pytest.warns(UserWarning, match="a bundled model has that name too"):
        LanguageModel(other, tiny_lm.tokenizer, tiny_lm.config, dict(tiny_lm.metadata)).save("twin")
    prints = {"bundled": jl.load("bundled:twin").fingerprint, "saved": jl.load("saved:twin").fingerprint}
    assert prints["bundled"] != prints["saved"]
    return prints


def _prefer(shell, prefer: str) -> None:  # noqa: F811
    run(shell, f"%config JupyterLLM.prefer_user_models = {prefer == 'user'}")


def _state(shell):  # noqa: F811
    from jupyter_llm.shell import state_of

    return state_of(shell)


# === Each surface, asked the way a user asks it ===

def _keyed(spec: str, source: str | None) -> str:
    """Where a surface has no ``source``, the user says it with a key: ``saved:twin``."""
    from jupyter_llm.resolver import origin_of

    return spec if source is None else f"{origin_of(source)}:{spec}"


def via_api(shell, capsys, prefer, spec, source):  # noqa: F811
    return jl.load(_keyed(spec, source), prefer=prefer).fingerprint


def via_generate_magic(shell, capsys, prefer, spec, source):  # noqa: F811
    spec = _keyed(spec, source)
    _prefer(shell, prefer)
    assert run(shell, f"%generate -m {spec} -n 2 --seed 0 To be").error_in_exec is None
    return provenance_of(outputs(shell)[-1])["fingerprint"]


def via_llm_use(shell, capsys, prefer, spec, source):  # noqa: F811
    spec = _keyed(spec, source)
    _prefer(shell, prefer)
    assert run(shell, f"%llm use {spec}").error_in_exec is None
    assert run(shell, "%generate -n 2 --seed 0 To be").error_in_exec is None
    return provenance_of(outputs(shell)[-1])["fingerprint"]


def via_generate_panel(shell, capsys, prefer, spec, source):  # noqa: F811
    from jupyter_llm.widgets import GeneratePanel

    spec = _keyed(spec, source)
    _prefer(shell, prefer)
    panel = GeneratePanel(spec, namespace=shell.user_ns)
    assert panel.picker.value.endswith(":twin")
    if panel._load_job is not None:
        assert panel._load_job.wait(120)
    labels = dict((v, label) for label, v in panel.picker.options)
    assert labels["saved:twin"] == "twin — saved" and labels["bundled:twin"] == "twin — bundled"
    return panel.model.fingerprint


def via_kernel_channel(shell, capsys, prefer, spec, source):  # noqa: F811
    from jupyter_llm.kernel.handlers import Context, list_models
    from jupyter_llm.kernel.models import ModelRegistry

    _prefer(shell, prefer)
    models = ModelRegistry(_state(shell).resolver)
    listing = list_models({}, Context(models=models))
    keys = [m["key"] for m in listing["models"]]
    assert keys.count("saved:twin") == keys.count("bundled:twin") == 1
    return models.get(spec, source).fingerprint


def via_assistant_draft(shell, capsys, prefer, spec, source):  # noqa: F811
    """``%assistant -m SPEC`` asking for a draft: the draft skill continues it with the model SPEC means."""
    spec = _keyed(spec, source)
    _prefer(shell, prefer)
    reply = shell.run_line_magic("assistant", f"-o --intent draft -m {spec} --seed 0 draft an email to Bob about the plan")
    assert reply.intent == "draft" and reply.data["generated"], reply.to_text()
    return reply.data["fingerprint"]


def via_cli(shell, capsys, prefer, spec, source):  # noqa: F811
    from jupyter_llm.cli import main

    spec = _keyed(spec, source)
    capsys.readouterr()
    assert main(["models", "info", spec, "--prefer", prefer, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["fingerprint"]


SURFACES = [via_api, via_generate_magic, via_llm_use, via_generate_panel, via_kernel_channel,
            via_assistant_draft, via_cli]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda f: f.__name__[4:])
@pytest.mark.parametrize("prefer, spec, source, expected", CASES)
def test_every_surface_picks_the_same_model(ip, twins, capsys, surface, prefer, spec, source, expected):  # noqa: F811
    assert surface(ip, capsys, prefer, spec, source) == twins[expected]


def test_without_a_name_every_surface_takes_the_chosen_model(ip, twins):  # noqa: F811
    """``%llm use saved:twin``: %generate, the panel, the channel and the drafts all take the saved twin."""
    from jupyter_llm.kernel.models import ModelRegistry
    from jupyter_llm.widgets import GeneratePanel

    run(ip, "%llm use saved:twin")
    assert run(ip, "%generate -n 2 --seed 0 To be").error_in_exec is None
    assert provenance_of(outputs(ip)[-1])["fingerprint"] == twins["saved"]
    models = ModelRegistry(_state(ip).resolver)
    assert models.default() == "saved:twin" and models.get(None).fingerprint == twins["saved"]
    panel = GeneratePanel(namespace=ip.user_ns)
    assert panel.picker.value == "saved:twin"
    assert _state(ip).assistant.draft_model(None)[0].fingerprint == twins["saved"]
