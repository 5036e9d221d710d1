"""The kernel channel's protocol: Python and TypeScript agree; envelopes are checked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_llm.kernel import protocol
from jupyter_llm.kernel.protocol import SPEC, ProtocolError, parse_request

PROTOCOL_TS = Path(__file__).resolve().parents[1] / "labextension" / "src" / "protocol.ts"


def _ts_source() -> str:
    return PROTOCOL_TS.read_text("utf-8")


def _ts_spec() -> dict:
    match = re.search(r"// <protocol-spec>.*?\n(.*?)\n// </protocol-spec>", _ts_source(), re.S)
    assert match, "protocol.ts has no <protocol-spec> block"
    code = "\n".join(line for line in match.group(1).splitlines() if not line.startswith("//")).strip()
    assert code.startswith("export const PROTOCOL = ") and code.endswith(" as const;"), code[:80]
    return json.loads(code[len("export const PROTOCOL = "):-len(" as const;")])


def _ts_interface_keys(name: str) -> list[str]:
    """The member names of a TypeScript interface of protocol.ts (one level deep)."""
    match = re.search(r"export interface " + name + r" \{\n(.*?)\n\}", _ts_source(), re.S)
    assert match, f"protocol.ts has no interface {name}"
    return re.findall(r"^  (\w+)\??:", match.group(1), re.M)


# === Python and TypeScript agree ===

def test_typescript_spec_equals_python_spec():
    assert _ts_spec() == SPEC


def test_typescript_envelope_has_the_python_envelope_fields():
    python_fields = list(protocol.Envelope("request", "hello", "x").to_dict())
    assert _ts_interface_keys("IEnvelope") == python_fields


@pytest.mark.parametrize("interface, section", [("IRequestPayloads", "requests"),
                                                ("IResponsePayloads", "requests"),
                                                ("IEventPayloads", "events")])
def test_typescript_payload_types_cover_every_message(interface, section):
    assert _ts_interface_keys(interface) == list(SPEC[section])


def test_typescript_model_info_matches_the_shape():
    assert _ts_interface_keys("IModelInfo") == list(SPEC["shapes"]["model_info"])


def test_spec_uses_known_types_only():
    def types(fields):
        for spec in fields.values():
            yield from spec.rstrip("?").split("|")

    groups = [r["payload"] for r in SPEC["requests"].values()] + [r["response"] for r in SPEC["requests"].values()]
    groups += list(SPEC["events"].values()) + list(SPEC["shapes"].values()) + [SPEC["errors"]["payload"]]
    used = {t for g in groups for t in types(g)}
    assert used <= set(protocol.BASE_TYPES)
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
