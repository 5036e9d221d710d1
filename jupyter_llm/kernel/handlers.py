"""What the kernel does for each request of the channel.

A handler takes the request's payload (already checked against
``protocol.SPEC``) and a :class:`Context`, and returns the payload of the
response; it raises :class:`~jupyter_llm.JupyterLLMError` or
:class:`~jupyter_llm.kernel.protocol.ProtocolError` for an error. Handlers call
the public API only (``jl.list_models``, ``jl.load``, ``lm.stream``,
``lm.attention``) and know nothing of comms, so tests call them directly.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from .._version import __version__
from ..errors import invalid
from .models import ModelRegistry
from .protocol import REQUESTS, VERSION

#: The most tokens one ``generate`` request may ask for.
MAX_GENERATE_TOKENS = 4000
#: The most tokens one ``complete`` request may ask for, and its default.
MAX_COMPLETE_TOKENS = 200
COMPLETE_TOKENS = 24
#: ``complete`` continues at most this many characters before the cursor (it must be fast).
COMPLETE_CONTEXT_CHARS = 800
#: The most tokens an ``attention`` request may cover: the answer holds T x T weights.
MAX_ATTENTION_TOKENS = 400
#: Streamed text is sent at most this often (seconds), so a fast model does not flood the channel.
CHUNK_INTERVAL = 0.05


@dataclass
class Context:
    """What a handler may use besides its payload.

    Attributes:
        models: lists and loads the models.
        emit: sends an event of the running request: ``emit("chunk", {"text": ...})``.
        cancelled: whether a ``cancel`` for the running request has arrived.
    """

    models: ModelRegistry
    emit: Callable[[str, dict[str, Any]], None] = lambda name, payload: None
    cancelled: Callable[[], bool] = lambda: False


def hello(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Versions: the front end checks ``protocol`` before anything else."""
    return {"protocol": VERSION, "version": __version__, "requests": list(REQUESTS)}


def list_models(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"models": ctx.models.list()}


def generate(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Stream a continuation of ``prompt`` as ``chunk`` events; answer with the whole text.

    The answer's ``text`` is always the concatenation of the chunks sent, also
    when a ``cancel`` stopped the generation (then ``cancelled`` is true).
    """
    max_tokens = _int(payload, "max_tokens", 200, 1, MAX_GENERATE_TOKENS)
    stop = payload.get("stop")
    if stop is not None and not all(isinstance(s, str) and s for s in stop):
        raise invalid("stop", "a list of non-empty strings", stop)
    lm = ctx.models.get(payload["model"], payload.get("source"))
    options = {k: payload[k] for k in ("temperature", "top_k", "top_p", "repetition_penalty", "seed")
               if payload.get(k) is not None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pieces = lm.stream(payload["prompt"], max_tokens=max_tokens, stop=stop or None, **options)
    text, cancelled = _pump(pieces, ctx, send=True)
    return {"text": text, "cancelled": cancelled, "model": payload["model"],
            "warnings": [str(w.message) for w in caught]}


def attention(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The attention map of ``text``, as the payload of the attention mime type."""
    lm = ctx.models.get(payload["model"], payload.get("source"))
    text = payload["text"]
    if not text:
        raise invalid("text", "a non-empty string", text)
    n = len(lm.tokenizer.encode(text))
    if n > MAX_ATTENTION_TOKENS:
        raise invalid("text", f"at most {MAX_ATTENTION_TOKENS} tokens (select less text)", f"{n} tokens")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = lm.attention(text)
    return {"attention": result.to_dict()}


def complete(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A short continuation of the text before the cursor, ending before a blank line."""
    max_tokens = _int(payload, "max_tokens", COMPLETE_TOKENS, 1, MAX_COMPLETE_TOKENS)
    temperature = payload.get("temperature", 0.5)
    text = payload["text"][-COMPLETE_CONTEXT_CHARS:]
    if not text.strip():
        return {"text": "", "cancelled": False}
    lm = ctx.models.get(payload["model"], payload.get("source"))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        pieces = lm.stream(text, max_tokens=max_tokens, temperature=temperature, stop=["\n\n"],
                           seed=payload.get("seed"))
    completion, cancelled = _pump(pieces, ctx, send=False)
    return {"text": completion, "cancelled": cancelled}


def assistant(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """One message to the kernel's assistant (the one ``%assistant`` uses): ``{"reply": Reply.to_dict()}``.

    ``action`` is ``ask`` (default: ``text`` is the message), ``undo``,
    ``teach`` (``intent``, ``example``), ``explain``, ``help`` or ``intents``;
    see :func:`jupyter_llm.assistant.handle_request`. The first message may
    load its models (seconds), so it runs on the worker.
    """
    from ..assistant.channel import handle_request

    return {"reply": _json_safe(handle_request(dict(payload)))}


HANDLERS: dict[str, Callable[[dict[str, Any], Context], dict[str, Any]]] = {
    "hello": hello,
    "list_models": list_models,
    "generate": generate,
    "attention": attention,
    "complete": complete,
    "assistant": assistant,
}
#: Requests answered at once on the thread that received them; the others run on a worker.
QUICK = frozenset({"hello", "list_models"})


def _pump(pieces, ctx: Context, send: bool) -> tuple[str, bool]:
    """Read a stream of text pieces until it ends or the request is cancelled."""
    iterator = iter(pieces)
    parts: list[str] = []
    pending: list[str] = []
    last = time.monotonic()
    cancelled = ctx.cancelled()
    try:
        while not cancelled:
            try:
                piece = next(iterator)
            except StopIteration:
                break
            parts.append(piece)
            if send:
                pending.append(piece)
                if time.monotonic() - last >= CHUNK_INTERVAL:
                    ctx.emit("chunk", {"text": "".join(pending)})
                    pending.clear()
                    last = time.monotonic()
            cancelled = ctx.cancelled()
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator keeps what it made and frees the decoder
    if pending:
        ctx.emit("chunk", {"text": "".join(pending)})
    return "".join(parts), cancelled


def _json_safe(value: Any) -> Any:
    """``value`` with only JSON types: numpy numbers become numbers, other objects their ``str``."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # numpy scalars
        return _json_safe(item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays
        return _json_safe(tolist())
    return str(value)


def _int(payload: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = payload.get(name, default)
    if not low <= value <= high:
        raise invalid(name, f"an integer from {low} to {high}", value)
    return value
