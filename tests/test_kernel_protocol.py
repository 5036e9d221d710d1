"""The kernel channel's protocol: one JSON description, the TypeScript generated from it; envelopes are checked."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_llm.generation.options import GENERATION
from jupyter_llm.kernel import handlers, protocol
from jupyter_llm.kernel.protocol import LIMITS, SPEC, ProtocolError, check_fields, is_type, parse_request

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "scripts" / "gen_protocol_ts.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_protocol_ts", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# === One description; the TypeScript is generated from it ===

def test_spec_is_the_shipped_protocol_json():
    assert SPEC == json.loads((ROOT / "jupyter_llm" / "kernel" / "protocol.json").read_text("utf-8"))


@pytest.mark.parametrize("name", ["jupyter_llm/kernel/protocol.json", "labextension/src/protocolSpec.ts"])
def test_committed_files_are_exactly_what_the_generator_writes(name):
    """Character for character: a hand edit of either file, or a changed table, fails here."""
    expected = {str(path.relative_to(ROOT)): text for path, text in _generator().render().items()}
    assert name in expected
    actual = (ROOT / name).read_text("utf-8")
    assert actual == expected[name], (
        f"{name} is not what scripts/gen_protocol_ts.py writes. Run: python scripts/gen_protocol_ts.py")


def test_the_generator_check_mode_passes_on_this_checkout():
    out = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_generation_limits_are_the_options_table():
    max_tokens, temperature = GENERATION["max_tokens"], GENERATION["temperature"]
    assert LIMITS["generate"]["max_tokens_high"] == max_tokens.high_for("channel") == 4000
    assert LIMITS["generate"]["max_tokens_low"] == max_tokens.low
    assert LIMITS["generate"]["max_tokens_default"] == max_tokens.default_for("channel")
    assert LIMITS["complete"]["max_tokens_high"] == max_tokens.high_for("completion") == 200
    assert LIMITS["complete"]["max_tokens_low"] == max_tokens.low
    assert LIMITS["complete"]["max_tokens_default"] == max_tokens.default_for("completion") == 24
    assert LIMITS["complete"]["temperature_default"] == temperature.default_for("completion") == 0.5


def test_every_request_has_a_handler_and_every_handler_a_request():
    # cancel is answered by the channel itself (it needs the running requests, not a model).
    assert set(SPEC["requests"]) == set(handlers.HANDLERS) | {"cancel"}
    assert "cancel" not in handlers.HANDLERS
    assert set(handlers.QUICK) <= set(handlers.HANDLERS)


def test_other_limits_are_the_handlers_limits():
    assert handlers.MAX_ATTENTION_TOKENS == LIMITS["attention"]["max_tokens"]
    assert handlers.COMPLETE_CONTEXT_CHARS == LIMITS["complete"]["context_chars"]
    assert handlers.CHUNK_INTERVAL == LIMITS["generate"]["chunk_interval_ms"] / 1000
    assert handlers.COMPLETE_CHUNK_INTERVAL == LIMITS["complete"]["chunk_interval_ms"] / 1000


def test_streaming_requests_send_chunk_events():
    assert [n for n, r in SPEC["requests"].items() if r["events"]] == ["generate", "complete"]
    assert SPEC["requests"]["complete"]["events"] == ["chunk"]
    assert protocol.MAX_ID_LENGTH == LIMITS["max_id_length"]


def test_the_envelope_is_the_described_one():
    env = protocol.Envelope("request", "hello", "x").to_dict()
    assert list(env) == list(SPEC["envelope"])
    check_fields(env, SPEC["envelope"], "the envelope")
    assert env["v"] == SPEC["version"] and SPEC["kinds"] == list(protocol.KINDS)


def test_model_info_and_listing_shapes():
    info = {"key": "saved:poems", "name": "poems", "origin": "saved", "label": "poems — saved",
            "parameters": 12, "tokenizer": "char", "val_loss": None, "created": None}
    listing = {"models": [info], "default": "saved:poems"}
    check_fields(listing, SPEC["requests"]["list_models"]["response"], "listing")
    assert SPEC["model_origins"] == ["variable", "saved", "bundled"]
    assert SPEC["model_source_aliases"] == {"namespace": "variable", "store": "saved"}
    with pytest.raises(ProtocolError, match="models"):
        check_fields({"models": [{**info, "key": 3}], "default": None},
                     SPEC["requests"]["list_models"]["response"], "listing")
    with pytest.raises(ProtocolError, match="default"):
        check_fields({"models": []}, SPEC["requests"]["list_models"]["response"], "listing")


@pytest.mark.parametrize("value, type_name, ok", [
    (["a", "b"], "array<string>", True), ([], "array<string>", True), (["a", 1], "array<string>", False),
    ("a", "array<string>", False), ([{"text": "x"}], "array<object>", True),
])
def test_array_types(value, type_name, ok):
    assert is_type(value, type_name) is ok


def test_spec_uses_known_types_only():
    def types(fields):
        for spec in fields.values():
            for t in spec.rstrip("?").split("|"):
                while t.startswith("array<") and t.endswith(">"):
                    t = t[len("array<"):-1]
                yield t

    groups = [r["payload"] for r in SPEC["requests"].values()] + [r["response"] for r in SPEC["requests"].values()]
    groups += list(SPEC["events"].values()) + list(SPEC["shapes"].values()) + [SPEC["errors"]["payload"]]
    groups.append(SPEC["envelope"])
    used = {t for g in groups for t in types(g)}
    assert used <= set(protocol.BASE_TYPES) | set(SPEC["shapes"])
    for request in SPEC["requests"].values():
        assert set(request["events"]) <= set(SPEC["events"])


def test_importing_the_kernel_side_does_not_import_tensorflow():
    code = "import sys, jupyter_llm.kernel; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# === Envelopes ===

def request(name="hello", payload=None, **over):
    data = {"v": 1, "id": "r1", "kind": "request", "name": name, "payload": payload or {}}
    data.update(over)
    return data


def test_a_valid_request_parses():
    env = parse_request(request("generate", {"model": "m", "prompt": "Hi", "max_tokens": 5, "seed": None}))
    assert (env.kind, env.name, env.id) == ("request", "generate", "r1")
    assert env.payload["max_tokens"] == 5


@pytest.mark.parametrize("data, code, message", [
    ("not a dict", "invalid_message", "Expected a message envelope"),
    (request(v=2), "invalid_message", "version 1"),
    (request(v=True), "invalid_message", "version 1"),
    (request(v=1.0), "invalid_message", "version 1"),
    (request(v="1"), "invalid_message", "version 1"),
    (request(id=""), "invalid_message", "Expected a message id"),
    (request(id="x" * 500), "invalid_message", "Expected a message id"),
    (request(kind="response"), "invalid_message", "Expected kind 'request'"),
    (request(name="rm -rf"), "unknown_request", "Expected one of: hello"),
    (request("assistant", {"text": "hi"}), "unknown_request", "Unknown request 'assistant'"),
    (request("generate", {"model": "m", "prompt": "", "stop": ["a", 1]}), "invalid_argument", "stop"),
    (request(payload=[1]), "invalid_message", "payload to be a JSON object"),
    (dict(request(), extra=1), "invalid_message", "Unexpected envelope field"),
    (request("generate", {"model": "m"}), "invalid_argument", "Missing field prompt"),
    (request("generate", {"model": "m", "prompt": 3}), "invalid_argument", "Expected string. Received: prompt=3"),
    (request("generate", {"model": "m", "prompt": "", "max_tokens": True}), "invalid_argument", "max_tokens"),
    (request("generate", {"model": "m", "prompt": "", "temperature": float("nan")}), "invalid_argument", "temperature"),
    (request("generate", {"model": "m", "prompt": "", "colour": "red"}), "invalid_argument", "Unknown field(s) colour"),
    (request("cancel", {}), "invalid_argument", "Missing field id"),
])
def test_bad_messages_are_refused_with_a_sentence(data, code, message):
    with pytest.raises(ProtocolError) as info:
        parse_request(data)
    assert info.value.code == code
    assert message in str(info.value)


def test_errors_keep_the_request_id_when_it_is_usable():
    with pytest.raises(ProtocolError) as info:
        parse_request(request("generate", {"model": 1, "prompt": ""}))
    assert info.value.id == "r1"
    with pytest.raises(ProtocolError) as info:
        parse_request(request(id=7))
    assert info.value.id is None


def test_outgoing_envelopes():
    env = parse_request(request("hello"))
    assert protocol.response(env, {"a": 1}) == {"v": 1, "id": "r1", "kind": "response", "name": "hello",
                                                "payload": {"a": 1}}
    assert protocol.event("r1", "chunk", {"text": "x"})["kind"] == "event"
    err = protocol.error(None, "generate", "internal_error", "boom")
    assert err["id"] == "" and err["payload"] == {"code": "internal_error", "message": "boom"}
    with pytest.raises(ValueError, match="Expected one of"):
        ProtocolError("no_such_code", "x")
