"""The messages of the kernel channel: one envelope, a fixed set of requests.

Every message on the comm target ``jupyter_llm`` is an envelope::

    {"v": 1, "id": "3f2a...", "kind": "request", "name": "generate", "payload": {...}}

``kind`` is ``request`` (front end -> kernel), ``response``, ``event`` or
``error`` (kernel -> front end). Every request gets exactly one ``response`` or
``error`` carrying the request's ``id``; a streaming request sends ``event``
messages with the same ``id`` before it. ``cancel`` stops a running request,
which then answers with its partial result.

:data:`SPEC` describes the whole protocol as plain JSON. The front end holds the
same description in ``labextension/src/protocol.ts`` (``PROTOCOL``), and
``tests/test_kernel_protocol.py`` checks that the two are equal. A field type is
one of :data:`BASE_TYPES`, or several joined by ``|``; a trailing ``?`` marks an
optional field. See ``docs/protocol.md``.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
TARGET = "jupyter_llm"
KINDS = ("request", "response", "event", "error")
BASE_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
#: The longest request id accepted.
MAX_ID_LENGTH = 128

SPEC: dict[str, Any] = {
    "version": VERSION,
    "target": TARGET,
    "kinds": list(KINDS),
    "requests": {
        "hello": {
            "payload": {"client": "string?", "protocol": "integer?"},
            "events": [],
            "response": {"protocol": "integer", "version": "string", "requests": "array"},
        },
        "list_models": {
            "payload": {},
            "events": [],
            "response": {"models": "array"},
        },
        "generate": {
            "payload": {
                "model": "string",
                "source": "string|null?",
                "prompt": "string",
                "max_tokens": "integer?",
                "temperature": "number?",
                "top_k": "integer|null?",
                "top_p": "number|null?",
                "repetition_penalty": "number?",
                "stop": "array|null?",
                "seed": "integer|null?",
            },
            "events": ["chunk"],
            "response": {"text": "string", "cancelled": "boolean", "model": "string", "warnings": "array"},
        },
        "attention": {
            "payload": {"model": "string", "source": "string|null?", "text": "string"},
            "events": [],
            "response": {"attention": "object"},
        },
        "complete": {
            "payload": {
                "model": "string",
                "source": "string|null?",
                "text": "string",
                "max_tokens": "integer?",
                "temperature": "number?",
                "seed": "integer|null?",
            },
            "events": [],
            "response": {"text": "string", "cancelled": "boolean"},
        },
        "assistant": {
            "payload": {
                "action": "string?",
                "text": "string?",
                "yes": "boolean?",
                "intent": "string|null?",
                "example": "string?",
                "attached": "string|null?",
                "model": "string|null?",
            },
            "events": [],
            "response": {"reply": "object"},
        },
        "cancel": {
            "payload": {"id": "string"},
            "events": [],
            "response": {"cancelled": "boolean"},
        },
    },
    "events": {
        "chunk": {"text": "string"},
        "ready": {"protocol": "integer", "version": "string"},
    },
    "shapes": {
        "model_info": {
            "name": "string",
            "source": "string",
            "parameters": "integer|null",
            "tokenizer": "string|null",
            "val_loss": "number|null",
            "created": "string|null",
        },
    },
    "errors": {
        "payload": {"code": "string", "message": "string"},
        "codes": [
            "invalid_message",
            "unknown_request",
            "invalid_argument",
            "model_not_found",
            "model_error",
            "not_implemented",
            "internal_error",
        ],
    },
    "model_sources": ["namespace", "store", "bundled"],
}

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
    """Whether ``value`` (decoded JSON) has the protocol type ``type_name``."""
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
    raise ValueError(f"Invalid value for argument type_name. Expected one of {BASE_TYPES}. Received: {type_name!r}")


def _kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
