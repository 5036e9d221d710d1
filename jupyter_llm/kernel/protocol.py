"""The messages of the kernel channel: one envelope, a fixed set of requests.

Every message on the comm target ``jupyter_llm`` is an envelope::

    {"v": 1, "id": "3f2a...", "kind": "request", "name": "generate", "payload": {...}}

``kind`` is ``request`` (front end -> kernel), ``response``, ``event`` or
``error`` (kernel -> front end). Every request gets exactly one ``response`` or
``error`` carrying the request's ``id``; a streaming request sends ``event``
messages with the same ``id`` before it. ``cancel`` stops a running request,
which then answers with its partial result.

The whole protocol (envelope, requests, shapes, events, errors, limits) is
described once, as JSON, in ``protocol.json`` beside this module; :data:`SPEC`
is that file. The front end's ``labextension/src/protocolSpec.ts`` is generated
from it by ``scripts/gen_protocol_ts.py``, which also writes the generation
limits into it from the options table (``GENERATION``);
``tests/test_kernel_protocol.py`` checks both files are what the script makes.
A field type is one of :data:`BASE_TYPES`, ``array<T>`` (T a base type or a
shape of ``SPEC["shapes"]``), or several joined by ``|``; a trailing ``?``
marks an optional field. See ``docs/protocol.md``.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

#: The protocol, as described in ``protocol.json``.
SPEC: dict[str, Any] = json.loads(resources.files(__package__).joinpath("protocol.json").read_text("utf-8"))

VERSION: int = SPEC["version"]
TARGET: str = SPEC["target"]
KINDS: tuple[str, ...] = tuple(SPEC["kinds"])
BASE_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
#: The limits of the requests (``LIMITS["attention"]["max_tokens"]``, ...).
LIMITS: dict[str, Any] = SPEC["limits"]
#: The longest request id accepted.
MAX_ID_LENGTH: int = LIMITS["max_id_length"]

REQUESTS: tuple[str, ...] = tuple(SPEC["requests"])
ERROR_CODES: tuple[str, ...] = tuple(SPEC["errors"]["codes"])


class ProtocolError(Exception):
    """A message or payload the channel cannot accept; answered with an ``error``.

    Attributes:
        code: one of :data:`ERROR_CODES`.
        id: the id of the request it answers, when the message had a usable one.
    """

    def __init__(self, code: str, message: str, id: str | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"Invalid value for argument code. Expected one of {ERROR_CODES}. Received: code={code!r}")
        super().__init__(message)
        self.code = code
        self.id = id


@dataclass(frozen=True)
class Envelope:
    """One message of the channel."""

    kind: str
    name: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"v": VERSION, "id": self.id, "kind": self.kind, "name": self.name, "payload": self.payload}


def response(request: Envelope, payload: dict[str, Any]) -> dict[str, Any]:
    return Envelope("response", request.name, request.id, payload).to_dict()


def event(request_id: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return Envelope("event", name, request_id, payload).to_dict()


def error(request_id: str | None, name: str, code: str, message: str) -> dict[str, Any]:
    return Envelope("error", name, request_id or "", {"code": code, "message": message}).to_dict()


# === Validation ===

def parse_request(data: Any) -> Envelope:
    """Check that ``data`` is a request envelope of a known name with a valid payload.

    Raises:
        ProtocolError: ``invalid_message`` for a malformed envelope,
            ``unknown_request`` for a name outside :data:`REQUESTS`,
            ``invalid_argument`` for a payload that does not match :data:`SPEC`.
    """
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message",
                            f"Expected a message envelope (a JSON object). Received: {_kind_of(data)}.")
    raw_id = data.get("id")
    request_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID_LENGTH else None
    if type(data.get("v")) is not int or data.get("v") != VERSION:  # not True, not 1.0
        raise ProtocolError(
            "invalid_message",
            f"This kernel speaks version {VERSION} of the jupyter_llm protocol. Received: v={data.get('v')!r}; "
            "expected the front end and the kernel's jupyter_llm to be the same release.",
            request_id,
        )
    if request_id is None:
        raise ProtocolError("invalid_message", f"Expected a message id (a non-empty string of at most "
                            f"{MAX_ID_LENGTH} characters). Received: id={_short(raw_id)}.")
    if data.get("kind") != "request":
        raise ProtocolError("invalid_message", f"Expected kind 'request'. Received: kind={_short(data.get('kind'))}.",
                            request_id)
    name = data.get("name")
    if name not in SPEC["requests"]:
        raise ProtocolError("unknown_request",
                            f"Unknown request {_short(name)}. Expected one of: {', '.join(REQUESTS)}.", request_id)
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise ProtocolError("invalid_message",
                            f"Expected the payload to be a JSON object. Received: {_kind_of(payload)}.", request_id)
    extra = set(data) - {"v", "id", "kind", "name", "payload"}
    if extra:
        raise ProtocolError("invalid_message", f"Unexpected envelope field(s) {sorted(extra)}. "
                            "Expected only v, id, kind, name and payload.", request_id)
    try:
        check_fields(payload, SPEC["requests"][name]["payload"], f"the {name} request")
    except ProtocolError as e:
        e.id = request_id
        raise
    return Envelope("request", name, request_id, payload)


def check_fields(value: dict[str, Any], fields: dict[str, str], what: str) -> None:
    """Check the fields of ``value`` against a field spec (``{"name": "string|null?"}``)."""
    unknown = sorted(set(value) - set(fields))
    if unknown:
        allowed = ", ".join(fields) or "none"
        raise ProtocolError("invalid_argument", f"Unknown field(s) {', '.join(unknown)} in {what}. "
                            f"Expected only: {allowed}.")
    for name, type_spec in fields.items():
        optional = type_spec.endswith("?")
        types = type_spec.rstrip("?").split("|")
        if name not in value:
            if optional:
                continue
            raise ProtocolError("invalid_argument", f"Missing field {name} in {what}. Expected {' or '.join(types)}.")
        if not any(is_type(value[name], t) for t in types):
            raise ProtocolError("invalid_argument", f"Invalid value for field {name} in {what}. "
                                f"Expected {' or '.join(types)}. Received: {name}={_short(value[name])}")


def is_type(value: Any, type_name: str) -> bool:
    """Whether ``value`` (decoded JSON) has the protocol type ``type_name``.

    ``type_name`` is a base type, a shape of ``SPEC["shapes"]`` (an object with
    those fields, unknown fields allowed) or ``array<T>`` (every item of type T).
    """
    if type_name.startswith("array<") and type_name.endswith(">"):
        item = type_name[len("array<"):-1]
        return isinstance(value, list) and all(is_type(v, item) for v in value)
    if type_name in SPEC["shapes"]:
        return isinstance(value, dict) and _matches(value, SPEC["shapes"][type_name])
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "null":
        return value is None
    raise ValueError(f"Invalid value for argument type_name. Expected one of {BASE_TYPES}, array<T> or a shape "
                     f"of the protocol. Received: {type_name!r}")


def _matches(value: dict[str, Any], fields: dict[str, str]) -> bool:
    """Whether ``value`` has the fields described (more fields are allowed)."""
    for name, type_spec in fields.items():
        if name not in value:
            if type_spec.endswith("?"):
                continue
            return False
        if not any(is_type(value[name], t) for t in type_spec.rstrip("?").split("|")):
            return False
    return True


def _kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
